import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { onTestFinished } from 'vitest'
import { rm } from 'node:fs/promises'
import { main } from '../../cli/cli.ts'
import type { DoctorReport, Finding } from '../../doctor/index.ts'

/** The findings of a report with one id (a check may report per transport). */
export const findingsOf = (report: DoctorReport, id: string): Finding[] => report.findings.filter((item) => item.id === id)

/** `[id, status]` of every finding, for compact assertions. */
export const statuses = (report: DoctorReport) => report.findings.map((item) => [item.id, item.status] as const)

/** Writes a client config into a temporary folder removed after the test; returns its path. */
export async function clientConfigFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-doctor-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, name)
  await writeFile(file, text)
  return file
}

/** Runs `mcp-harness <argv>` in-process and returns its exit code and output. */
export async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const sink = (into: string[]) => new Writable({ write: (chunk, _encoding, done) => (into.push(String(chunk)), done()) })
  const log = console.log
  const info = console.info
  try {
    const code = await main(argv, { stdout: sink(out), stderr: sink(err) })
    return { code, stdout: out.join(''), stderr: err.join('') }
  } finally {
    // The command sends wrangler's console.log notes to stderr; give the test its console back.
    console.log = log
    console.info = info
  }
}
