// `mcp-harness serve` as a user meets it in their own Worker project (issue 9, items 3 and 4): the
// harness config in the current folder, flags on top, endpoints listed only when they answer, one
// clear line for every bad input, and no workerd left behind when `npm start` is stopped.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { describeNetworkError, parseBaseUrl, UsageError } from './command.ts'
import { clientSettings, parseVarFlags } from './serve-command.ts'
import { CLI, descendants, startCli as runCli, startProcess as start, waitFor, type ChildRun } from '../scenarios/helpers/child-process.ts'

const ROOT = path.dirname(path.dirname(CLI))
const KV_NOTES = path.join(ROOT, 'scenarios/fixtures/kv-notes')
const STATELESS = path.join(ROOT, 'scenarios/fixtures/stateless-mcp')

const readyLine = (run: ChildRun) => waitFor(() => (run.stdout().includes('\n') ? (JSON.parse(run.stdout()) as Record<string, unknown>) : undefined), 120_000, `the ready line (stderr: ${run.stderr()})`)

const dirs: string[] = []
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-serve-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)
  return dir
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

const alive = (pid: number) => {
  try {
    // A zombie still answers kill(0); its state in /proc says it is gone.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('serve flags and helpers', () => {
  test('--var takes KEY=VALUE, keeping "=" in the value', () => {
    expect(parseVarFlags(['A=1', 'B=x=y', 'EMPTY='])).toEqual({ A: '1', B: 'x=y', EMPTY: '' })
    expect(() => parseVarFlags(['novalue'])).toThrow(UsageError)
    expect(() => parseVarFlags(['1A=x'])).toThrow(UsageError)
  })

  test('a base URL flag must be an absolute http(s) URL', () => {
    expect(parseBaseUrl('http://127.0.0.1:8787', '--target').port).toBe('8787')
    for (const bad of ['notaurl', 'ftp://x', '127.0.0.1:8787']) expect(() => parseBaseUrl(bad, '--target')).toThrow(/Invalid --target/)
  })

  test('a refused connection is described in one line, wherever fetch hides it', async () => {
    const error = await fetch('http://127.0.0.1:59999/').catch((e: unknown) => e)
    expect(describeNetworkError(error)).toBe('Failed to connect to 127.0.0.1:59999: connection refused: is the server running, on that port? (ECONNREFUSED)')
    expect(describeNetworkError(new Error('other'))).toBeUndefined()
  })

  test('the banner lists only the endpoints that answered, and says stateless', () => {
    const text = clientSettings('w', { url: 'http://127.0.0.1:1/', mcp: 'http://127.0.0.1:1/mcp', stateless: true })
    expect(text).toContain('Streamable HTTP  http://127.0.0.1:1/mcp  (stateless: no session kept)')
    expect(text).not.toContain('SSE')
    expect(text).not.toContain('Health')
    expect(clientSettings('w', { url: 'http://127.0.0.1:1/' })).toContain('No MCP endpoint answered')
  })
})

