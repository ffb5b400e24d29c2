/**
 * `parity()`: runs the chosen suites on every target with the same scripted clients, normalizes
 * each run and compares every target with the first one (the reference), then classifies each
 * difference against the baseline.
 */
import { access, mkdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { HarnessError } from '../../core/errors.ts'
import { parseOptions } from '../../core/zod-error.ts'
import { parseTargetSpec, remoteSkipReason, type Target } from '../helpers/targets.ts'
import { entryApplies, loadBaseline, type BaselineEntry } from './baseline.ts'
import { createCapture } from './capture.ts'
import { firstDifference, type RunDifference } from './compare.ts'
import { createContext } from './context.ts'
import { normalizeRun, type NormalizedRun } from './normalize.ts'
import { formatReport } from './report.ts'
import type { ParityScenario, ParitySuite } from './suites/define.ts'
import { DEFAULT_SUITES, PARITY_SUITES } from './suites/index.ts'

const isTarget = (value: unknown): value is Target => !!value && typeof value === 'object' && typeof (value as Target).start === 'function' && typeof (value as Target).stop === 'function'

export const ParityOptionsSchema = z
  .object({
    /** The wrangler config every started target serves (emulator, wrangler-dev, remote, container). */
    config: z.string().min(1).default('wrangler.jsonc'),
    /** Target names (`emulator`, `wrangler-dev`, `remote`, `container`, `url=<url>`) or Target objects; the first is the reference. */
    targets: z.array(z.union([z.string().min(1), z.custom<Target>(isTarget, 'expected a target name or a Target')])).min(2, 'name at least two targets to compare'),
    /** Suite names (`hibernation` is opt-in) or suites of your own (`defineSuite`). */
    suites: z.array(z.union([z.string().min(1), z.custom<ParitySuite>((value) => !!value && typeof value === 'object' && Array.isArray((value as ParitySuite).scenarios), 'expected a suite name or a suite')])).default(DEFAULT_SUITES),
    /** Headers added to every request to `url=` targets (e.g. Authorization for a protected server). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Baseline file, or `false` for none (every difference counts). */
    baseline: z.union([z.string().min(1), z.literal(false)]).optional(),
    /** Folder for report.json, report.txt and each normalized run. */
    out: z.string().min(1).optional(),
    /** How long `hibernate()` waits on targets without on-demand eviction. */
    idleWaitMs: z.number().int().positive().default(12_000),
    /** Progress lines (targets starting, scenarios running). */
    onProgress: z.custom<(line: string) => void>((value) => typeof value === 'function').optional(),
  })
  .strict()
export type ParityOptions = z.input<typeof ParityOptionsSchema>

/** One cell of the table: a scenario on a target. */
export interface ParityCell {
  /** The reference target shows its own outcome; others show how they compare with it. */
  state: 'pass' | 'fail' | 'equal' | 'differs' | 'baselined' | 'skipped'
  /** Why it was skipped, or the baseline's reason. */
  reason?: string
  difference?: RunDifference
  /** Wall time of the scenario on this target. */
  durationMs?: number
}

export interface ParityTargetResult {
  name: string
  status: 'ran' | 'skipped' | 'failed'
  /** One line: why the target was skipped or failed to start. */
  reason?: string
}

export interface ParityReport {
  worker: string
  config: string
  reference: string
  suites: string[]
  targets: ParityTargetResult[]
  scenarios: { id: string; suite: string; cells: Record<string, ParityCell> }[]
  /** Baseline entries that no longer differ (each fails the run). */
  stale: BaselineEntry[]
  /** Differences not in the baseline. */
  unbaselined: number
  baselineFile?: string
  durationMs: number
  /** 0 when every difference is baselined, no entry is stale and every target ran or was skipped on purpose. */
  exitCode: 0 | 1
}

type Run = NormalizedRun | { skipped: string }

/** Runs one scenario on one target and normalizes what the client saw. */
async function runScenario(scenario: ParityScenario, target: Target, options: { headers: Record<string, string>; isUrl: boolean; idleWaitMs: number }): Promise<Run> {
  const needsStateless = scenario.requires?.includes('stateless') && !target.capabilities.stateless
  const missingTransport = scenario.requires?.find((r): r is 'sse' | 'streamable-http' => r !== 'stateless' && !target.capabilities.transports.includes(r))
  if (needsStateless) return { skipped: 'the target has no stateless entry' }
  if (missingTransport) return { skipped: `the target does not serve ${missingTransport}` }
  const capture = createCapture({ extraHeaders: options.isUrl ? options.headers : {} })
  const cleanup: (() => unknown)[] = []
  const ctx = createContext({ target, capture, cleanup, idleWaitMs: options.idleWaitMs })
  const timeoutMs = scenario.timeoutMs ?? 30_000
  const started = performance.now()
  let outcome: 'pass' | 'fail' = 'pass'
  let error: string | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      scenario.run(ctx),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
    ])
  } catch (caught) {
    outcome = 'fail'
    // One line: node:assert spreads expected/actual over several lines.
    error = oneLine(caught instanceof Error ? caught.message : String(caught)).slice(0, 300)
  } finally {
    clearTimeout(timer)
    // Let answers in flight land before the clients close (bounded), so that the end of a run does
    // not cut an exchange on one target and not on the other.
    await capture.settle(3_000)
    await Promise.allSettled(cleanup.reverse().map(async (close) => close()))
    await capture.settle(300)
    capture.close()
  }
  return { ...normalizeRun({ outcome, error, exchanges: capture.exchanges }, target.baseUrl.origin), durationMs: Math.round(performance.now() - started) }
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim()

