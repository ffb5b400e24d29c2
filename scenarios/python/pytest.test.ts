import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ensureVenv, exec, PYTHON_DIR, VENV_PYTHON } from '../helpers/python-venv.ts'

// The Python lane inside `npm test`: the pytest plugin's own tests, the Python MCP SDK client
// scenarios and the Python container lane, in the venv the run's globalSetup made (python/.venv).
const ROOT = path.resolve(import.meta.dirname, '../..')

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
