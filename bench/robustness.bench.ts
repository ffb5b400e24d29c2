/**
 * Robustness benchmark (issue 11 item 7): fuzzed input through the front door, session churn while
 * evictions / crashes / restarts fire, and sessions per emulator until a warm call's p95 passes
 * 50 ms, with memory per idle session, compared with `wrangler dev` on the same Worker in the same run.
 * Seeded: `--seed <n>` replays a run; every failure prints its seed and input.
 * Writes bench/results/robustness.json and prints a markdown table.
 * @example npm run bench -- robustness
 * @example npm run bench -- robustness --seed 7 --fuzz 2000 --sessions 40 --calls 20 --only fuzz,churn
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createEmulator } from '../emulator/index.ts'
import { connectClient, type ScriptedClient } from '../scenarios/helpers/clients.ts'
import { wranglerDevTarget } from '../scenarios/helpers/targets.ts'
import { describeFailure, runChurn, runFuzz, treeRss } from '../scenarios/robustness/robustness.ts'
import { markdownTable, numberArg, percentile, round, summarize, writeResult } from './lib.ts'

const only = (() => {
  const index = process.argv.indexOf('--only')
  return index > 0 ? new Set(process.argv[index + 1]!.split(',')) : new Set(['fuzz', 'churn', 'scale'])
})()
const SEED = numberArg('seed', 20261202)
const FUZZ = numberArg('fuzz', 10_000)
const SESSIONS = numberArg('sessions', 200)
const CALLS = numberArg('calls', 50)
const SCALE_MAX = numberArg('scale-max', 500)
const SCALE_STEP = numberArg('scale-step', 25)
const SCALE_BUDGET_MS = numberArg('scale-budget-s', 180) * 1000
const P95_LIMIT = 50
const CONFIG = 'server/wrangler.jsonc'

const load = () => os.loadavg().map(round).join(' / ')
const RESULT_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'robustness.json')
// A run of some sections (--only) keeps the other sections of the last run, each with its own date and load.
const previous = await readFile(RESULT_FILE, 'utf8').then((text) => JSON.parse(text) as Record<string, unknown>, (): Record<string, unknown> => ({}))
const report: Record<string, unknown> = { fuzz: previous.fuzz, churn: previous.churn, scale: previous.scale }
const save = () => writeResult('robustness', report)
const rows: (string | number)[][] = []
let failed = false

async function sessionWorks(url: URL): Promise<boolean> {
  try {
    const client = await connectClient(url, { transport: 'streamable-http' })
    const ok = (await client.text('add', { a: 2, b: 3 })) === '5'
    await client.close()
    return ok
  } catch {
    return false
  }
}

// 1. Fuzz through the front door.
if (only.has('fuzz')) {
  const emulator = await createEmulator({ config: CONFIG, workerLog: 'silent' })
  try {
    const http = await connectClient(emulator.url, { transport: 'streamable-http' })
    const sse = await connectClient(emulator.url, { transport: 'sse' })
    const started = performance.now()
    const fuzz = await runFuzz(emulator.url, {
      seed: SEED,
      runs: FUZZ,
      sessions: [`h:${http.sessionId()}`, `s:${sse.sessionId()}`],
      timeoutMs: 10_000,
      concurrency: 8,
      onProgress: (done) => process.stdout.write(`fuzz ${done}/${FUZZ}\r`),
    })
    const wallMs = Math.round(performance.now() - started)
    const survived = (await http.text('add', { a: 1, b: 1 })) === '2' && (await sessionWorks(emulator.url))
    await http.close()
    await sse.close()
    const crashes = survived ? 0 : 1
    report.fuzz = { date: new Date().toISOString(), ...fuzz, failures: fuzz.failures.map(describeFailure), crashes, sessionWorksAfter: survived, wallMs, load: load() }
    for (const failure of fuzz.failures) console.error(describeFailure(failure))
    rows.push(['fuzz: inputs tried', fuzz.inputs, `seed ${SEED}; ${Object.entries(fuzz.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}; ${round(wallMs / 1000)} s; load ${load()}`])
    rows.push(['fuzz: crashes / hangs (> 10 s)', `${crashes} / ${fuzz.hangs}`, survived ? 'a normal MCP session works after the run' : 'a normal MCP session FAILED after the run'])
    rows.push(['fuzz: errors without a message', fuzz.silentErrors, `plus ${fuzz.parserRejected} bare 400/431 from Node's HTTP parser (malformed framing, connection closed)`])
    rows.push(['fuzz: statuses', Object.entries(fuzz.statuses).map(([k, v]) => `${k}: ${v}`).join(', '), ''])
    if (crashes || fuzz.hangs || fuzz.silentErrors) failed = true
    await save()
  } finally {
    await emulator.dispose()
  }
}

// 2. Churn: sessions x calls across both transports while faults fire.
if (only.has('churn')) {
  const emulator = await createEmulator({ config: CONFIG, workerLog: 'silent' })
  try {
    const churn = await runChurn(
      { url: emulator.url, evict: () => emulator.evict(), crash: () => emulator.crash(), restart: () => emulator.restart(), events: () => emulator.transcript.events },
      { seed: SEED, sessions: SESSIONS, calls: CALLS, parallel: 20, faultEveryMs: 1_000, callTimeoutMs: 30_000, onSessionDone: (done) => process.stdout.write(`churn ${done}/${SESSIONS} sessions\r`) },
    )
    report.churn = { date: new Date().toISOString(), ...churn, load: load() }
    await save()
    rows.push(['churn: sessions x calls', `${SESSIONS} x ${CALLS}`, `seed ${SEED}; both transports; ${round(churn.wallMs / 1000)} s; load ${load()}`])
    rows.push(['churn: faults fired', Object.entries(churn.faults).map(([k, v]) => `${k} ${v}`).join(', '), ''])
    rows.push(['churn: answered / clear errors / not attempted', `${churn.answered} / ${churn.clearErrors} / ${churn.notAttempted}`, `${churn.reconnects} reconnects, ${churn.reconnectFailures} clients could not reconnect within 30 s`])
    rows.push(['churn: lost by transport', Object.entries(churn.byTransport).map(([k, v]) => `${k} ${v.lost} of ${v.answered + v.clearErrors + v.lost}`).join(', '), ''])
    rows.push(['churn: lost / duplicated / wrong', `${churn.lost} / ${churn.duplicated} / ${churn.wrongAnswers}`, `transcript: ${churn.unansweredInTranscript} requests without a response outside errored sessions`])
    // Lost calls are a finding reported above (legacy SSE after crash()); a duplicate or a wrong answer is a failure.
    if (churn.duplicated || churn.wrongAnswers || churn.byTransport['streamable-http']!.lost) failed = true
  } finally {
    await emulator.dispose()
  }
}

// 3. Scale: sessions held until p95 of a warm add passes 50 ms; memory per idle session.
interface ScaleResult {
  sessionsAtLimit: number
  p95BySessions: { sessions: number; p50: number; p95: number; rssMb: number; load: string }[]
  baselineRssMb: number
  mbPerSession: number
  stoppedBecause: string
}
async function scale(url: URL, rootPids: () => number[]): Promise<ScaleResult> {
  const rss = () => rootPids().reduce((sum, pid) => sum + treeRss(pid), 0) / 1024 / 1024
  const clients: ScriptedClient[] = []
  const started = performance.now()
  const baselineRssMb = round(rss())
  const steps: ScaleResult['p95BySessions'] = []
  let stoppedBecause = `reached ${SCALE_MAX} sessions`
  let sessionsAtLimit = 0
  while (clients.length < SCALE_MAX) {
    for (let i = 0; i < SCALE_STEP; i++) {
      const client = await connectClient(url, { transport: 'streamable-http', name: `scale-${clients.length}` })
      await client.text('add', { a: 1, b: 1 })
      clients.push(client)
    }
    // Idle memory first (every session warmed once, none busy), then the warm-call sample.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const rssMb = round(rss())
    const samples: number[] = []
    for (let i = 0; i < 40; i++) {
      const client = clients[(i * 7919) % clients.length]!
      const t = performance.now()
      await client.text('add', { a: i, b: 1 })
      samples.push(performance.now() - t)
    }
    const s = summarize(samples)
    steps.push({ sessions: clients.length, p50: s.p50, p95: s.p95, rssMb, load: load() })
    process.stdout.write(`scale ${clients.length} sessions p95 ${s.p95} ms rss ${rssMb} MB\r`)
    if (s.p95 > P95_LIMIT) {
      stoppedBecause = `p95 ${s.p95} ms > ${P95_LIMIT} ms at ${clients.length} sessions`
      break
    }
    sessionsAtLimit = clients.length
    if (performance.now() - started > SCALE_BUDGET_MS) {
      stoppedBecause = `time budget ${SCALE_BUDGET_MS / 1000} s`
      break
    }
  }
  await Promise.all(clients.map((client) => client.close().catch(() => {})))
  const last = steps.at(-1)
  const mbPerSession = last ? Math.round(((last.rssMb - baselineRssMb) / last.sessions) * 100) / 100 : NaN
  return { sessionsAtLimit, p95BySessions: steps, baselineRssMb, mbPerSession, stoppedBecause }
}

if (only.has('scale')) {
  const emulator = await createEmulator({ config: CONFIG, workerLog: 'silent' })
  let ours: ScaleResult
  try {
    // The emulator lives in this process: its tree is Node + workerd (+ the clients, as for wrangler).
    ours = await scale(emulator.url, () => [process.pid])
  } finally {
    await emulator.dispose()
  }
  const wrangler = wranglerDevTarget({ config: CONFIG, readyTimeoutMs: 120_000 })
  let theirs: ScaleResult | { error: string }
  try {
    await wrangler.start()
    // wrangler dev is a child of this process: this tree is the bench Node (clients), wrangler and its workerd.
    theirs = await scale(wrangler.baseUrl, () => [process.pid])
  } catch (error) {
    theirs = { error: (error as Error).message }
    failed = true
  } finally {
    await wrangler.stop()
  }
  report.scale = { date: new Date().toISOString(), emulator: ours, wranglerDev: theirs, p95LimitMs: P95_LIMIT, note: 'RSS of every process under the bench (Node with the clients, workerd, and wrangler for wrangler dev), from /proc' }
  rows.push(['scale: sessions held at p95 <= 50 ms (emulator)', ours.sessionsAtLimit, `${ours.stoppedBecause}; load ${ours.p95BySessions.at(-1)?.load}`])
  rows.push(['scale: MB per idle session (emulator)', ours.mbPerSession, `baseline ${ours.baselineRssMb} MB`])
  if ('error' in theirs) rows.push(['scale: wrangler dev', 'not measured', theirs.error])
  else {
    rows.push(['scale: sessions held at p95 <= 50 ms (wrangler dev)', theirs.sessionsAtLimit, `${theirs.stoppedBecause}; load ${theirs.p95BySessions.at(-1)?.load}`])
    rows.push(['scale: MB per idle session (wrangler dev)', theirs.mbPerSession, `baseline ${theirs.baselineRssMb} MB`])
  }
}

const file = await save()
console.log(markdownTable(['measure', 'value', 'note'], rows))
console.log(`\nWritten: ${file}`)
void percentile
process.exit(failed ? 1 : 0)
