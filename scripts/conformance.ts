/**
 * Runs the pinned official MCP conformance suite (`@modelcontextprotocol/conformance`, server mode)
 * against the reference server under the emulator, with the committed baseline of expected failures.
 *
 * `npm run conformance` runs it from the command line; scenarios/conformance/conformance.test.ts runs
 * the same function inside `npm test`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createEmulator } from '../emulator/index.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The reference server the suite runs against. */
export const CONFORMANCE_CONFIG = path.join(ROOT, 'server', 'wrangler.jsonc')
/** Expected failures, each with a one-line reason. */
export const CONFORMANCE_BASELINE = path.join(ROOT, 'scenarios', 'conformance', 'baseline.yml')

/** What to run the suite against, and how. */
export interface ConformanceOptions {
  /** The MCP endpoint under test, e.g. `http://127.0.0.1:8787/mcp`. */
  url: string
  /** Baseline YAML (`server: [scenario, ...]`); defaults to the committed one. */
  baseline?: string
  /** `all` (default: active + pending scenarios), `active` or `pending`. */
  suite?: 'all' | 'active' | 'pending'
  /** Prints the CLI's own output as it runs. */
  echo?: boolean
  /** Kills the CLI after this long. */
  timeoutMs?: number
}

/** One scenario's verdict, read from its checks.json. */
export interface ScenarioOutcome {
  scenario: string
  /** No check failed and none warned (the CLI counts a warning as a failed scenario). */
  passed: boolean
  failedChecks: { id: string; status: string; message?: string }[]
}

/** The whole run: the CLI's verdict plus each scenario's, classified against the baseline. */
export interface ConformanceResult {
  /** The CLI's exit code: 0 when every failure is baselined and no baseline entry is stale. */
  exitCode: number
  scenarios: ScenarioOutcome[]
  passed: string[]
  /** Failed and listed in the baseline. */
  baselined: string[]
  /** Failed and not listed in the baseline. */
  unexpected: string[]
  /** Listed in the baseline but passed. */
  stale: string[]
  /** The conformance package version that ran. */
  version: string
  durationMs: number
  /** The CLI's stdout and stderr. */
  output: string
}

/**
 * Runs the conformance CLI against a running server and reads back every scenario's checks.
 * @example const result = await runConformance({ url: `${emulator.url}mcp` })
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceResult> {
  const { url, baseline = CONFORMANCE_BASELINE, suite = 'all', echo = false, timeoutMs = 180_000 } = options
  const require = createRequire(import.meta.url)
  const packageJson = require.resolve('@modelcontextprotocol/conformance/package.json')
  const version = (JSON.parse(await readFile(packageJson, 'utf8')) as { version: string }).version
  const cli = path.join(path.dirname(packageJson), 'dist', 'index.js')
  const outputDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-conformance-'))
  const started = performance.now()
  try {
    const args = [cli, 'server', '--url', url, '--suite', suite, '--expected-failures', baseline, '-o', outputDir]
    // process.execPath: the same Node (>= 22) that runs us; the CLI needs it.
    const { exitCode, output } = await run(process.execPath, args, { echo, timeoutMs })
    const scenarios = await readOutcomes(outputDir)
    const expected = await readBaseline(baseline)
    return {
      exitCode,
      scenarios,
      passed: scenarios.filter((s) => s.passed).map((s) => s.scenario),
      baselined: scenarios.filter((s) => !s.passed && expected.includes(s.scenario)).map((s) => s.scenario),
      unexpected: scenarios.filter((s) => !s.passed && !expected.includes(s.scenario)).map((s) => s.scenario),
      stale: scenarios.filter((s) => s.passed && expected.includes(s.scenario)).map((s) => s.scenario),
      version,
      durationMs: performance.now() - started,
      output,
    }
  } finally {
    await rm(outputDir, { recursive: true, force: true })
  }
}

/** One line per outcome class, for logs and the CLI. */
export function formatConformanceSummary(result: ConformanceResult): string {
  const lines = [
    `@modelcontextprotocol/conformance ${result.version}: ${result.scenarios.length} scenarios, ` +
      `${result.passed.length} passed, ${result.baselined.length} baselined, ${result.unexpected.length} unexpected failures, ` +
      `${result.stale.length} stale baseline entries (${(result.durationMs / 1000).toFixed(1)} s)`,
  ]
  if (result.baselined.length) lines.push(`  baselined: ${result.baselined.join(', ')}`)
  for (const name of result.unexpected) {
    const outcome = result.scenarios.find((s) => s.scenario === name)
    lines.push(`  UNEXPECTED ${name}: ${outcome?.failedChecks.map((c) => `${c.id} ${c.status}${c.message ? ` (${c.message})` : ''}`).join('; ')}`)
  }
  if (result.stale.length) lines.push(`  STALE (passes now, remove from the baseline): ${result.stale.join(', ')}`)
  return lines.join('\n')
}

async function run(command: string, args: string[], { echo, timeoutMs }: { echo: boolean; timeoutMs: number }) {
  return new Promise<{ exitCode: number; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (echo) process.stdout.write(chunk)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`Failed to start the conformance CLI: ${error.message}. Run npm install.`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal) reject(new Error(`Failed to finish the conformance run: killed by ${signal} after ${timeoutMs} ms.\n${output}`))
      else resolve({ exitCode: code ?? 1, output })
    })
  })
}

/** Reads `<outputDir>/server-<scenario>-<timestamp>/checks.json` for every scenario that ran. */
async function readOutcomes(outputDir: string): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = []
  for (const entry of (await readdir(outputDir)).sort()) {
    const scenario = entry.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')
    const checks = JSON.parse(await readFile(path.join(outputDir, entry, 'checks.json'), 'utf8')) as {
      id: string
      status: string
      errorMessage?: string
    }[]
    const failedChecks = checks
      .filter((check) => check.status === 'FAILURE' || check.status === 'WARNING')
      .map((check) => ({ id: check.id, status: check.status, message: check.errorMessage }))
    outcomes.push({ scenario, passed: failedChecks.length === 0, failedChecks })
  }
  return outcomes
}

/** The scenario names under `server:` in the baseline YAML (a flat list; comments ignored). */
async function readBaseline(file: string): Promise<string[]> {
  const names: string[] = []
  let inServer = false
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const text = line.replace(/#.*$/, '').trimEnd()
    if (!text.trim()) continue
    if (/^\S/.test(text)) inServer = text.startsWith('server:')
    else if (inServer) {
      const match = /^\s*-\s*(\S+)/.exec(text)
      if (match?.[1]) names.push(match[1])
    }
  }
  return names
}

/** `npm run conformance`: starts the reference server, runs the suite, prints the summary, exits with the CLI's code. */
async function main(): Promise<number> {
  const emulator = await createEmulator({ config: CONFORMANCE_CONFIG, onProgress: (line) => console.log(`[harness] ${line}`) })
  try {
    const result = await runConformance({ url: new URL('/mcp', emulator.url).href, echo: true })
    console.log(`\n${formatConformanceSummary(result)}`)
    return result.exitCode
  } finally {
    await emulator.dispose()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exit(1)
    },
  )
}
