// KI-24: the doctor follows a 401 challenge to the OAuth metadata and fails when its URLs leave the
// API's origin; the OAuth reference server passes.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { runDoctor } from '../../doctor/index.ts'
import type { Emulator } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
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
  expect(findingsOf(report, 'KI-02')[0]!.cause).toContain('(behind a token: 401)')
  expect(findingsOf(report, 'KI-08')[0]!.status).toBe('skipped')
})

test('KI-24: metadata naming another origin fails, and nothing leaves the machine', async () => {
  const report = await runDoctor({ url: elsewhere.url.href })
  const [finding] = findingsOf(report, 'KI-24')
  expect(finding).toMatchObject({ status: 'fail', cause: expect.stringContaining('https://mcp.example.com') })
  expect(elsewhere.errors).toEqual([])
  expect(elsewhere.transcript.filter({ layer: 'upstream' })).toEqual([])
})
