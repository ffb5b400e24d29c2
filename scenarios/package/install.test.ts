import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { env, explain, packProject, ROOT, run, serveChild } from './packaging.ts'

// Requirement (installing into a user's Worker project): the packed tarball, installed into a copy of
// a Worker project outside this repository, serves, tests, type-checks and diagnoses that Worker, and
// the Python package does the same from a fresh virtual environment. Everything runs as a user runs
// it: `npm pack`, `npm install`, `npx …`, `pip install`, `pytest`.
const FIXTURE = path.join(ROOT, 'scenarios/fixtures/installed-worker')
const INSTALL_TIMEOUT_MS = 900_000

let work: string
let project: string
const timings: Record<string, number> = {}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-install-'))
  project = path.join(work, 'my-mcp-worker')
  // 1. Pack as `npm publish` would: `prepare` builds dist/ with its declarations.
  const pack = await packProject(work)
  timings.packMs = pack.result.ms
  // 2. A copy of a Worker project outside the repository, with its own package.json and wrangler.
  await cp(FIXTURE, project, { recursive: true })
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', pack.tarball], { cwd: project, timeoutMs: 600_000 })
  expect(install.code, explain('npm install', install)).toBe(0)
  timings.installMs = install.ms
}, INSTALL_TIMEOUT_MS)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
  console.log(`[install] ${Object.entries(timings).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(', ')}`)
})

