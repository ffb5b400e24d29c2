/**
 * Pictures where failures happen: with `MCP_HARNESS_REPORT=on-failure` (the default when `CI` is set)
 * a failing test writes the report of its transcript next to the test results and says where.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { TranscriptEvent } from '../core/transcript.ts'
import { transcriptModel } from './model.ts'
import { renderModel, renderReport } from './render.ts'

export { reportMode, type ReportMode } from './mode.ts'

/** `tools/call fails after eviction` -> `tools-call-fails-after-eviction`. */
function fileName(testName: string): string {
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
  return `${slug || 'test'}.html`
}

export interface ReportOnFailureOptions {
  /** Where reports go; default `MCP_HARNESS_REPORT_DIR`, else `test-results/mcp-harness` under the current folder. */
  dir?: string
  /** Only the events from this position on (what the failing test itself caused). */
  fromSeq?: number
}

/**
 * Writes `<dir>/<test name>.html` for the emulator's transcript and returns its path.
 * @example onTestFailed(() => console.error(`report: ${reportOnFailure(emulator, 'my test')}`))
 */
export function reportOnFailure(emulator: { transcript: { events: readonly TranscriptEvent[] } }, testName: string, options: ReportOnFailureOptions = {}): string {
  const dir = path.resolve(options.dir ?? process.env.MCP_HARNESS_REPORT_DIR ?? path.join('test-results', 'mcp-harness'))
  const fromSeq = options.fromSeq ?? 0
  // Hop reports arrive after the answer they belong to: an exchange an earlier test started is not this test's.
  const earlier = new Set<unknown>()
  for (const event of emulator.transcript.events) if (event.seq < fromSeq && event.exchange !== undefined) earlier.add(event.exchange)
  const events = emulator.transcript.events.filter((event) => event.seq >= fromSeq && (event.exchange === undefined || !earlier.has(event.exchange)))
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, fileName(testName))
  writeFileSync(file, renderModel(transcriptModel(events, testName)))
  return file
}

/**
 * Writes the report of any input `renderReport` accepts to `<dir>/<name>.html` and returns its path:
 * what `replay` and `parity` do on a mismatch (unless `MCP_HARNESS_REPORT=off`).
 */
export function writeReportFile(input: unknown, name: string, dir = process.env.MCP_HARNESS_REPORT_DIR ?? path.join('test-results', 'mcp-harness')): string {
  const file = path.join(path.resolve(dir), fileName(name))
  const html = renderReport(input)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, html)
  return file
}
