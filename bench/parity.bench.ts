/**
 * Parity benchmark: wall time of the CI parity lane (emulator vs `wrangler dev --local` over the
 * lifecycle, protocol and stateless suites on the reference server) against the bare cost of
 * starting and stopping both targets, measured in the same run; optionally the hibernation suite
 * (`--hibernation`), which waits past workerd's real 10 s idle eviction once.
 * Writes bench/results/parity.json and prints a markdown table.
 * @example npm run bench -- parity
 * @example npm run bench -- parity --hibernation
 */
import os from 'node:os'
import { emulatorTarget, wranglerDevTarget } from '../scenarios/helpers/targets.ts'
import { DEFAULT_SUITES, parity } from '../scenarios/parity/index.ts'
import { markdownTable, round, writeResult } from './lib.ts'

const CONFIG = 'server/wrangler.jsonc'
const HIBERNATION = process.argv.includes('--hibernation')

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now()
  const value = await work()
  return { ms: round(performance.now() - started), value }
}

// 1. Baseline: start and stop both targets side by side, as the lane does, with no scenario.
const startup = await timed(async () => {
  const targets = [emulatorTarget({ config: CONFIG }), wranglerDevTarget({ config: CONFIG })]
  await Promise.all(targets.map((target) => target.start()))
  await Promise.all(targets.map((target) => target.stop()))
})
const loadBefore = os.loadavg()[0]!

// 2. The lane itself.
const lane = await timed(() => parity({ config: CONFIG, targets: ['emulator', 'wrangler-dev'], suites: DEFAULT_SUITES }))
if (lane.value.exitCode !== 0) {
  console.error(lane.value.text)
  console.error('[mcp-harness] The parity lane did not agree: its wall time is not a valid measurement.')
  process.exit(1)
}
const perTarget = (name: string) => round(lane.value.scenarios.reduce((sum, scenario) => sum + (scenario.cells[name]?.durationMs ?? 0), 0))

// 3. Optionally the slow lane.
const hibernation = HIBERNATION ? await timed(() => parity({ config: CONFIG, targets: ['emulator', 'wrangler-dev'], suites: ['hibernation'] })) : undefined

const result = {
  config: CONFIG,
  scenarios: lane.value.scenarios.length,
  startupMs: startup.ms,
  laneMs: lane.ms,
  laneOverStartup: round(lane.ms / startup.ms),
  scenarioMs: { emulator: perTarget('emulator'), 'wrangler-dev': perTarget('wrangler-dev') },
  ...(hibernation ? { hibernationMs: hibernation.ms, hibernationAgrees: hibernation.value.exitCode === 0 } : {}),
  loadAvg1m: round(loadBefore),
}
const file = await writeResult('parity', result)
console.log(
  markdownTable(
    ['measure', 'ms'],
    [
      ['start + stop emulator and wrangler dev (baseline)', startup.ms],
      [`parity lane, ${result.scenarios} scenarios (lifecycle, protocol, stateless)`, lane.ms],
      ['lane / baseline', result.laneOverStartup],
      ['sum of scenario times on the emulator', result.scenarioMs.emulator],
      ['sum of scenario times on wrangler dev', result.scenarioMs['wrangler-dev']],
      ...(hibernation ? [['hibernation suite (real 10 s idle on wrangler dev)', hibernation.ms] as [string, number]] : []),
      ['1-minute load average at the start', result.loadAvg1m],
    ],
  ),
)
console.log(`\n${file}`)
