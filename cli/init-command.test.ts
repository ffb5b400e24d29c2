// `npx mcp-harness init` in a Worker project (issue 9, item 8): detection from the source, the files
// it writes, idempotence, --force, and the generated test passing under vitest in a temporary copy
// of each fixture Worker project outside the repository tree.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { detectFromSources, detectProject } from './init-command.ts'

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url))
const ROOT = path.dirname(path.dirname(CLI))
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs')

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

/**
 * A temporary copy of a fixture Worker project, outside the repository, whose node_modules links
 * the repository's packages and an `mcp-harness` that points at this checkout's sources (the
 * published package points at its compiled dist/ instead).
 */
function copyProject(files: Record<string, string>, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-init-'))
  dirs.push(dir)
  for (const [to, from] of Object.entries(files)) cpSync(path.join(ROOT, from), path.join(dir, to), { recursive: true })
  for (const [name, text] of Object.entries(extra)) writeFileSync(path.join(dir, name), text)
  const modules = path.join(dir, 'node_modules')
  mkdirSync(modules)
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    // Dot entries (.bin, .cache) stay out: builds are cached in the copy's own node_modules/.cache.
    if (!entry.startsWith('.')) symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry))
  }
  mkdirSync(path.join(modules, 'mcp-harness'))
  writeFileSync(path.join(modules, 'mcp-harness/package.json'), JSON.stringify({ name: 'mcp-harness', type: 'module', exports: { '.': './index.js' } }))
  writeFileSync(path.join(modules, 'mcp-harness/index.js'), `export * from ${JSON.stringify(path.join(ROOT, 'emulator/index.ts'))}\n`)
  return dir
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    // Colours stay on in some nested runs despite FORCE_COLOR=0: strip them.
    const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '')
    child.on('close', (code) => resolve({ code, stdout: plain(stdout), stderr: plain(stderr) }))
  })
}
const init = (cwd: string, ...args: string[]) => run(process.execPath, [CLI, 'init', ...args], cwd)
const vitest = (cwd: string) => run(process.execPath, [VITEST, 'run', '--reporter=verbose'], cwd)

describe('detecting routes, auth and tools from the source', () => {
  test('McpAgent serve/serveSSE, createMcpHandler with a constant route, and the tools of the reference server', async () => {
    const detected = await detectProject(path.join(ROOT, 'server'))
    expect(detected).toMatchObject({
      wranglerConfig: 'wrangler.jsonc',
      main: 'src/index.ts',
      streamable: [
        { path: '/mcp', stateless: false },
        { path: '/mcp-stateless', stateless: true },
      ],
      sse: ['/sse'],
      auth: { kind: 'none' },
    })
    expect(detected.tools).toEqual(expect.arrayContaining(['add', 'whoami', 'routing', 'test_simple_text']))
  })

  test('the OAuth reference server is an OAuthProvider signing in with GitHub', async () => {
    expect((await detectProject(path.join(ROOT, 'server/oauth'))).auth).toEqual({ kind: 'oauth', upstream: 'github' })
  })

  test('a hand-written Bearer front door is bearer auth', async () => {
    expect((await detectProject(path.join(ROOT, 'server/variants/bearer-front-door'))).auth).toEqual({ kind: 'bearer' })
  })

  test('Hono app.mount, the old McpAgent.mount and createMcpHandler without a route', () => {
    const sources = new Map([
      [
        'index.ts',
        [
          "import { Hono } from 'hono'",
          'const app = new Hono()',
          "app.mount('/sse', MyMcp.serveSSE('/sse').fetch, { replaceRequest: false })",
          "app.mount('/mcp', MyMcp.serve('/mcp').fetch, { replaceRequest: false })",
          "export const legacy = OldMcp.mount('/old-sse')",
          'export const stateless = createMcpHandler(server)',
          "server.tool('lookup', {}, async () => ({ content: [] }))",
        ].join('\n'),
      ],
    ])
    expect(detectFromSources(sources)).toEqual({
      streamable: [{ path: '/mcp', stateless: false }],
      sse: ['/sse', '/old-sse'],
      auth: { kind: 'none' },
      tools: ['lookup'],
    })
  })

  test('a project without a wrangler config is refused with what to do', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-init-empty-'))
    dirs.push(dir)
    const result = await init(dir)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('no wrangler.jsonc, wrangler.json, wrangler.toml here. Run `npx mcp-harness init` in the folder of your Worker')
  })
})

