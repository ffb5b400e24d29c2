import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, test } from 'vitest'

// The Python lane inside `npm test`: a virtual environment made on first use (python/.venv), then
// the pytest plugin's own tests, the Python MCP SDK client scenarios and the Python container lane.
const ROOT = path.resolve(import.meta.dirname, '../..')
const PYTHON_DIR = path.join(ROOT, 'python')
const VENV = path.join(PYTHON_DIR, '.venv')
const VENV_PYTHON = path.join(VENV, 'bin', 'python')
const STAMP = path.join(VENV, '.mcp-harness-stamp')
const run = promisify(execFile)

function exec(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => {
      output += `\n[mcp-harness] ${command} ${args.join(' ')} timed out after ${options.timeoutMs / 1000} s\n`
      child.kill('SIGTERM')
    }, options.timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, output: String(error) })
    })
  })
}

/** Creates python/.venv and installs the package with its test extras, unless the stamp says it is current. */
async function ensureVenv(): Promise<{ created: boolean; ms: number }> {
  const started = performance.now()
  const { stdout: version } = await run('python3', ['--version'])
  const stamp = createHash('sha256')
    .update(version)
    .update(await readFile(path.join(PYTHON_DIR, 'pyproject.toml')))
    .digest('hex')
  if (existsSync(VENV_PYTHON) && existsSync(STAMP) && (await readFile(STAMP, 'utf8')) === stamp) return { created: false, ms: performance.now() - started }
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', '--clear', VENV]],
    [VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--editable', `${PYTHON_DIR}[test]`]],
  ]
  for (const [command, args] of steps) {
    const result = await exec(command, args, { cwd: ROOT, timeoutMs: 420_000 })
    if (result.code !== 0) throw new Error(`[mcp-harness] Failed to prepare the Python lane: \`${command} ${args.join(' ')}\` exited ${result.code}.\n${result.output.slice(-4000)}`)
  }
  await writeFile(STAMP, stamp)
  return { created: true, ms: performance.now() - started }
}

interface PytestCase {
  name: string
  outcome: 'passed' | 'failed' | 'skipped'
  message?: string
}

/** Reads pytest's JUnit XML: one entry per test case. */
function parseJunit(xml: string): PytestCase[] {
  const cases: PytestCase[] = []
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = Object.fromEntries([...match[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    const body = match[3] ?? ''
    const failure = /<(failure|error)\b[^>]*message="([^"]*)"/.exec(body)
    const skipped = /<skipped\b[^>]*message="([^"]*)"/.exec(body)
    cases.push({
      name: `${attrs.classname}::${attrs.name}`,
      outcome: failure ? 'failed' : skipped ? 'skipped' : 'passed',
      message: failure?.[2] ?? skipped?.[1],
    })
  }
  return cases
}

describe('the Python lane (pytest plugin, Python MCP SDK client, Python container lane)', () => {
  let cases: PytestCase[] = []
  let output = ''
  let code: number | null = null

  beforeAll(async () => {
    const venv = await ensureVenv()
    console.info(`[mcp-harness] Python venv ${venv.created ? 'created' : 'reused'} in ${Math.round(venv.ms)} ms`)
    const junit = path.join(await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-pytest-')), 'junit.xml')
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` }
    // The lane starts its own emulator: never attach to one a developer left running.
    for (const name of ['MCP_HARNESS_URL', 'MCP_HARNESS_CONTROL_URL', 'MCP_HARNESS_CONTROL_TOKEN', 'MCP_HARNESS_COMMAND']) delete env[name]
    const started = performance.now()
    const result = await exec(VENV_PYTHON, ['-m', 'pytest', '-q', '-rs', '-p', 'no:cacheprovider', `--junitxml=${junit}`], { cwd: PYTHON_DIR, env, timeoutMs: 540_000 })
    console.info(`[mcp-harness] pytest finished in ${Math.round(performance.now() - started)} ms`)
    code = result.code
    output = result.output
    cases = existsSync(junit) ? parseJunit(await readFile(junit, 'utf8')) : []
  }, 900_000)

  test('pytest exits 0 with every case passed', () => {
    const failed = cases.filter((c) => c.outcome === 'failed')
    expect(failed.map((c) => `${c.name}: ${c.message}`), output.slice(-6000)).toEqual([])
    expect(code, output.slice(-6000)).toBe(0)
    expect(cases.length).toBeGreaterThanOrEqual(30)
  })

  test('KI-11: the plugin-only pytest test evicts a session and sees counter survive and memo reset on both transports', () => {
    const ki11 = cases.filter((c) => c.name.includes('test_ki11_eviction_keeps_counter_and_resets_memo'))
    expect(ki11.map((c) => c.outcome)).toEqual(['passed', 'passed'])
  })

  test('the Python MCP SDK runs elicitation, sampling and a reconnect after eviction over both transports', () => {
    for (const name of ['test_elicitation_callback', 'test_sampling_callback', 'test_ki11_session_continues_after_eviction']) {
      expect(cases.filter((c) => c.name.includes(name)).map((c) => c.outcome), name).toEqual(['passed', 'passed'])
    }
  })

  test('the Python container lane runs, or is skipped only outside CI with a reason', () => {
    const container = cases.filter((c) => c.name.includes('test_container'))
    expect(container.length).toBeGreaterThanOrEqual(3)
    if (process.env.CI === 'true') expect(container.every((c) => c.outcome === 'passed')).toBe(true)
    else for (const c of container) if (c.outcome === 'skipped') expect(c.message).toMatch(/docker/i)
  })
})