/**
 * Runs the chosen suites on every target and compares each with the first.
 * @example const report = await parity({ config: 'wrangler.jsonc', targets: ['emulator', 'wrangler-dev'] }); process.exitCode = report.exitCode
 */
export async function parity(input: ParityOptions): Promise<ParityReport & { text: string }> {
  const started = performance.now()
  const options = parseOptions(ParityOptionsSchema, input, 'parity options')
  const progress = options.onProgress ?? (() => {})
  const suites: ParitySuite[] = options.suites.map((name) => {
    if (typeof name !== 'string') return name
    const suite = PARITY_SUITES[name]
    if (!suite) throw new HarnessError('ERR_OPTIONS', `Unknown parity suite "${name}": expected one of ${Object.keys(PARITY_SUITES).join(', ')}.`)
    return suite
  })
  const config = await resolveConfigFile(options.config)
  const targets = options.targets.map((spec) => (typeof spec === 'string' ? parseTargetSpec(spec, { config }) : spec))
  const names = targets.map((target) => target.name)
  const duplicate = names.find((name, i) => names.indexOf(name) !== i)
  if (duplicate) throw new HarnessError('ERR_OPTIONS', `Target "${duplicate}" is named twice: name each target once.`)
  const baselineFile = options.baseline === false ? undefined : (options.baseline ?? (await defaultBaseline(config)))
  const baseline = baselineFile ? await loadBaseline(baselineFile, { optional: options.baseline === undefined }) : { version: 1 as const, differences: [] }

  // Every target runs every scenario; targets run side by side, scenarios one after another (a
  // suite marked concurrent runs its scenarios at once: each waits on its own session).
  const targetResults: ParityTargetResult[] = []
  // The Worker's name as the emulator read it from the config (baseline entries may be scoped to it).
  let workerName: string | undefined
  const runs = new Map<string, Map<string, Run>>()
  await Promise.all(
    targets.map(async (target, index) => {
      const result: ParityTargetResult = { name: target.name, status: 'ran' }
      targetResults[index] = result
      const byScenario = new Map<string, Run>()
      runs.set(target.name, byScenario)
      // `remote` by name reads its credentials from the environment; a Target object brings its own.
      const skip = options.targets[index] === 'remote' ? remoteSkipReason() : undefined
      if (skip) {
        Object.assign(result, { status: 'skipped', reason: skip })
        progress(`${target.name}: skipped (${skip})`)
        return
      }
      progress(`${target.name}: starting`)
      try {
        await target.start()
      } catch (error) {
        Object.assign(result, { status: 'failed', reason: oneLine((error as Error).message) })
        progress(`${target.name}: failed to start: ${result.reason}`)
        await target.stop().catch(() => {})
        return
      }
      try {
        const runOptions = { headers: options.headers, isUrl: target.name.startsWith('url='), idleWaitMs: options.idleWaitMs }
        for (const suite of suites) {
          progress(`${target.name}: ${suite.name} (${suite.scenarios.length} scenarios)`)
          if (suite.concurrent) {
            const done = await Promise.all(suite.scenarios.map((scenario) => runScenario(scenario, target, runOptions)))
            suite.scenarios.forEach((scenario, i) => byScenario.set(scenario.id, done[i]!))
          } else {
            for (const scenario of suite.scenarios) byScenario.set(scenario.id, await runScenario(scenario, target, runOptions))
          }
        }
        if (target.emulator) workerName ??= target.emulator.worker.name
      } finally {
        await target.stop()
      }
    }),
  )

  // Compare each target with the reference, scenario by scenario, and classify against the baseline.
  const reference = targets[0]!.name
  const worker = workerName ?? path.basename(path.dirname(config))
  const used = new Set<BaselineEntry>()
  const stale: BaselineEntry[] = []
  let unbaselined = 0
  const scenarios: ParityReport['scenarios'] = []
  // The target's own line (above the table) says why; cells stay short.
  const skippedReason = (target: ParityTargetResult) => (target.status === 'skipped' ? 'target skipped' : 'target failed to start')
  for (const suite of suites) {
    for (const scenario of suite.scenarios) {
      const cells: Record<string, ParityCell> = {}
      const refTarget = targetResults[0]!
      const refRun = runs.get(reference)!.get(scenario.id)
      cells[reference] = !refRun || refTarget.status !== 'ran' ? { state: 'skipped', reason: skippedReason(refTarget) } : 'skipped' in refRun ? { state: 'skipped', reason: refRun.skipped } : { state: refRun.outcome, durationMs: refRun.durationMs }
      for (const target of targetResults.slice(1)) {
        const run = runs.get(target.name)!.get(scenario.id)
        const entries = baseline.differences.filter((entry) => entryApplies(entry, { target: target.name, scenario: scenario.id, worker }))
        if (target.status !== 'ran' || !run) {
          cells[target.name] = { state: 'skipped', reason: skippedReason(target) }
          entries.forEach((entry) => used.add(entry))
          continue
        }
        if ('skipped' in run || !refRun || 'skipped' in refRun) {
          cells[target.name] = { state: 'skipped', reason: 'skipped' in run ? run.skipped : `not run on ${reference}` }
          entries.forEach((entry) => used.add(entry))
          continue
        }
        const difference = firstDifference(refRun, run)
        const accepted = difference && entries.find((entry) => entry.exchange === difference.exchange)
        if (accepted) used.add(accepted)
        const base = { durationMs: run.durationMs }
        cells[target.name] = !difference ? { state: 'equal', ...base } : accepted ? { state: 'baselined', reason: accepted.reason, difference, ...base } : { state: 'differs', difference, ...base }
        if (difference && !accepted) unbaselined++
      }
      scenarios.push({ id: scenario.id, suite: suite.name, cells })
    }
  }
  // An entry about a target and scenario that ran here but matched no difference is stale.
  const ranIds = new Set(scenarios.map((s) => s.id))
  const comparedTargets = new Set(targetResults.slice(1).map((t) => t.name))
  for (const entry of baseline.differences) {
    if (used.has(entry) || !comparedTargets.has(entry.target) || !ranIds.has(entry.scenario) || (entry.worker && entry.worker !== worker)) continue
    stale.push(entry)
  }
  const failedTargets = targetResults.some((target) => target.status === 'failed')
  const report: ParityReport = {
    worker,
    config: path.relative(process.cwd(), config) || config,
    reference,
    suites: suites.map((suite) => suite.name),
    targets: targetResults,
    scenarios,
    stale,
    unbaselined,
    ...(baselineFile ? { baselineFile: path.relative(process.cwd(), baselineFile) } : {}),
    durationMs: Math.round(performance.now() - started),
    exitCode: unbaselined > 0 || stale.length > 0 || failedTargets ? 1 : 0,
  }
  const text = formatReport(report)
  if (options.out) await writeOut(options.out, report, text, runs)
  return { ...report, text }
}

