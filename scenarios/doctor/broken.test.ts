// The doctor on deliberately broken Workers: each known failure is named as a finding with its
// KI-ID, cause and fix — a config that cannot start included (a finding, not a crash).
import { expect, test } from 'vitest'
import { runDoctor } from '../../doctor/index.ts'
import { findingsOf, runCli } from './helpers.ts'

test('KI-07: the no-options variant fails the preflight check and nothing else', async () => {
  const report = await runDoctor({ config: 'server/variants/no-options/wrangler.jsonc' })
  expect(report.findings.filter((item) => item.status === 'fail').map((item) => item.id)).toEqual(['KI-07'])
  const [finding] = findingsOf(report, 'KI-07')
  expect(finding!.cause).toContain("Response to preflight request doesn't pass access control check")
  expect(finding!.evidence[0]).toMatch(/^OPTIONS \/mcp → 405 /)
  // The variant serves no /health and no /sse: named, not failed.
  expect(findingsOf(report, 'KI-21')[0]!.status).toBe('warn')
  expect(findingsOf(report, 'KI-18')[0]!.status).toBe('skipped')
})

test('KI-22: the no-expose-headers variant fails through the CLI with exit code 1', async () => {
  const { code, stdout } = await runCli(['doctor', '--config', 'server/variants/no-expose-headers/wrangler.jsonc', '--json'])
  expect(code).toBe(1)
  const report = JSON.parse(stdout) as Awaited<ReturnType<typeof runDoctor>>
  expect(report.findings.filter((item) => item.status === 'fail').map((item) => item.id)).toEqual(['KI-22'])
  const [finding] = findingsOf(report, 'KI-22')
  expect(finding!.cause).toContain('does not list it: a browser script cannot read it')
  expect(finding!.evidence).toContain('access-control-expose-headers: x-request-id')
  expect(findingsOf(report, 'KI-07')[0]!.status).toBe('ok')
})

test.each([
  ['KI-13', 'scenarios/fixtures/broken-no-migration/wrangler.jsonc', /no migration defined/, /"migrations": \[\{ "tag": "v1", "new_sqlite_classes": \["ReferenceMcp"\] \}\]/],
  ['KI-12', 'scenarios/fixtures/broken-no-do-binding/wrangler.jsonc', /binds no Durable Object/, /"durable_objects"/],
  ['KI-01', 'scenarios/fixtures/broken-not-exported/wrangler.jsonc', /does not export the Durable Object class HiddenMcp/, /export/],
])('%s: a Worker that cannot start is one failing finding with the fix', async (id, config, cause, fix) => {
  const report = await runDoctor({ config })
  expect(report.findings).toHaveLength(1)
  expect(report.findings[0]).toMatchObject({ id, status: 'fail', cause: expect.stringMatching(cause), fix: expect.stringMatching(fix) })
  expect(report.url).toBeUndefined()
})

test('KI-21: an address where nothing listens is one failing finding, not a crash', async () => {
  const report = await runDoctor({ url: 'http://127.0.0.1:9/', timeoutMs: 1_000 })
  expect(report.findings.map((item) => [item.id, item.status, item.title])).toEqual([
    ['KI-21', 'fail', 'Server reachable'],
    ['KI-11', 'skipped', 'State survives hibernation'],
  ])
  expect(report.findings[0]!.evidence[0]).toMatch(/^GET \/health → no answer/)
})
