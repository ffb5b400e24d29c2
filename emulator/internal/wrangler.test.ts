// Issue 9 item 4: builds are cached inside the Worker's own project, never in the harness's folder
// or whatever folder the command runs in.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { buildCacheRoot, loadWorkerConfig, readWorkerConfig, type LoadWorkerConfigOptions } from './wrangler.ts'

let root: string | undefined
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true })
  root = undefined
})

function project(files: string[]): string {
  root = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-cache-'))
  for (const file of files) {
    const full = path.join(root, file)
    if (file.endsWith('/')) mkdirSync(full, { recursive: true })
    else {
      mkdirSync(path.dirname(full), { recursive: true })
      writeFileSync(full, '{}')
    }
  }
  return root
}

test('a project with node_modules caches builds in its node_modules/.cache/mcp-harness', () => {
  const dir = project(['package.json', 'node_modules/', 'workers/mcp/wrangler.jsonc'])
  expect(buildCacheRoot(path.join(dir, 'workers/mcp/wrangler.jsonc'))).toBe(path.join(dir, 'node_modules', '.cache', 'mcp-harness'))
})

test('a project without node_modules caches builds in .mcp-harness/cache beside its wrangler config', () => {
  const dir = project(['package.json', 'wrangler.jsonc'])
  expect(buildCacheRoot(path.join(dir, 'wrangler.jsonc'))).toBe(path.join(dir, '.mcp-harness', 'cache'))
})

test('the folder the command runs in plays no part', () => {
  const dir = project(['package.json', 'node_modules/', 'wrangler.jsonc'])
  const cwd = process.cwd()
  try {
    process.chdir(os.tmpdir())
    expect(buildCacheRoot(path.join(dir, 'wrangler.jsonc')).startsWith(dir)).toBe(true)
  } finally {
    process.chdir(cwd)
  }
})

// Start-up time: a warm start reads the Worker's config from a cache in the Worker's project instead
// of loading wrangler; anything wrangler reads that changes must invalidate it.
describe('the wrangler config cache', () => {
  function worker(files: Record<string, string> = {}): string {
    root = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-config-cache-'))
    const all: Record<string, string> = {
      'package.json': '{ "name": "w", "private": true }',
      'src/index.ts': 'export default { fetch: () => new Response("ok") }',
      'wrangler.jsonc': JSON.stringify({ name: 'w', main: 'src/index.ts', compatibility_date: '2026-07-01', vars: { GREETING: 'hello' } }),
      ...files,
    }
    for (const [file, contents] of Object.entries(all)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
      writeFileSync(path.join(root, file), contents)
    }
    return root
  }
  const load = (dir: string, options: LoadWorkerConfigOptions = {}) => loadWorkerConfig(path.join(dir, 'wrangler.jsonc'), undefined, options)
  const cacheFiles = (dir: string) => readdirSync(path.join(dir, '.mcp-harness', 'cache', 'config')).map((name) => path.join(dir, '.mcp-harness', 'cache', 'config', name))

  test('a second read comes from the cache and equals what wrangler reads', async () => {
    const dir = worker({ '.dev.vars': 'API_KEY=dev-secret-value-1\n' })
    const first = await load(dir)
    const second = await load(dir)
    expect(first.cached).toBe(false)
    expect(second.cached).toBe(true)
    const fresh = await readWorkerConfig(path.join(dir, 'wrangler.jsonc'))
    expect(second.worker).toEqual(fresh)
    expect((second.worker.workerOptions.bindings as Record<string, unknown>).API_KEY).toBe('dev-secret-value-1')
  })

  test('the cache lives in the Worker project, never in the harness folder', async () => {
    const dir = worker()
    await load(dir)
    expect(cacheFiles(dir)).toHaveLength(1)
    for (const file of cacheFiles(dir)) expect(file.startsWith(dir + path.sep)).toBe(true)
    expect(buildCacheRoot(path.join(dir, 'wrangler.jsonc')).startsWith(dir + path.sep)).toBe(true)
  })

  test('values from .dev.vars are read from the file again, never written to the cache', async () => {
    const dir = worker({ '.dev.vars': 'API_KEY=dev-secret-value-1\n' })
    await load(dir)
    for (const file of cacheFiles(dir)) expect(readFileSync(file, 'utf8')).not.toContain('dev-secret-value-1')
    writeFileSync(path.join(dir, '.dev.vars'), 'API_KEY=dev-secret-value-2\n')
    const changed = await load(dir)
    expect(changed.cached).toBe(false)
    expect((changed.worker.workerOptions.bindings as Record<string, unknown>).API_KEY).toBe('dev-secret-value-2')
    expect((await load(dir)).cached).toBe(true)
  })

  test('a .dev.vars.example naming a config var does not stop caching, and changing it still invalidates', async () => {
    const dir = worker({ '.dev.vars.example': 'GREETING=put-yours-here\n' })
    await load(dir)
    const second = await load(dir)
    expect(second.cached).toBe(true)
    expect((second.worker.workerOptions.bindings as Record<string, unknown>).GREETING).toBe('hello')
    writeFileSync(path.join(dir, '.dev.vars.example'), 'GREETING=another\n')
    expect((await load(dir)).cached).toBe(false)
  })

  test('a .env file appearing beside the config invalidates it', async () => {
    const dir = worker()
    await load(dir)
    writeFileSync(path.join(dir, '.env'), 'FROM_DOT_ENV=yes\n')
    const changed = await load(dir)
    expect(changed.cached).toBe(false)
    expect(changed.worker).toEqual(await readWorkerConfig(path.join(dir, 'wrangler.jsonc')))
  })

  test('a change of the wrangler config invalidates it', async () => {
    const dir = worker()
    await load(dir)
    writeFileSync(path.join(dir, 'wrangler.jsonc'), JSON.stringify({ name: 'w', main: 'src/index.ts', compatibility_date: '2026-07-01', vars: { GREETING: 'changed' } }))
    const changed = await load(dir)
    expect(changed.cached).toBe(false)
    expect((changed.worker.workerOptions.bindings as Record<string, unknown>).GREETING).toBe('changed')
  })

  test('a change of the harness config invalidates it', async () => {
    const dir = worker({ 'mcp-harness.config.json': '{ "hibernation": "off" }' })
    const harnessConfigFile = path.join(dir, 'mcp-harness.config.json')
    await load(dir, { harnessConfigFile })
    expect((await load(dir, { harnessConfigFile })).cached).toBe(true)
    writeFileSync(harnessConfigFile, '{ "hibernation": "on" }')
    expect((await load(dir, { harnessConfigFile })).cached).toBe(false)
  })

  test('another wrangler version invalidates it', async () => {
    const dir = worker()
    await load(dir, { wranglerVersion: '4.164.0' })
    expect((await load(dir, { wranglerVersion: '4.164.0' })).cached).toBe(true)
    expect((await load(dir, { wranglerVersion: '4.165.0' })).cached).toBe(false)
  })

  test('a change of a CLOUDFLARE_ environment variable invalidates it', async () => {
    const dir = worker()
    await load(dir)
    process.env.CLOUDFLARE_MCP_HARNESS_TEST = 'x'
    try {
      expect((await load(dir)).cached).toBe(false)
    } finally {
      delete process.env.CLOUDFLARE_MCP_HARNESS_TEST
    }
  })
})
