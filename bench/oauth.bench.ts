/**
 * OAuth flow wall time against the OAuth reference server under the emulator (mocked GitHub):
 * discovery → dynamic registration → authorize (consent, upstream, callback) → token → first tool
 * call (MCP initialize + whoami). Then `mcp-harness token` end to end (register → token) per
 * provider, each against its template fixture: in process (`signIn()`, first run and p50) and as a
 * process, against `mcp-harness --help` as the process baseline measured in the same run; with
 * Chromium installed, also the GitHub Worker whose approval page needs JavaScript.
 * Writes bench/results/oauth.json and prints markdown tables.
 * @example npm run bench:oauth -- --runs 20
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createEmulator, signIn, upstream, type UpstreamProvider } from '../emulator/index.ts'
import { findChromium } from '../emulator/sign-in/browser.ts'
import { startOAuthEmulator } from '../scenarios/helpers/oauth-emulator.ts'
import { numberArg } from './lib.ts'

const RUNS = numberArg('runs', 15)

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
/** `mcp-harness token` per provider, each against the fixture Worker shaped like its template. */
const PROVIDERS: { provider: string; config: string; make: () => UpstreamProvider; vars?: Record<string, string> }[] = [
  { provider: 'github', config: 'scenarios/fixtures/github-oauth', make: () => upstream.github() },
  { provider: 'google', config: 'scenarios/fixtures/google-oauth', make: () => upstream.google() },
  { provider: 'cloudflare', config: 'scenarios/fixtures/cloudflare-stateless', make: () => upstream.cloudflare() },
  { provider: 'auth0 (OIDC, ID token verified against JWKS)', config: 'scenarios/fixtures/oidc-jwks', make: () => upstream.auth0() },
  // The same GitHub Worker with an approval page only a real browser can submit: Chromium runs it.
  ...(findChromium() ? [{ provider: 'github, approval page needing JavaScript (Chromium)', config: 'scenarios/fixtures/github-oauth', make: () => upstream.github(), vars: { APPROVAL_PAGE: 'script-form' } }] : []),
]
const TOKEN_RUNS = Math.max(3, Math.round(RUNS / 2))
const PROCESS_RUNS = 3
const run = promisify(execFile)
const cliProcess = async (args: string[]) => {
  const t0 = performance.now()
  const { stdout } = await run(process.execPath, [path.resolve('cli/cli.ts'), ...args])
  return { ms: performance.now() - t0, stdout }
}
const processBaseline: number[] = []
for (let i = 0; i < PROCESS_RUNS; i++) processBaseline.push((await cliProcess(['--help'])).ms)
const byProvider: Record<string, unknown> = {}
for (const { provider, config, make, vars } of PROVIDERS) {
  const emulator = await createEmulator({ config, vars, workerLog: 'silent', upstream: { providers: [make()] } })
  try {
    const inProcess: number[] = []
    for (let i = 0; i < TOKEN_RUNS; i++) inProcess.push((await signIn(emulator)).timings.totalMs)
    const asProcess: number[] = []
    for (let i = 0; i < PROCESS_RUNS; i++) {
      const { ms, stdout } = await cliProcess(['token', '--url', new URL('/mcp', emulator.url).href])
      if (!/^\S+\n$/.test(stdout)) throw new Error(`mcp-harness token printed more than a token for ${provider}`)
      asProcess.push(ms)
    }
    byProvider[provider] = {
      runs: TOKEN_RUNS,
      signInFirstMs: round(inProcess[0]),
      signInP50Ms: round(percentile(inProcess, 50)),
      processRuns: PROCESS_RUNS,
      processFirstMs: round(asProcess[0]),
      processP50Ms: round(percentile(asProcess, 50)),
      processVsHelpRatio: round(percentile(asProcess, 50) / percentile(processBaseline, 50)),
    }
  } finally {
    await emulator.dispose()
  }
}

const report = {
  bench: 'oauth',
  date: new Date().toISOString(),
  runs: RUNS,
  machine: { cpus: os.cpus().length, node: process.version, load: os.loadavg().map(round) },
  bootMs: round(bootMs),
  note: 'register → token → first tool call; one emulator, a new client registration and sign-in per run; mocked GitHub upstream',
  summary,
  token: {
    note: 'mcp-harness token end to end (resource metadata → server metadata → register → authorize with PKCE S256 → consent → mocked upstream → token); signIn() in process, and the CLI as a process; baseline: `mcp-harness --help` as a process in the same run',
    helpProcessP50Ms: round(percentile(processBaseline, 50)),
    byProvider,
  },
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
console.log(`\n### mcp-harness token per provider (register → token; process baseline \`--help\` p50 ${report.token.helpProcessP50Ms} ms)\n`)
console.log('| provider | signIn() first (ms) | signIn() p50 (ms) | process first (ms) | process p50 (ms) | process ÷ --help |')
console.log('|---|---|---|---|---|---|')
for (const [provider, r] of Object.entries(byProvider) as [string, Record<string, number>][]) {
  console.log(`| ${provider} | ${r.signInFirstMs} | ${r.signInP50Ms} | ${r.processFirstMs} | ${r.processP50Ms} | ×${r.processVsHelpRatio} |`)
}
console.log(`\nWrote ${path.relative(process.cwd(), out)}`)
