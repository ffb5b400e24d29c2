/**
 * The hop tap's cost inside workerd, without the front door, the Node client or process placement
 * in the figure. The reference server runs behind an entry (`bench/hop-isolate/`) that calls the
 * server's own `fetch` in a loop inside the isolate, once with the env the tap observes and once with
 * the runtime's untapped env, in blocks that alternate in one isolate. Each figure is workerd's wall
 * time per `tools/call add`; `bare2` is a second untapped session, so bare2 / bare is the noise floor
 * of the same run. The platform bench (`npm run bench -- platform`) measures what a client sees; this
 * one splits off what the tap itself adds. SSE blocks vary more than Streamable HTTP ones: an SSE
 * stream belongs to the request that opened it, so each block opens a session of its own.
 * Writes bench/results/hop-isolate.json and prints a markdown table.
 * @example npm run bench -- hop-isolate
 * @example npm run bench -- hop-isolate --rounds 40 --calls 512   # a tighter interval (SSE blocks take 4 × calls)
 * @example npm run bench -- hop-isolate --only sh32                # one shape: sh, sh32, sse, sse32
 */
import { createEmulator } from '../emulator/index.ts'
import { markdownTable, numberArg, percentile, ratioWithInterval, textArg, writeResult } from './lib.ts'

const ROUNDS = numberArg('rounds', 20)
const CALLS = numberArg('calls', 256)
for (const [flag, value] of Object.entries({ rounds: ROUNDS, calls: CALLS })) {
  if (!(value > 0)) throw new Error(`--${flag} needs a positive number (got ${textArg(flag)})`)
}
const ONLY = textArg('only')
const KINDS = ['tap', 'bare', 'bare2'] as const
type Kind = (typeof KINDS)[number]
// An SSE call costs a quarter of a Streamable HTTP one inside workerd: its blocks take four times the
// calls, so that every block lasts long enough for workerd's millisecond clock.
const SHAPES = [
  { id: 'sh', name: 'Streamable HTTP: add', calls: CALLS },
  { id: 'sh32', name: 'Streamable HTTP: 32 concurrent add', calls: CALLS },
  { id: 'sse', name: 'SSE: add', calls: CALLS * 4 },
  { id: 'sse32', name: 'SSE: 32 concurrent add', calls: CALLS * 4 },
].filter((shape) => !ONLY || shape.id === ONLY)
if (SHAPES.length === 0) throw new Error(`--only takes one of sh, sh32, sse, sse32 (got ${ONLY})`)

const emulator = await createEmulator({ config: 'bench/hop-isolate/wrangler.jsonc', workerLog: 'silent' })

/** One block: `calls` calls of `shape` with `kind`'s env, inside workerd; answers ms per call. */
async function block(kind: Kind, shape: string, calls: number): Promise<number> {
  const response = await emulator.fetch(`/__hop-isolate?kind=${kind}&shape=${shape}&calls=${calls}`)
  const text = await response.text()
  if (!response.ok) throw new Error(`${kind} ${shape}: the Worker answered ${response.status}: ${text.slice(0, 300)}`)
  const { ms } = JSON.parse(text) as { ms: number }
  if (!(ms > 0)) throw new Error(`${kind} ${shape}: a block of ${calls} calls took ${ms} ms by workerd's clock: too short to measure (raise --calls)`)
  return ms / calls
}

const report: Record<string, unknown> = { rounds: ROUNDS }
const rows: (string | number)[][] = []
try {
  for (const shape of SHAPES) {
    // Warm each kind (sessions, objects, JIT) before anything counts.
    for (let i = 0; i < 2; i++) for (const kind of KINDS) await block(kind, shape.id, 32)
    const perCall: Record<Kind, number[]> = { tap: [], bare: [], bare2: [] }
    for (let round = 0; round < ROUNDS; round++) {
      // Each kind goes first, middle and last in turn, so drift in the isolate (its heap grows) hits all alike.
      for (let i = 0; i < KINDS.length; i++) {
        const kind = KINDS[(i + round) % KINDS.length]!
        perCall[kind].push(await block(kind, shape.id, shape.calls))
      }
    }
    // The figure is the median over rounds of each round's ratio (blocks next to each other, so slow
    // drift of the machine or the isolate cancels out), with a 90% interval that resamples rounds:
    // ratioWithInterval over the per-round ratios against 1 computes exactly that.
    const pairedRatio = (kind: Kind) => {
      const ratios = perCall[kind].map((ms, round) => [ms / perCall.bare[round]!])
      return ratioWithInterval(ratios, ratios.map(() => [1]), 50)
    }
    const tap = pairedRatio('tap')
    const floor = pairedRatio('bare2')
    const median = (kind: Kind) => percentile(perCall[kind], 50)
    const µs = (ms: number) => Math.round(ms * 1000)
    report[shape.name] = {
      callsPerBlock: shape.calls,
      perCallMs: { tap: thousandths(median('tap')), bare: thousandths(median('bare')), bare2: thousandths(median('bare2')) },
      tapRatio: { ratio: thousandths(tap.ratio), interval90: [thousandths(tap.low), thousandths(tap.high)] },
      noiseFloor: { ratio: thousandths(floor.ratio), interval90: [thousandths(floor.low), thousandths(floor.high)] },
      blocksMsPerCall: { tap: perCall.tap.map(thousandths), bare: perCall.bare.map(thousandths), bare2: perCall.bare2.map(thousandths) },
    }
    rows.push([shape.name, `${µs(median('tap'))} / ${µs(median('bare'))}`, `×${tap.ratio.toFixed(3)} (${tap.low.toFixed(3)}–${tap.high.toFixed(3)})`, `×${floor.ratio.toFixed(3)} (${floor.low.toFixed(3)}–${floor.high.toFixed(3)})`])
    console.error(`hop-isolate: ${shape.name}: tap ×${tap.ratio.toFixed(3)}, floor ×${floor.ratio.toFixed(3)}`)
  }
  // The tap kind measures the tap only if the tap saw its calls: its reports are in the transcript.
  await emulator.settled()
  const observed = emulator.transcript.events.filter((event) => event.layer === 'hop').length
  if (observed === 0) throw new Error('the hop tap recorded no step: the tap kind ran untapped, so its figures say nothing (is the tap off in this emulator?)')
  report.hopEventsRecorded = observed
} finally {
  await emulator.dispose()
}

/** Ratios here differ in the third decimal: kept to it. */
function thousandths(value: number): number {
  return Math.round(value * 1000) / 1000
}

const file = await writeResult('hop-isolate', report)
console.log(markdownTable(['call shape (inside workerd)', 'µs per call, tap / bare (median block)', 'tap / bare (90% interval)', 'noise floor: bare2 / bare'], rows))
console.log(`\n${ROUNDS} rounds; a block is ${CALLS} calls (SSE: ${CALLS * 4}) of one kind. Results: ${file}`)
