/**
 * OAuth flow wall time against the OAuth reference server under the emulator (mocked GitHub):
 * discovery → dynamic registration → authorize (consent, upstream, callback) → token → first tool
 * call (MCP initialize + whoami). Writes bench/results/oauth.json and prints a markdown table.
 * @example npm run bench:oauth -- --runs 20
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startOAuthEmulator } from '../scenarios/helpers/oauth-emulator.ts'
import { signIn } from '../scenarios/helpers/oauth-flow.ts'

const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15

type Phase = 'discoverMs' | 'registerMs' | 'authorizeMs' | 'tokenMs' | 'firstToolCallMs' | 'totalMs'
const PHASES: Phase[] = ['discoverMs', 'registerMs', 'authorizeMs', 'tokenMs', 'firstToolCallMs', 'totalMs']

const started = performance.now()
const { emulator } = await startOAuthEmulator({ extra: { workerLog: 'silent' } })
const bootMs = performance.now() - started
const samples: Record<Phase, number>[] = []
try {
  for (let run = 0; run < RUNS; run++) {
    const flow = await signIn(emulator.url)
    const t0 = performance.now()
    const client = new Client({ name: 'oauth-bench', version: '0.1.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', emulator.url), { requestInit: { headers: { authorization: `Bearer ${flow.tokens.access_token}` } } }))
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    const firstToolCallMs = performance.now() - t0
    await client.close()
    if (!JSON.stringify(result).includes('octocat')) throw new Error(`whoami did not return the upstream user: ${JSON.stringify(result)}`)
    samples.push({ ...flow.timings, firstToolCallMs, totalMs: flow.timings.totalMs + firstToolCallMs })
  }
} finally {
  await emulator.dispose()
}

const round = (value: number) => Math.round(value * 10) / 10
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
const summary = Object.fromEntries(
  PHASES.map((phase) => {
    const values = samples.map((sample) => sample[phase])
    return [phase, { first: round(values[0]), p50: round(percentile(values, 50)), p90: round(percentile(values, 90)), max: round(Math.max(...values)) }]
  }),
)
const report = {
  bench: 'oauth',
  date: new Date().toISOString(),
  runs: RUNS,
  machine: { cpus: os.cpus().length, node: process.version, load: os.loadavg().map(round) },
  bootMs: round(bootMs),
  note: 'register → token → first tool call; one emulator, a new client registration and sign-in per run; mocked GitHub upstream',
  summary,
}
const out = path.resolve('bench/results/oauth.json')
await mkdir(path.dirname(out), { recursive: true })
await writeFile(out, `${JSON.stringify(report, null, 2)}\n`)
console.log(`\n### OAuth flow (${RUNS} runs, emulator boot ${round(bootMs)} ms)\n`)
console.log('| phase | first | p50 | p90 | max |')
console.log('|---|---|---|---|---|')
for (const phase of PHASES) {
  const s = summary[phase]
  console.log(`| ${phase.replace(/Ms$/, '')} (ms) | ${s.first} | ${s.p50} | ${s.p90} | ${s.max} |`)
}
console.log(`\nWrote ${path.relative(process.cwd(), out)}`)
