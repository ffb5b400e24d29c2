// Issue 10 item 4: a Worker shaped like Cloudflare's Google OAuth template, which calls the legacy
// token endpoint `accounts.google.com/o/oauth2/token` and `www.googleapis.com/oauth2/v2/userinfo`.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, signIn, upstream, type Emulator } from '../../../emulator/index.ts'
import { connectClient } from '../../helpers/clients.ts'

const google = upstream.google({ users: [{ id: '4242', email: 'ada@example.com', name: 'Ada Lovelace' }] })
let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: 'scenarios/fixtures/google-oauth', workerLog: 'silent', upstream: { providers: [google] } })
})
afterAll(() => emulator?.dispose())

test('signs in through the legacy Google token endpoint and the v2 userinfo, then calls a tool', { timeout: 60_000 }, async () => {
  const { tokens } = await signIn(emulator)
  const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${tokens.access_token}` } })
  expect(JSON.parse(await client.text('whoami'))).toEqual({ id: '4242', name: 'Ada Lovelace', email: 'ada@example.com' })
  await client.close()
  const calls = emulator.transcript.filter({ layer: 'upstream', type: 'request' }).map((event) => event.url)
  expect(calls).toEqual(['https://accounts.google.com/o/oauth2/token', 'https://www.googleapis.com/oauth2/v2/userinfo'])
})

test('a Google outage at the token endpoint surfaces as the Worker\'s 500 at the "upstream" step', { timeout: 60_000 }, async () => {
  google.fault('token', { status: 503, times: 1 })
  await expect(signIn(emulator)).rejects.toThrow(/step "upstream".*\/callback, which answered HTTP 500: Failed to fetch access token/)
})
