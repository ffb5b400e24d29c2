// KI-10: McpAgent given the v2 McpServer answers every MCP request with 500 "error code: 1101". The
// doctor must name KI-10 (the crash behind the endpoints), not KI-02 (a wrong path), and a Worker that
// throws for another reason must not be called KI-02 either.
import { expect, test } from 'vitest'
import { runDoctor } from '../../doctor/index.ts'
import { createEmulator } from '../../emulator/index.ts'
import { findingsOf, statuses } from './helpers.ts'

test('KI-10: the doctor names McpAgent serving the v2 McpServer, and does not call it a path mismatch (KI-02)', async () => {
  const report = await runDoctor({ config: 'server/variants/sdk-v2-server/wrangler.jsonc' })
  const [ki10] = findingsOf(report, 'KI-10')
  expect(ki10).toMatchObject({ status: 'fail', title: 'McpAgent serves an McpServer it supports' })
  expect(ki10!.cause).toContain('@modelcontextprotocol/server')
  expect(ki10!.fix).toContain('@modelcontextprotocol/sdk/server/mcp.js')
  // Evidence: what the client saw, and the Worker's own error from its log.
  expect(ki10!.evidence).toContain('POST /mcp → 500 text/plain error code: 1101')
  expect(ki10!.evidence.some((line) => /^Worker log: .*cannot serve McpServer from/.test(line))).toBe(true)
  // KI-02 is not failed: whether the paths are right cannot be seen behind the crash.
  expect(findingsOf(report, 'KI-02').map((item) => item.status)).toEqual(['skipped'])
  expect(statuses(report).filter(([, status]) => status === 'fail')).toEqual([['KI-10', 'fail']])
})

test('KI-10: from the outside alone (a URL, no Worker log), a 1101 at every MCP path is a crash finding, not KI-02', async () => {
  const emulator = await createEmulator({ config: 'server/variants/sdk-v2-server/wrangler.jsonc' })
  try {
    const report = await runDoctor({ url: emulator.url.href })
    expect(findingsOf(report, 'KI-02').map((item) => item.status)).toEqual(['skipped'])
    expect(findingsOf(report, 'worker')).toMatchObject([{ status: 'fail', title: 'Worker answers MCP without throwing' }])
    expect(findingsOf(report, 'worker')[0]!.fix).toMatch(/wrangler tail/)
  } finally {
    await emulator.dispose()
  }
})