// Each copy builds its Worker and starts workerd from a cold cache, in a nested vitest: minutes under load.
describe('init in a copy of a fixture Worker project, then vitest', { timeout: 600_000 }, () => {
  test('the reference McpAgent server: a test over /mcp, /mcp-stateless and /sse passes; init again changes nothing; a changed file needs --force', async () => {
    const dir = copyProject({ src: 'server/src', 'wrangler.jsonc': 'server/wrangler.jsonc' }, { 'package.json': JSON.stringify({ name: 'my-worker', private: true, type: 'module' }, null, 2) })
    const first = await init(dir)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain('MCP routes: /mcp (Streamable HTTP), /mcp-stateless (Streamable HTTP, stateless), /sse (SSE)')
    expect(first.stdout).toMatch(/created: mcp-harness\.config\.ts\ncreated: test\/mcp-harness\.test\.ts\ncreated: vitest\.config\.ts/)
    expect(first.stdout).toContain('added the "test" script to package.json: vitest run')
    expect(first.stdout).toContain('Next: npx vitest run test/mcp-harness.test.ts')
    const tests = await vitest(dir)
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0)
    expect(tests.stdout).toMatch(/✓ .*Streamable HTTP \/mcp > lists the tools and calls one/)
    expect(tests.stdout).toMatch(/✓ .*SSE \/sse > lists the tools and calls one/)
    expect(tests.stdout).toMatch(/Tests +3 passed/)

    const again = await init(dir)
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/unchanged: mcp-harness\.config\.ts\nunchanged: test\/mcp-harness\.test\.ts\nunchanged: vitest\.config\.ts/)

    const testFile = path.join(dir, 'test/mcp-harness.test.ts')
    writeFileSync(testFile, `${readFileSync(testFile, 'utf8')}\n// my change\n`)
    const refused = await init(dir)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('ERR_EXISTS: Failed to set up mcp-harness: test/mcp-harness.test.ts exists with other content')
    expect(readFileSync(testFile, 'utf8')).toContain('// my change')
    const forced = await init(dir, '--force')
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('overwritten: test/mcp-harness.test.ts')
    expect(readFileSync(testFile, 'utf8')).not.toContain('// my change')
  })

  test('a stateless Worker: the test covers Streamable HTTP only, and passes', async () => {
    const dir = copyProject({ src: 'scenarios/fixtures/stateless-mcp/src', 'wrangler.jsonc': 'scenarios/fixtures/stateless-mcp/wrangler.jsonc' })
    const result = await init(dir)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('MCP routes: /mcp (Streamable HTTP, stateless)')
    expect(result.stdout).toContain('created: vitest.config.mts')
    const text = readFileSync(path.join(dir, 'test/mcp-harness.test.ts'), 'utf8')
    expect(text).not.toContain('SSEClientTransport')
    expect(text).toContain("const TOOL = \"add\"")
    const tests = await vitest(dir)
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0)
    expect(tests.stdout).toMatch(/Tests +1 passed/)
  })

  test('a Worker that is not an MCP server (kv-notes): the test checks it starts, and passes; an existing vitest config is kept', async () => {
    const dir = copyProject(
      { src: 'scenarios/fixtures/kv-notes/src', 'wrangler.jsonc': 'scenarios/fixtures/kv-notes/wrangler.jsonc', '.dev.vars': 'scenarios/fixtures/kv-notes/.dev.vars' },
      { 'vitest.config.mts': "import { defineConfig } from 'vitest/config'\nexport default defineConfig({ test: { testTimeout: 60_000 } })\n" },
    )
    const result = await init(dir)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('MCP routes: none found')
    expect(result.stdout).toContain('kept: vitest.config.mts')
    expect(existsSync(path.join(dir, 'vitest.config.ts'))).toBe(false)
    const tests = await vitest(dir)
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0)
    expect(tests.stdout).toMatch(/Tests +1 passed/)
  })

  test('the OAuth reference server: its GitHub upstream is mocked in the config, and the test checks a client without credentials is refused', async () => {
    // server/oauth imports the reference McpAgent from ../../src: copy the whole folder.
    const dir = copyProject({ server: 'server' })
    const project = path.join(dir, 'server/oauth')
    const result = await init(project)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('Auth: OAuthProvider with github')
    expect(readFileSync(path.join(project, 'mcp-harness.config.ts'), 'utf8')).toContain("upstream: { providers: [{ provider: 'github', users: [{ id: 1, login: 'alice'")
    const tests = await vitest(project)
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0)
    expect(tests.stdout).toMatch(/Tests +2 passed \| 2 todo/)
  })

  test('beside a Workers-pool vitest config, init writes a separate Node config and an npm script', async () => {
    const dir = copyProject(
      { src: 'scenarios/fixtures/stateless-mcp/src', 'wrangler.jsonc': 'scenarios/fixtures/stateless-mcp/wrangler.jsonc' },
      {
        'vitest.config.ts': "import { defineWorkersConfig } from '@cloudflare/vitest-pool-workers/config'\nexport default defineWorkersConfig({})\n",
        'package.json': JSON.stringify({ name: 'pool-worker', private: true }),
      },
    )
    const result = await init(dir, '--dry-run')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('would be created: vitest.mcp-harness.config.ts')
    expect(existsSync(path.join(dir, 'mcp-harness.config.ts'))).toBe(false)
    const real = await init(dir)
    expect(real.stdout).toContain('added the "test:mcp-harness" script to package.json: vitest run --config vitest.mcp-harness.config.ts')
    expect(real.stdout).toContain('Next: npm run test:mcp-harness')
    expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).scripts).toEqual({ 'test:mcp-harness': 'vitest run --config vitest.mcp-harness.config.ts' })
  })
})
