import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { isHarnessError } from '../core/errors.ts'
import { findHarnessConfig, HARNESS_CONFIG_FILES, loadHarnessConfig, parseUpstreamFlag, printableConfig, resolveHarnessOptions } from './config-file.ts'

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const dirs: string[] = []
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-config-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)
  return dir
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

describe('finding the harness config', () => {
  test('takes the first of the names in vitest order, in that folder only', () => {
    const dir = project({ 'mcp-harness.config.json': '{}', 'mcp-harness.config.ts': 'export default {}' })
    expect(findHarnessConfig(dir)).toBe(path.join(dir, 'mcp-harness.config.ts'))
    expect(findHarnessConfig(path.join(dir, '..'))).toBeUndefined()
    expect(HARNESS_CONFIG_FILES[0]).toBe('mcp-harness.config.ts')
  })
})

describe('loading the harness config', () => {
  test('a TypeScript config with types and an import of defineConfig loads, and leaves no temporary file', async () => {
    const dir = project({
      'mcp-harness.config.ts': [
        "import { defineConfig, upstream } from 'mcp-harness'",
        "import users from './users.json' with { type: 'json' }",
        'const idle: number = 250',
        'export default defineConfig({',
        "  config: 'wrangler.jsonc',",
        '  hibernation: { idleMs: idle },',
        "  vars: { GREETING: 'hi' },",
        '  upstream: { providers: [upstream.github({ users }), "google"] },',
        '})',
      ].join('\n'),
      'users.json': JSON.stringify([{ id: 7, login: 'alice' }]),
    })
    const loaded = await loadHarnessConfig(path.join(dir, 'mcp-harness.config.ts'))
    expect(loaded.config).toMatchObject({ config: 'wrangler.jsonc', hibernation: { idleMs: 250 }, vars: { GREETING: 'hi' } })
    expect(loaded.config.upstream?.providers).toHaveLength(2)
    expect(loaded.loadMs).toBeGreaterThan(0)
    // Besides the cache folder (no package.json here, so it is `.mcp-harness/cache` beside the file).
    expect(readdirSync(dir).sort()).toEqual(['.mcp-harness', 'mcp-harness.config.ts', 'users.json'])
  })

  test('a TypeScript config is bundled once: the next load uses the cached bundle until a file it was made of changes', async () => {
    const dir = project({
      'mcp-harness.config.ts': "import { idle } from './idle.ts'\nexport default { hibernation: { idleMs: idle } }\n",
      'idle.ts': 'export const idle: number = 100\n',
    })
    const file = path.join(dir, 'mcp-harness.config.ts')
    expect((await loadHarnessConfig(file)).config.hibernation).toEqual({ idleMs: 100 })
    const cacheDir = path.join(dir, '.mcp-harness', 'cache', 'harness-config')
    const [entryName] = readdirSync(cacheDir)
    const entryFile = path.join(cacheDir, entryName!)
    // Proof that a warm load skips the bundler: it runs the cached code, altered here.
    const entry = JSON.parse(readFileSync(entryFile, 'utf8')) as { code: string }
    writeFileSync(entryFile, JSON.stringify({ ...entry, code: entry.code.replace('idle = 100', 'idle = 200') }))
    expect((await loadHarnessConfig(file)).config.hibernation).toEqual({ idleMs: 200 })
    // An imported file changed: bundled again, from the sources.
    writeFileSync(path.join(dir, 'idle.ts'), 'export const idle: number = 300\n')
    expect((await loadHarnessConfig(file)).config.hibernation).toEqual({ idleMs: 300 })
  })

  test('a JSON syntax error names the file, line and column', async () => {
    const dir = project({ 'mcp-harness.config.json': '{\n  "vars": { "A": "1", }\n}' })
    const error = await failure(loadHarnessConfig(path.join(dir, 'mcp-harness.config.json')))
    expect(isHarnessError(error, 'ERR_CONFIG')).toBe(true)
    expect(error.message).toContain('mcp-harness.config.json')
    expect(error.message).toMatch(/line 2 column \d+/)
  })

  test('an unknown key is rejected with its path and the keys known there', async () => {
    const dir = project({ 'mcp-harness.config.json': JSON.stringify({ cors: { enforce: true, origins: ['x'] }, hibernaton: 'off' }) })
    const error = await failure(loadHarnessConfig(path.join(dir, 'mcp-harness.config.json')))
    expect(error.message).toContain('unknown key "cors.origins" (known keys here: enforce, credentials, read)')
    expect(error.message).toMatch(/unknown key "hibernaton" \(known keys here: config, environment, .*hibernation/)
  })

  test('an unknown provider name and a wrong value are named by path', async () => {
    const dir = project({ 'mcp-harness.config.json': JSON.stringify({ port: 'eighty', upstream: { providers: [{ provider: 'gitlab' }] } }) })
    const error = await failure(loadHarnessConfig(path.join(dir, 'mcp-harness.config.json')))
    expect(error.message).toContain('"port": ')
    expect(error.message).toContain('"upstream.providers.0')
  })

  test('a config that throws is reported as a load failure of that file', async () => {
    const dir = project({ 'mcp-harness.config.mjs': "throw new Error('boom')" })
    const error = await failure(loadHarnessConfig(path.join(dir, 'mcp-harness.config.mjs')))
    expect(error.message).toMatch(/Failed to load harness config .*mcp-harness\.config\.mjs: boom/)
  })
})

describe('resolving emulator options', () => {
  test('explicit options win over the file, vars merge, and paths are relative to the file', async () => {
    const dir = project({
      'mcp-harness.config.json': JSON.stringify({ config: 'wrangler.jsonc', port: 9000, envFile: 'test.env', vars: { A: 'file', B: 'file' }, secrets: { S: 'hidden' }, persistDir: '.state' }),
      'test.env': 'A=env\nFROM_ENV=e\n',
    })
    const resolution = await resolveHarnessOptions({ harnessConfig: path.join(dir, 'mcp-harness.config.json'), port: 0, vars: { B: 'flag' } })
    expect(resolution.options).toMatchObject({ config: path.join(dir, 'wrangler.jsonc'), port: 0, persistDir: path.join(dir, '.state'), vars: { A: 'file', B: 'flag', FROM_ENV: 'e', S: 'hidden' } })
    expect([...resolution.secretNames].sort()).toEqual(['A', 'FROM_ENV', 'S'])
  })

  test('without a config and without a file the current folder is the wrangler config', async () => {
    const resolution = await resolveHarnessOptions({ harnessConfig: false })
    expect(resolution.options.config).toBe('.')
    expect(resolution.file).toBeUndefined()
  })

  test('an explicit wrangler config skips the file unless one is named', async () => {
    const resolution = await resolveHarnessOptions({ config: 'server' })
    expect(resolution.file).toBeUndefined()
    expect(resolution.options.config).toBe('server')
  })

  test('upstream names and users files become providers', async () => {
    const dir = project({
      'mcp-harness.config.json': JSON.stringify({ upstream: { providers: ['google', { provider: 'github', users: 'users.json' }, { provider: 'oidc', issuer: 'https://id.example' }] } }),
      'users.json': JSON.stringify([{ id: 1, login: 'alice' }, { id: 2, login: 'bob' }]),
    })
    const { options } = await resolveHarnessOptions({ harnessConfig: path.join(dir, 'mcp-harness.config.json') })
    const providers = options.upstream?.providers ?? []
    expect(providers.map((p) => p.kind)).toEqual(['google', 'github', 'oidc'])
    expect(providers[1]!.users?.map((u) => u.login)).toEqual(['alice', 'bob'])
  })

  test('--upstream flags parse names and users files, and reject unknown providers', () => {
    expect(parseUpstreamFlag('github')).toEqual({ provider: 'github' })
    expect(parseUpstreamFlag('github=a=b.json')).toEqual({ provider: 'github', users: 'a=b.json' })
    expect(() => parseUpstreamFlag('gitlab')).toThrow(/expected one of github, google, cloudflare, cloudflare-access, oidc, auth0/)
  })

  test('--print-config masks secrets, env-file and .dev.vars entries and secret-like names', async () => {
    const dir = project({ 'mcp-harness.config.json': JSON.stringify({ vars: { GREETING: 'hi', API_KEY: 'k1', DEV: 'x' }, secrets: { OAUTH: 'o' } }) })
    const resolution = await resolveHarnessOptions({ harnessConfig: path.join(dir, 'mcp-harness.config.json') })
    const printed = printableConfig(resolution, { devVars: { file: path.join(dir, '.dev.vars'), names: ['DEV'] } })
    expect(printed.vars).toEqual({ GREETING: 'hi', API_KEY: '<redacted:API_KEY>', DEV: '<redacted:DEV>', OAUTH: '<redacted:OAUTH>' })
    expect(JSON.stringify(printed)).not.toMatch(/"k1"|"o"|"x"/)
  })
})

describe('the repository itself', () => {
  test('has no harness config in its root (the reference server is served with --config)', () => {
    expect(findHarnessConfig(ROOT)).toBeUndefined()
  })
})