describe('usage errors exit 2 and runtime errors exit 1, each in one line', () => {
  test.each([
    [['serve', '--var', 'oops'], 'Invalid --var "oops"'],
    [['serve', '--upstream', 'gitlab'], 'Invalid --upstream "gitlab": expected one of github, google, cloudflare'],
    [['record', '--target', 'notaurl', '--out', 'x.json'], 'Invalid --target "notaurl"'],
    [['replay', 'x.json', '--target', 'notaurl'], 'Invalid --target "notaurl"'],
    [['record', '--target', 'http://127.0.0.1:1', '--out', 'x.json', '--listen', '0.0.0.0:1'], 'Invalid --listen "0.0.0.0:1"'],
    [['doctor', '--url', 'notaurl'], 'Invalid --url "notaurl"'],
  ])('%j is a usage error', async (args, message) => {
    const run = runCli(args)
    expect(await run.exited).toBe(2)
    expect(run.stderr()).toContain(message)
    expect(run.stderr()).not.toMatch(/\n\s+at /)
  })

  test('replay against a port nothing listens on says so in one line', async () => {
    const run = runCli(['replay', 'recordings/cassettes/sdk/streamable-http.json', '--target', 'http://127.0.0.1:59999'])
    expect(await run.exited).toBe(1)
    expect(run.stderr().trim().split('\n')).toEqual(['[mcp-harness] ERR_TARGET: Failed to replay against http://127.0.0.1:59999: cannot connect to 127.0.0.1:59999: connection refused: is the server running, on that port? (ECONNREFUSED).'])
  })

  test('a wrangler config syntax error names file, line and column', async () => {
    const run = runCli(['serve', '--config', 'scenarios/fixtures/broken-json', '--port', '0'])
    expect(await run.exited).toBe(1)
    expect(run.stderr()).toContain('syntax error at scenarios/fixtures/broken-json/wrangler.jsonc:6:3: CommaExpected in `"compatibility_date": "2026-07-01"`')
    expect(run.stderr()).not.toMatch(/\n\s+at /)
  })

  test('an unknown key in the harness config exits 1 naming the key and the known ones', async () => {
    const dir = project({ 'mcp-harness.config.json': JSON.stringify({ config: KV_NOTES, hibernate: 'off' }) })
    const run = runCli(['serve', '--print-config'], dir)
    expect(await run.exited).toBe(1)
    expect(run.stderr()).toMatch(/ERR_CONFIG: Invalid harness config mcp-harness\.config\.json:\n {2}- unknown key "hibernate" \(known keys here: config, environment, vars, secrets, envFile, upstream, hibernation,/)
  })
})

describe('serve with a harness config', () => {
  test('--print-config merges the file and the flags, masks secrets and .dev.vars, and exits 0', async () => {
    const dir = project({
      'mcp-harness.config.ts': [
        "import { defineConfig } from 'mcp-harness'",
        'export default defineConfig({',
        `  config: ${JSON.stringify(KV_NOTES)},`,
        "  vars: { GREETING: 'from the harness config', API_TOKEN: 'file-token' },",
        "  secrets: { SESSION_SECRET: 'shh' },",
        "  hibernation: { idleMs: 500 },",
        '  port: 9123,',
        "  cassettes: 'cassettes',",
        "  upstream: { providers: ['google'] },",
        '})',
      ].join('\n'),
      'test.env': 'FROM_ENV_FILE=e1\n',
      'users.json': JSON.stringify([{ id: 1, login: 'alice' }]),
    })
    const run = runCli(['serve', '--print-config', '--var', 'EXTRA=flag', '--env-file', 'test.env', '--upstream', 'github=users.json', '--no-hop-tap', '--port', '0'], dir)
    expect(await run.exited).toBe(0)
    const printed = JSON.parse(run.stdout()) as Record<string, unknown>
    expect(printed).toMatchObject({
      harnessConfig: 'mcp-harness.config.ts',
      port: 0,
      host: '127.0.0.1',
      cassettes: 'cassettes',
      hibernation: { idleMs: 500 },
      hop: { tap: false },
      upstream: { providers: [{ provider: 'github', users: ['alice'] }] },
      envFiles: ['test.env'],
      vars: { GREETING: 'from the harness config', EXTRA: 'flag', API_TOKEN: '<redacted:API_TOKEN>', SESSION_SECRET: '<redacted:SESSION_SECRET>', FROM_ENV_FILE: '<redacted:FROM_ENV_FILE>' },
    })
    expect(printed.devVars).toMatchObject({ names: { API_TOKEN: '<redacted:API_TOKEN>' } })
    expect(run.stdout()).not.toMatch(/file-token|shh|e1/)
  })

  test('serve reads the harness config of the current folder, flags win, and a Worker without MCP or /health gets only "url"', async () => {
    const dir = project({
      'mcp-harness.config.json': JSON.stringify({ config: KV_NOTES, vars: { GREETING: 'from the harness config', API_TOKEN: 'file-token' } }),
    })
    const run = runCli(['serve', '--port', '0', '--json', '--var', 'API_TOKEN=flag-token'], dir)
    try {
      const ready = await readyLine(run)
      expect(Object.keys(ready)).toEqual(['url'])
      const env = await (await fetch(new URL('/env', String(ready.url)))).json()
      expect(env).toEqual({ greeting: 'from the harness config', apiToken: 'flag-token' })
      expect(run.stderr()).toMatch(/Using mcp-harness\.config\.json \(loaded in \d+ ms\)/)
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
    } finally {
      run.child.kill('SIGKILL')
    }
  })

  test('a stateless Worker is listed as stateless, with no SSE and no health key', async () => {
    const run = runCli(['serve', '--config', STATELESS, '--port', '0', '--json'])
    try {
      const ready = await readyLine(run)
      expect(ready).toEqual({ url: expect.any(String), mcp: new URL('/mcp', String(ready.url)).href, stateless: true })
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
    } finally {
      run.child.kill('SIGKILL')
    }
  })
})

describe.runIf(process.platform === 'linux')('npm start', () => {
  // npm forwards SIGTERM to the `sh -c` running the script; sh dies without passing it on, so the
  // CLI sees its parent go and stops by itself (measured: without that, workerd stayed behind).
  test('SIGTERM to the npm process stops workerd as well: nothing is orphaned (and the endpoint probes left no session behind)', async () => {
    const run = start('npm', ['start', '--silent', '--', '--port', '0', '--json', '--control'], ROOT, true)
    try {
      const ready = (await readyLine(run)) as { mcp: string; sse: string; health: string; control: { url: string; token: string } }
      expect(ready).toMatchObject({ mcp: expect.stringMatching(/\/mcp$/), sse: expect.stringMatching(/\/sse$/), health: expect.stringMatching(/\/health$/) })
      expect(ready).not.toHaveProperty('stateless')
      const sessions = await (await fetch(new URL('sessions', ready.control.url), { headers: { authorization: `Bearer ${ready.control.token}` } })).json()
      expect(sessions).toEqual({ sessions: [] })
      const below = descendants(run.child.pid!)
      const workerd = below.filter((p) => p.name === 'workerd')
      expect(workerd.length).toBeGreaterThan(0)
      process.kill(run.child.pid!, 'SIGTERM')
      await run.exited
      await waitFor(() => (below.every((p) => !alive(p.pid)) ? true : undefined), 30_000, `every process below npm to exit: ${JSON.stringify(below.filter((p) => alive(p.pid)))}`)
    } finally {
      try {
        process.kill(-run.child.pid!, 'SIGKILL')
      } catch {
        // Already gone: the point of the test.
      }
    }
  })
})
