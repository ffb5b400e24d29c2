// The doctor on the reference server: every check passes or says why it cannot decide; the
// eviction check (KI-11) and the client-config checks (KI-20, KI-05, KI-02, KI-03) fail when they must.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { DoctorReportSchema, runDoctor } from '../../doctor/index.ts'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'
import { clientConfigFile, findingsOf, runCli, statuses } from './helpers.ts'

let emulator: Emulator

beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

test('finds no failure on the reference server, and KI-11 passes for the state-backed counter', async () => {
  const report = await runDoctor({ evictCheck: 'counter' }, { emulator })
  expect(DoctorReportSchema.parse(report)).toEqual(report)
  expect(report.summary.fail).toBe(0)
  expect(Object.fromEntries(statuses(report).filter(([id]) => id !== 'KI-08'))).toEqual({
    'KI-21': 'ok',
    'KI-02': 'ok',
    'KI-18': 'ok',
    'KI-04': 'ok',
    'KI-03': 'ok',
    'KI-07': 'ok',
    'KI-22': 'ok',
    'KI-34': 'ok',
    'KI-24': 'skipped',
    'KI-11': 'ok',
  })
  expect(findingsOf(report, 'KI-02')[0]!.cause).toContain('Streamable HTTP at /mcp (sessionful: initialize returns mcp-session-id); legacy SSE at /sse (messages to /sse/message)')
  expect(findingsOf(report, 'KI-11')[0]!.evidence).toEqual(['call 1 → 1', 'call 2 → 2', expect.stringMatching(/^evicted streamable-http:/), 'call 3 → 3'])
  // KI-08: Streamable HTTP answers -32700; McpAgent's legacy SSE message route (agents 0.32) answers 500.
  expect(findingsOf(report, 'KI-08').map((item) => [item.title, item.status])).toEqual([
    ['Malformed JSON answered with -32700 (Streamable HTTP)', 'ok'],
    ['Malformed JSON answered with -32700 (legacy SSE)', 'warn'],
  ])
  expect(emulator.errors).toEqual([])
})

test('KI-11: the eviction check fails for memo, which lives in an instance field', async () => {
  const report = await runDoctor({ evictCheck: 'memo' }, { emulator })
  const [finding] = findingsOf(report, 'KI-11')
  expect(finding).toMatchObject({ status: 'fail', fix: expect.stringContaining('this.setState') })
  expect(finding!.evidence).toEqual(['call 1 → 1', 'call 2 → 2', expect.stringMatching(/^evicted /), 'call 3 → 1'])
})

test('KI-22: a page origin the server refuses is reported, not mistaken for missing CORS headers', async () => {
  const report = await runDoctor({ url: emulator.url.href, origin: 'https://app.example' })
  expect(findingsOf(report, 'KI-22')[0]).toMatchObject({ status: 'warn', cause: expect.stringContaining('refuses Origin https://app.example') })
})

test('KI-20, KI-05, KI-02, KI-03: a bad client config fails with the line, host, path and transport at fault', async () => {
  const port = emulator.url.port
  const trailing = await clientConfigFile('claude_desktop_config.json', `{\n  "mcpServers": {\n    "ref": { "command": "npx", "args": ["mcp-remote", "http://127.0.0.1:${port}/mcp"] },\n  }\n}\n`)
  const syntax = await runDoctor({ url: emulator.url.href, clientConfig: trailing })
  expect(findingsOf(syntax, 'KI-20')[0]).toMatchObject({ status: 'fail', cause: expect.stringContaining('trailing comma before "}" at line 3') })

  const wrong = await clientConfigFile(
    'mcp.json',
    JSON.stringify({
      mcpServers: {
        oldPort: { command: 'npx', args: ['mcp-remote', 'http://localhost:8787/mcp'] },
        noPath: { url: `http://127.0.0.1:${port}/` },
        forced: { command: 'npx', args: ['-y', 'mcp-remote', `http://localhost:${port}/sse`, '--transport', 'http-only'] },
      },
    }),
  )
  const report = await runDoctor({ url: emulator.url.href, clientConfig: wrong })
  const client = report.findings.filter((item) => /config|Client/.test(item.title)).map((item) => [item.id, item.status, item.title])
  expect(client).toEqual([
    ['KI-20', 'ok', 'Client config format (mcp.json)'],
    ['KI-05', 'fail', 'Client URL host of "oldPort"'],
    ['KI-02', 'ok', 'Client URL path of "oldPort"'],
    ['KI-05', 'ok', 'Client URL host of "noPath"'],
    ['KI-02', 'fail', 'Client URL path of "noPath"'],
    ['KI-05', 'ok', 'Client URL host of "forced"'],
    ['KI-03', 'fail', 'Client transport of "forced"'],
  ])
  expect(findingsOf(report, 'KI-02').find((item) => item.status === 'fail')!.fix).toBe(`Use http://127.0.0.1:${port}/mcp.`)
})

test('the CLI prints the report, exits 0 without failures, and 1 with a failing client config', async () => {
  const ok = await runCli(['doctor', '--url', emulator.url.href])
  expect(ok.code).toBe(0)
  expect(ok.stdout).toMatch(/^✓ KI-07 CORS preflight \(OPTIONS\): The preflight from http:\/\/localhost:6274 passes on \/mcp, \/sse\/message\.$/m)
  expect(ok.stdout).toMatch(/^\d+ ok, 1 warn, 0 fail, \d+ skipped \(\d+ ms\)$/m)
  const bad = await clientConfigFile('claude_desktop_config.json', JSON.stringify({ ref: { command: 'npx', args: ['mcp-remote', `${emulator.url.href}mcp`] } }))
  const failed = await runCli(['doctor', '--url', emulator.url.href, '--client-config', bad, '--json'])
  expect(failed.code).toBe(1)
  const report = JSON.parse(failed.stdout)
  expect(report.findings.at(-1)).toMatchObject({ id: 'KI-20', status: 'fail', cause: expect.stringContaining('"mcpServers" wrapper is missing') })
})

test('doctor --help documents the options and exit codes', async () => {
  const help = await runCli(['doctor', '--help'])
  expect(help.code).toBe(0)
  for (const text of ['--config', '--url', '--client-config', '--origin', '--evict-check', '--json', '--token', '--header', '--sign-in', 'Exit code: 0 when nothing failed, 1']) expect(help.stdout).toContain(text)
  expect((await runCli(['doctor', '--config', '.', '--url', 'http://127.0.0.1:1'])).code).toBe(2)
})
