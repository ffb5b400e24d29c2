// Issue 9 item 4: builds are cached inside the Worker's own project, never in the harness's folder
// or whatever folder the command runs in.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { buildCacheRoot } from './wrangler.ts'

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
