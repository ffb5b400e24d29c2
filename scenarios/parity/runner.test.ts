// parity() end to end over two small in-process HTTP servers (no workerd): the table, the baseline
// (accepted, missing, stale), skipped targets, headers for url= targets, and --out.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import assert from 'node:assert/strict'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isHarnessError } from '../../core/errors.ts'
import type { Target } from '../helpers/targets.ts'
import { loadBaseline } from './baseline.ts'
import { parity } from './runner.ts'
import { defineSuite } from './suites/define.ts'

let dir: string
const seen: (IncomingHttpHeaders & { method?: string })[] = []
const servers: Server[] = []

/** A target over a local server whose /b answers `bStatus`. */
async function serverTarget(name: string, bStatus: number): Promise<Target> {
  const server = createServer((req, res) => {
    seen.push({ ...req.headers, method: req.method })
    if (req.url === '/b') res.writeHead(bStatus, { 'content-type': 'text/plain' }).end(bStatus === 200 ? 'ok' : 'nope')
    else res.writeHead(200, { 'content-type': 'application/json', date: new Date().toUTCString() }).end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { self: `http://${req.headers.host}/a` } }))
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`)
  return { name, baseUrl, capabilities: { transports: ['streamable-http'], stateless: false, emulator: false }, start: async () => {}, stop: async () => {} }
}

const suite = defineSuite('demo', 'two raw steps', (scenario) => {
  scenario('a answers 200', async (ctx) => {
    assert.equal((await ctx.request('/a')).status, 200)
  })
  scenario('b answers 200', async (ctx) => {
    assert.equal((await ctx.request('/b')).status, 200)
  })
  scenario('needs the stateless entry', { requires: ['stateless'] }, async () => {})
})

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'parity-runner-'))
  await writeFile(path.join(dir, 'wrangler.jsonc'), '{ "name": "demo" }')
})
afterAll(async () => {
  for (const server of servers) server.close()
  await rm(dir, { recursive: true, force: true })
})

describe('parity()', () => {
  test('marks equal scenarios, names the first difference and fails on a difference not in the baseline', async () => {
    const report = await parity({ config: path.join(dir, 'wrangler.jsonc'), targets: [await serverTarget('one', 200), await serverTarget('two', 404)], suites: [suite], baseline: false })
    expect(report.exitCode).toBe(1)
    const cells = Object.fromEntries(report.scenarios.map((s) => [s.id, s.cells]))
    expect(cells['demo/a answers 200']).toMatchObject({ one: { state: 'pass' }, two: { state: 'equal' } })
    expect(cells['demo/b answers 200']!.two).toMatchObject({ state: 'differs', difference: { exchange: '#1 GET /b', fields: ['status', 'body'] } })
    expect(cells['demo/needs the stateless entry']!.two).toMatchObject({ state: 'skipped', reason: 'the target has no stateless entry' })
    expect(report.text).toMatch(/two differs from one at #1 GET \/b \(status, body\)/)
    expect(report.text).toMatch(/First difference: two \/ demo\/b answers 200 at #1 GET \/b/)
  })

  test('passes when the difference is baselined, and fails on a stale entry', async () => {
    const baseline = path.join(dir, 'parity-baseline.yml')
    const entry = { target: 'two', scenario: 'demo/b answers 200', exchange: '#1 GET /b', reason: 'the second server has no /b' }
    const stale = { target: 'two', scenario: 'demo/a answers 200', exchange: '#1 GET /a', reason: 'was different once' }
    await writeFile(baseline, `version: 1\ndifferences:\n${[entry].map((e) => `  - ${JSON.stringify(e)}`).join('\n')}\n`)
    const targets = async () => [await serverTarget('one', 200), await serverTarget('two', 404)]
    const ok = await parity({ config: path.join(dir, 'wrangler.jsonc'), targets: await targets(), suites: [suite], baseline })
    expect(ok.exitCode).toBe(0)
    expect(ok.scenarios.find((s) => s.id === 'demo/b answers 200')!.cells.two).toMatchObject({ state: 'baselined', reason: entry.reason })

    await writeFile(baseline, `version: 1\ndifferences:\n${[entry, stale].map((e) => `  - ${JSON.stringify(e)}`).join('\n')}\n`)
    const staleRun = await parity({ config: path.join(dir, 'wrangler.jsonc'), targets: await targets(), suites: [suite], baseline })
    expect(staleRun.exitCode).toBe(1)
    expect(staleRun.stale).toEqual([stale])
    expect(staleRun.text).toMatch(/Stale baseline entries[^\n]*\n {2}two \/ demo\/a answers 200 at #1 GET \/a/)
  })

  test('skips remote with one line naming the variables to set, and writes --out', async () => {
    const out = path.join(dir, 'out')
    const saved = { token: process.env.CLOUDFLARE_API_TOKEN, account: process.env.CLOUDFLARE_ACCOUNT_ID }
    delete process.env.CLOUDFLARE_API_TOKEN
    delete process.env.CLOUDFLARE_ACCOUNT_ID
    try {
      const report = await parity({ config: path.join(dir, 'wrangler.jsonc'), targets: [await serverTarget('one', 200), 'remote'], suites: [suite], baseline: false, out })
      expect(report.targets[1]).toEqual({ name: 'remote', status: 'skipped', reason: expect.stringMatching(/^set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID to run wrangler dev --remote/) })
      expect(report.exitCode).toBe(0)
      expect(report.text).toMatch(/remote: skipped: set CLOUDFLARE_API_TOKEN/)
    } finally {
      Object.assign(process.env, saved.token ? { CLOUDFLARE_API_TOKEN: saved.token } : {}, saved.account ? { CLOUDFLARE_ACCOUNT_ID: saved.account } : {})
    }
    expect(JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'))).toMatchObject({ reference: 'one' })
    expect(await readdir(path.join(out, 'runs', 'one'))).toContain('demo-a-answers-200.json')
  })

  test('adds --header values to url= targets only', async () => {
    const one = await serverTarget('one', 200)
    const two = await serverTarget('two', 200)
    seen.length = 0
    const report = await parity({ config: path.join(dir, 'wrangler.jsonc'), targets: [one, `url=${two.baseUrl.origin}`], suites: [suite], headers: { authorization: 'Bearer secret-token' }, baseline: false })
    expect(report.exitCode).toBe(0)
    expect(seen.filter((headers) => headers.authorization === 'Bearer secret-token')).toHaveLength(2)
    // The two steps on the reference target (the url= target's reachability probe is a HEAD).
    expect(seen.filter((headers) => headers.method === 'GET' && !headers.authorization)).toHaveLength(2)
    // The token is sent, never shown.
    expect(report.text).not.toContain('secret-token')
  })

  test('rejects one target, an unknown suite and an unknown target with ERR_OPTIONS', async () => {
    const config = path.join(dir, 'wrangler.jsonc')
    await expect(parity({ config, targets: ['emulator'] })).rejects.toThrow(/at least two targets/)
    const unknownSuite = await parity({ config, targets: ['emulator', 'wrangler-dev'], suites: ['nope'] }).catch((error: unknown) => error)
    expect(isHarnessError(unknownSuite, 'ERR_OPTIONS') && unknownSuite.message).toMatch(/Unknown parity suite "nope": expected one of lifecycle, protocol, stateless, hibernation/)
    await expect(parity({ config, targets: ['emulator', 'staging'] })).rejects.toThrow(/Invalid target "staging"/)
  })
})

describe('loadBaseline', () => {
  test('names the missing field of an entry', async () => {
    const file = path.join(dir, 'bad.yml')
    await writeFile(file, 'version: 1\ndifferences:\n  - target: two\n    scenario: x\n    exchange: outcome\n')
    await expect(loadBaseline(file)).rejects.toThrow(/"differences\.0\.reason"/)
  })

  test('refuses a reason of more than one line', async () => {
    const file = path.join(dir, 'multi.yml')
    await writeFile(file, 'version: 1\ndifferences:\n  - target: two\n    scenario: x\n    exchange: outcome\n    reason: "one\\ntwo"\n')
    await expect(loadBaseline(file)).rejects.toThrow(/one line/)
  })
})
