// KI-24: the doctor follows a 401 challenge to the OAuth metadata and fails when its URLs leave the
// API's origin; the OAuth reference server passes.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { runDoctor } from '../../doctor/index.ts'
import type { Emulator } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn } from '../helpers/oauth-flow.ts'
import { findingsOf } from './helpers.ts'

let good: Emulator
let elsewhere: Emulator

beforeAll(async () => {
  ;[{ emulator: good }, { emulator: elsewhere }] = await Promise.all([startOAuthEmulator(), startOAuthEmulator({ vars: { PUBLIC_URL: 'https://mcp.example.com' } })])
})
afterAll(() => Promise.all([good?.dispose(), elsewhere?.dispose()]))

test('KI-24: the OAuth reference server keeps its metadata on the API origin', async () => {
  const report = await runDoctor({ url: good.url.href })
  expect(report.summary.fail).toBe(0)
  const [finding] = findingsOf(report, 'KI-24')
  expect(finding).toMatchObject({ status: 'ok' })
  expect(finding!.evidence[0]).toMatch(/^WWW-Authenticate: Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource(\/mcp)?"/)
  // Without a token the doctor cannot see what answers behind the 401: it says so instead of "ok".
  expect(findingsOf(report, 'KI-02')[0]).toMatchObject({ status: 'skipped', cause: expect.stringContaining('/mcp and /sse answer 401: the MCP endpoint is behind a token') })
  expect(findingsOf(report, 'KI-08')[0]!.status).toBe('skipped')
})

test('KI-02, KI-22, KI-08: with --sign-in the checks behind OAuth run against the signed-in session', async () => {
  const signIns: string[] = []
  const report = await runDoctor(
    { url: good.url.href, signIn: true, evictCheck: 'counter' },
    {
      emulator: good,
      signIn: async (url) => {
        signIns.push(url)
        return (await signIn(new URL(url).origin)).tokens.access_token
      },
    },
  )
  expect(signIns).toEqual([`${good.url.origin}/mcp`])
  expect(report.summary.fail).toBe(0)
  expect(findingsOf(report, 'KI-02')[0]).toMatchObject({ status: 'ok', cause: expect.stringMatching(/^Streamable HTTP at \/mcp \(sessionful: initialize returns mcp-session-id\); legacy SSE at \/sse .* with the token from sign-in\./) })
  expect(findingsOf(report, 'KI-24')[0]!.status).toBe('ok')
  expect(findingsOf(report, 'KI-08')[0]!.status).toBe('ok')
  expect(findingsOf(report, 'KI-11')[0]).toMatchObject({ status: 'ok' })
  // The preflight asks for what a signed-in browser client sends, the token never shows in the report.
  expect(findingsOf(report, 'KI-07')[0]!.evidence[0]).toContain('for POST with authorization,content-type,mcp-protocol-version,mcp-session-id')
  expect(JSON.stringify(report)).not.toMatch(/Bearer [\w-]{8,}/)
})

test('KI-24: metadata naming another origin fails, and nothing leaves the machine', async () => {
  const report = await runDoctor({ url: elsewhere.url.href })
  const [finding] = findingsOf(report, 'KI-24')
  expect(finding).toMatchObject({ status: 'fail', cause: expect.stringContaining('https://mcp.example.com') })
  expect(elsewhere.errors).toEqual([])
  expect(elsewhere.transcript.filter({ layer: 'upstream' })).toEqual([])
})
