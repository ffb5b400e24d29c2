/**
 * Small helpers every benchmark shares: percentiles, rounding, the results file and the markdown table.
 * @example await writeResult('platform', { warm: { p50: 2.1 } })
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')

/** Rounds to 0.1 (ms resolution that means something on a shared machine). */
export function round(value: number): number {
  return Math.round(value * 10) / 10
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}

/** p50 / p95 / min / max of a sample, rounded. */
export function summarize(values: number[]): { n: number; p50: number; p95: number; min: number; max: number } {
  return { n: values.length, p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), min: round(Math.min(...values)), max: round(Math.max(...values)) }
}

/** What the numbers were measured on. */
export function machine(): Record<string, unknown> {
  return { cpus: os.cpus().length, node: process.version, load: os.loadavg().map(round) }
}

/** Writes `bench/results/<bench>.json` and returns its path. */
export async function writeResult(bench: string, data: Record<string, unknown>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${bench}.json`)
  await writeFile(file, `${JSON.stringify({ bench, date: new Date().toISOString(), machine: machine(), ...data }, null, 2)}\n`)
  return file
}

/** A markdown table from a header row and rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