/** The wrangler config file: the path itself, or the wrangler.jsonc / .json / .toml in that folder. */
async function resolveConfigFile(configPath: string): Promise<string> {
  const resolved = path.resolve(configPath)
  const info = await stat(resolved).catch(() => undefined)
  if (info?.isFile()) return resolved
  if (info?.isDirectory()) {
    for (const name of ['wrangler.jsonc', 'wrangler.json', 'wrangler.toml']) if (await access(path.join(resolved, name)).then(() => true, () => false)) return path.join(resolved, name)
  }
  throw new HarnessError('ERR_CONFIG', `Failed to find the wrangler config "${configPath}": expected a wrangler.jsonc / .json / .toml file or a folder holding one.`)
}

/** `parity-baseline.yml` in the current folder, else beside the config, else the package's own (for its reference server). */
async function defaultBaseline(config: string): Promise<string> {
  const candidates = [path.resolve('parity-baseline.yml'), path.join(path.dirname(config), 'parity-baseline.yml')]
  for (const file of candidates) if (await access(file).then(() => true, () => false)) return file
  return PACKAGE_BASELINE
}

/** The baseline of this package's reference server (server/wrangler.jsonc). */
export const PACKAGE_BASELINE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parity-baseline.yml')

const slug = (id: string) => id.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '').slice(0, 120)

async function writeOut(dir: string, report: ParityReport, text: string, runs: Map<string, Map<string, Run>>): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
  await writeFile(path.join(dir, 'report.txt'), text)
  for (const [target, byScenario] of runs) {
    const folder = path.join(dir, 'runs', slug(target))
    await mkdir(folder, { recursive: true })
    for (const [id, run] of byScenario) await writeFile(path.join(folder, `${slug(id)}.json`), `${JSON.stringify(run, null, 2)}\n`)
  }
}