describe('the packed package in a Worker project outside the repository', () => {
  test('ships compiled JavaScript and declarations for every entry, and no Node binary or tsx', async () => {
    const installed = path.join(project, 'node_modules/mcp-harness')
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>
      dependencies: Record<string, string>
      peerDependencies: Record<string, string>
      engines: { node: string }
    }
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue
      expect(existsSync(path.join(installed, target.default)), `${entry} → ${target.default}`).toBe(true)
      expect(existsSync(path.join(installed, target.types)), `${entry} → ${target.types}`).toBe(true)
    }
    expect(Object.keys(manifest.exports)).toEqual(expect.arrayContaining(['.', './recordings', './scenarios', './vitest', './doctor', './plugins']))
    expect(Object.keys(manifest.dependencies)).not.toContain('node')
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx')
    expect(Object.keys(manifest.dependencies)).not.toContain('wrangler')
    expect(manifest.peerDependencies.wrangler).toBeDefined()
    expect(manifest.engines.node).toBe('>=22.12')
    // Installing the harness must not put a `node` into the project's npm scripts (it would override the user's Node).
    expect(existsSync(path.join(project, 'node_modules/.bin/node'))).toBe(false)
  })

  test('`npx mcp-harness serve --port 0 --json` answers a TypeScript SDK client', async () => {
    const served = await serveChild(project)
    try {
      const client = new Client({ name: 'install-test', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(served.ready.mcp)))
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
      expect(result.content).toEqual([{ type: 'text', text: '5' }])
      await client.close()
    } finally {
      await served.stop()
    }
  }, 180_000)

  test('a vitest file importing mcp-harness and mcp-harness/vitest passes', async () => {
    const result = await run('npx', ['vitest', 'run'], { cwd: project })
    timings.vitestMs = result.ms
    expect(result.code, explain('npx vitest run', result)).toBe(0)
    expect(result.stdout).toMatch(/Tests\s+3 passed/)
  }, 300_000)

  test('tsc type-checks that file against the shipped declarations, and rejects a wrong option', async () => {
    const good = await run('npx', ['tsc', '--noEmit'], { cwd: project })
    expect(good.code, explain('npx tsc --noEmit', good)).toBe(0)
    // The declarations are real types, not `any`: a misspelt option and a wrong type are errors.
    await writeFile(path.join(project, 'test/wrong.ts'), "import { createEmulator } from 'mcp-harness'\nawait createEmulator({ config: 'wrangler.jsonc', port: 'eighty' })\n")
    const bad = await run('npx', ['tsc', '--noEmit'], { cwd: project })
    await rm(path.join(project, 'test/wrong.ts'))
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toMatch(/test\/wrong\.ts.*TS2322/)
  }, 300_000)

  test('`npx mcp-harness doctor --config .` diagnoses the Worker', async () => {
    const result = await run('npx', ['mcp-harness', 'doctor', '--config', '.'], { cwd: project })
    // Exit 1 means the doctor found a failure; either way it ran and printed its summary.
    expect([0, 1], explain('npx mcp-harness doctor', result)).toContain(result.code)
    expect(result.stdout).toMatch(/\d+ ok, \d+ warn, \d+ fail/)
  }, 300_000)

  test('on a Node older than 22.12 the bin and the API fail at once, in one line naming both versions', async () => {
    const oldNode = await findOldNode()
    if (!oldNode) return void console.log('[install] no Node < 22.12 on this machine: skipped the old-Node check')
    const bin = await run(oldNode.path, [path.join(project, 'node_modules/mcp-harness/bin/mcp-harness.js'), '--help'], { cwd: project })
    expect(bin.code).toBe(1)
    expect(bin.stderr.trim().split('\n')).toEqual([expect.stringContaining(`needs Node.js >= 22.12.0, but this is Node.js v${oldNode.version}`)])
    const api = await run(oldNode.path, ['--input-type=module', '-e', "await import('mcp-harness')"], { cwd: project })
    expect(api.code).toBe(1)
    expect(api.stderr).toContain(`needs Node.js >= 22.12.0, but this is Node.js v${oldNode.version}: install Node 22`)
  }, 60_000)

  test('the Python package from a fresh venv finds the project bin, and evict() touches only the current test\'s sessions', async () => {
    const wheels = path.join(work, 'wheels')
    const venv = path.join(work, 'venv')
    const python = path.join(venv, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python')
    const tmp = path.join(work, 'pytest-tmp')
    await mkdir(tmp)
    const steps: [string, string[]][] = [
      ['python3', ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '--quiet', '--wheel-dir', wheels, path.join(ROOT, 'python')]],
      ['python3', ['-m', 'venv', venv]],
    ]
    for (const [command, args] of steps) {
      const result = await run(command, args, { cwd: work })
      expect(result.code, explain(`${command} ${args.slice(0, 3).join(' ')}`, result)).toBe(0)
    }
    const wheel = (await readdir(wheels)).find((name) => name.endsWith('.whl'))!
    const pip = await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', path.join(wheels, wheel), 'pytest'], { cwd: work })
    expect(pip.code, explain('pip install', pip)).toBe(0)
    // No Worker config given: the plugin runs node_modules/.bin/mcp-harness in pytest's rootdir (the project).
    const pytestEnv = { ...env, TMPDIR: tmp, MCP_HARNESS_CONFIG: '', MCP_HARNESS_COMMAND: '', MCP_HARNESS_BIN: '' }
    const pytest = await run(python, ['-m', 'pytest', '-q'], { cwd: project, env: pytestEnv })
    timings.pytestMs = pytest.ms
    expect(pytest.code, explain('pytest', pytest)).toBe(0)
    expect(pytest.stdout).toMatch(/2 passed/)
    // The emulator's log file is removed when the session ends.
    expect((await readdir(tmp)).filter((name) => name.startsWith('mcp-harness-'))).toEqual([])
  }, 600_000)
})

/** A Node binary older than 22.12 on PATH (the machine's own Node, when it is 20), if any. */
async function findOldNode(): Promise<{ path: string; version: string } | undefined> {
  const candidates = new Set<string>()
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.add(path.join(dir, 'node'))
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    const result = await run(candidate, ['-p', 'process.versions.node'], { cwd: os.tmpdir() })
    const version = result.stdout.trim()
    const [major = 0, minor = 0] = version.split('.').map(Number)
    if (result.code === 0 && (major < 22 || (major === 22 && minor < 12))) return { path: candidate, version }
  }
  return undefined
}
