/**
 * Small helpers every benchmark shares: percentiles, rounding, the results file and the markdown table.
 * @example await writeResult('platform', { warm: { p50: 2.1 } })
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')

/** The number after `--<name>` on the command line, or `fallback` when the flag is not given. */
export function numberArg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? Number(process.argv[index + 1]) : fallback
}

/** The word after `--<name>` on the command line, or undefined when the flag is not given. */
export function textArg(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? process.argv[index + 1] : undefined
}

/** Rounds to 0.1 (ms resolution that means something on a shared machine). */
export function round(value: number): number {
  return Math.round(value * 10) / 10
}

/** Where the p-th percentile (nearest rank) sits in `length` sorted values. */
function rank(length: number, p: number): number {
  return Math.min(length - 1, Math.max(0, Math.ceil((p / 100) * length) - 1))
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[rank(sorted.length, p)] ?? NaN
}

/**
 * The ratio `percentile(a) / percentile(b)`, unrounded, and its 90% confidence interval by a paired
 * block bootstrap: `a[i]` and `b[i]` are the samples of round `i` (measured next to each other), and
 * each resample draws whole rounds, the same for both sides, so drift between rounds stays paired
 * and the correlation inside a round is kept. Seeded: the same samples give the same interval.
 */
export function ratioWithInterval(a: number[][], b: number[][], p: number, resamples = 1_000, seed = 1): { ratio: number; low: number; high: number } {
  if (a.length !== b.length || a.length === 0) throw new Error(`ratioWithInterval needs the same number of rounds on both sides (got ${a.length} and ${b.length})`)
  const ratio = percentile(a.flat(), p) / percentile(b.flat(), p)
  // mulberry32: a small, well-mixed seeded generator (Math.random cannot be seeded).
  let state = seed >>> 0
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  // Typed arrays sort numerically without a comparator: the resamples cost milliseconds, not seconds.
  const at = (values: Float64Array) => values.sort()[rank(values.length, p)]!
  const ratios: number[] = []
  for (let r = 0; r < resamples; r++) {
    const picks = Array.from({ length: a.length }, () => Math.floor(random() * a.length))
    const left = new Float64Array(picks.reduce((sum, i) => sum + a[i]!.length, 0))
    const right = new Float64Array(picks.reduce((sum, i) => sum + b[i]!.length, 0))
    let l = 0
    let m = 0
    for (const i of picks) {
      left.set(a[i]!, l)
      l += a[i]!.length
      right.set(b[i]!, m)
      m += b[i]!.length
    }
    ratios.push(at(left) / at(right))
  }
  return { ratio, low: percentile(ratios, 5), high: percentile(ratios, 95) }
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
