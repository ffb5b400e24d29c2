// Issue 9 item 2: under the harness a Worker runs on the workerd that the project's own wrangler
// ships, the one `wrangler dev` starts — not a second, older copy.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { expect, test } from 'vitest'
import { createEmulator } from '../emulator.ts'
import { loadRuntime, SUPPORTED_WRANGLER } from './runtime.ts'

const require = createRequire(import.meta.url)

test('the emulator loads the Miniflare and workerd of the installed wrangler', async () => {
  const runtime = await loadRuntime()
  const wranglerDir = path.dirname(require.resolve('wrangler/package.json'))
  const wranglerRequire = createRequire(path.join(wranglerDir, 'package.json'))
  // What wrangler dev itself would start: wrangler's miniflare, and that miniflare's workerd.
  const miniflareVersion = (wranglerRequire('miniflare/package.json') as { version: string }).version
  const workerdPackage = createRequire(wranglerRequire.resolve('miniflare/package.json')).resolve('workerd/package.json')
  expect(runtime.wranglerVersion).toBe((require('wrangler/package.json') as { version: string }).version)
  expect(runtime.miniflareVersion).toBe(miniflareVersion)
  expect(runtime.workerdVersion).toBe((require(workerdPackage) as { version: string }).version)
  // And that binary is that release (it prints the release date: 1.20261117.1 -> 2026-11-17).
  const printed = spawnSync(workerdBinary(), ['--version'], { encoding: 'utf8' }).stdout.replaceAll('-', '')
  expect(printed).toContain(runtime.workerdVersion.split('.')[1])
})

test.runIf(process.platform === 'linux')('a running emulator runs exactly that workerd binary', async () => {
  const emulator = await createEmulator({ config: 'server/wrangler.jsonc' })
  try {
    const mine = childrenOf(process.pid).filter((pid) => path.basename(safeReadlink(`/proc/${pid}/exe`)) === 'workerd')
    expect(mine.length).toBeGreaterThan(0)
    for (const pid of mine) expect(realpathSync(safeReadlink(`/proc/${pid}/exe`))).toBe(realpathSync(workerdBinary()))
  } finally {
    await emulator.dispose()
  }
})

function workerdBinary(): string {
  const wranglerRequire = createRequire(require.resolve('wrangler/package.json'))
  const workerd = createRequire(wranglerRequire.resolve('miniflare/package.json'))('workerd') as { default: string }
  return workerd.default
}

function safeReadlink(file: string): string {
  try {
    return readlinkSync(file)
  } catch {
    return ''
  }
}

/** Every descendant of `root`, from /proc. */
function childrenOf(root: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = []
  const walk = (pid: number) => {
    for (const [child, parent] of parents) if (parent === pid) found.push(child), walk(child)
  }
  walk(root)
  return found
}

test('the supported wrangler range is stated once and covers the installed wrangler', async () => {
  const runtime = await loadRuntime()
  expect(SUPPORTED_WRANGLER.range).toBe('>=4.164.0 <5')
  expect(Number(runtime.wranglerVersion.split('.')[0])).toBe(4)
})
