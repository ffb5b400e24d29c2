// The CI parity lane (issue 12, item 7): emulator vs `wrangler dev --local` over the lifecycle,
// protocol and stateless suites on the reference server and on every fixture Worker that is an MCP
// server; the emulator container as the stand-in for a remote server; `wrangler dev --remote` with
// bad credentials failing fast and in one line, offline. With CI=true (or
// MCP_HARNESS_PARITY_SLOW=1) the hibernation suite runs too, once, in the same wrangler dev process.
// Every test is concurrent: a plain test between them would make vitest run the groups one after another.
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { dockerAvailable } from '../../container/build-image.ts'
import { createEmulator } from '../../emulator/index.ts'
import { containerTarget, remoteTarget } from '../helpers/targets.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'
import { DEFAULT_SUITES, parity, type ParityReport } from './index.ts'

const SLOW = process.env.CI === 'true' || process.env.MCP_HARNESS_PARITY_SLOW === '1'
const FIXTURES = path.join('scenarios', 'fixtures')
const docker = await dockerAvailable()
if (!docker && process.env.CI === 'true') throw new Error('[mcp-harness] The parity container lane must run in CI, but no Docker engine answers. .ci/run installs and starts one (docker.io).')

/**
 * Fixture Workers that are MCP servers: a wrangler config whose sources import an MCP server
 * library. Broken fixtures (`broken-*`) exist to fail the build and are left out.
 */
export async function mcpFixtureConfigs(root = FIXTURES): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('broken-')) continue
    const dir = path.join(root, entry.name)
    const files = await readdir(dir, { recursive: true }).catch(() => [] as string[])
    if (!files.includes('wrangler.jsonc')) continue
    const sources = files.filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.includes('node_modules'))
    const texts = await Promise.all(sources.map((file) => readFile(path.join(dir, file), 'utf8')))
    if (texts.some((text) => /from ['"](agents\/mcp|@modelcontextprotocol\/(sdk\/server|server))/.test(text))) found.push(path.join(dir, 'wrangler.jsonc'))
  }
  return found.sort()
}

/** Every cell that is not equal must be baselined with a reason; the report explains otherwise. */
function expectAgreement(report: ParityReport & { text: string }): void {
  expect(report.exitCode, report.text).toBe(0)
  for (const scenario of report.scenarios) {
    for (const [target, cell] of Object.entries(scenario.cells)) {
      if (target === report.reference || cell.state === 'equal') continue
      expect(cell.state === 'baselined' ? cell.reason : `${target} / ${scenario.id}: ${cell.state}`, report.text).toMatch(/\S/)
    }
  }
}

const fixtures = await mcpFixtureConfigs()

describe('parity lane', () => {
  test.concurrent(
    `the emulator and wrangler dev agree on the reference server over ${[...DEFAULT_SUITES, ...(SLOW ? ['hibernation'] : [])].join(', ')} (KI-11, KI-28, KI-29 with hibernation)`,
    { timeout: 300_000 },
    async () => {
      const report = await parity({ config: REFERENCE_CONFIG, targets: ['emulator', 'wrangler-dev'], suites: [...DEFAULT_SUITES, ...(SLOW ? ['hibernation'] : [])] })
      expectAgreement(report)
      expect(report.scenarios.length).toBeGreaterThan(30)
      if (SLOW) {
        // The slow lane: real idle eviction under wrangler dev ends where evict() ends.
        const hibernation = report.scenarios.filter((scenario) => scenario.suite === 'hibernation')
        expect(hibernation.map((scenario) => [scenario.cells.emulator?.state, scenario.cells['wrangler-dev']?.state])).toEqual(hibernation.map(() => ['pass', 'equal']))
      }
    },
  )

  test.concurrent('wrangler dev --remote with bad credentials fails fast with wrangler\'s own error in one line (offline)', { timeout: 120_000 }, async () => {
    const remote = remoteTarget({
      config: REFERENCE_CONFIG,
      // Fake credentials: wrangler's API calls fail offline (or are refused online); either way it prints an error.
      env: { CLOUDFLARE_API_TOKEN: 'parity-lane-fake-token', CLOUDFLARE_ACCOUNT_ID: '00000000000000000000000000000000' },
      readyTimeoutMs: 90_000,
    })
    // The reference is a local server: the point is how the remote target fails.
    const server = createServer((_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const report = await parity({ config: REFERENCE_CONFIG, targets: [`url=http://127.0.0.1:${(server.address() as AddressInfo).port}`, remote], suites: ['protocol'], baseline: false })
      expect(report.targets[1]).toMatchObject({ name: 'remote', status: 'failed', reason: expect.stringMatching(/^\[mcp-harness\] ERR_TARGET: Failed to start wrangler dev --remote for .+: \S/) })
      // One line, and wrangler's words rather than a timeout: it stops at wrangler's first error.
      expect(report.targets[1]!.reason).not.toMatch(/\n|did not answer/)
      expect(report.text).toContain(`remote: failed: ${report.targets[1]!.reason}`)
      expect(report.exitCode).toBe(1)
    } finally {
      server.close()
    }
  })

  test.concurrent('a url= target serving another Worker (kv-notes under a second emulator) fails the run and names the first difference', { timeout: 180_000 }, async () => {
    const other = await createEmulator({ config: path.join(FIXTURES, 'kv-notes', 'wrangler.jsonc') })
    try {
      const report = await parity({ config: REFERENCE_CONFIG, targets: ['emulator', `url=${other.url.href}`], suites: ['stateless'] })
      expect(report.exitCode).toBe(1)
      const name = `url=${other.url.origin}`
      expect(report.scenarios[0]!.cells[name]).toMatchObject({ state: 'differs', difference: { exchange: '#1 POST /mcp-stateless server/discover', fields: expect.arrayContaining(['status']) } })
      expect(report.text).toContain(`First difference: ${name} / ${report.scenarios[0]!.id} at #1 POST /mcp-stateless server/discover`)
    } finally {
      await other.dispose()
    }
  })

  test.concurrent.each(fixtures)('the emulator and wrangler dev agree on the fixture %s', { timeout: 300_000 }, async (config) => {
    expectAgreement(await parity({ config, targets: ['emulator', 'wrangler-dev'], suites: DEFAULT_SUITES }))
  })

  test.concurrent('fixture discovery finds MCP servers only (kv-notes and the broken fixtures are not)', async () => {
    expect(fixtures.every((config) => !/kv-notes|broken-/.test(config))).toBe(true)
  })

  // The remote lane's stand-in: the emulator image over its published port (not the in-process front door).
  ;(docker ? test.concurrent : test.skip)('the emulator and the emulator container agree on the reference server (remote stand-in)', { timeout: 600_000 }, async () => {
    expectAgreement(await parity({ config: REFERENCE_CONFIG, targets: ['emulator', containerTarget({ config: REFERENCE_CONFIG })], suites: ['lifecycle', 'protocol'] }))
  })
})
