// KI-16: a missing signing/encryption secret must fail loudly and early, naming the secret, instead
// of breaking token issuance later. The reference server checks its secrets before any sign-in.
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import type { UpstreamProvider } from '../../emulator/index.ts'
import { runBrowser } from '../helpers/oauth-browser.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { authorizationUrl, discover, pkce, registerClient } from '../helpers/oauth-flow.ts'

let emulator: Emulator
let provider: UpstreamProvider

beforeAll(async () => {
  // An empty value is what an unset `wrangler secret` looks like after a .dev.vars copy without it.
  ;({ emulator, provider } = await startOAuthEmulator({ provider: upstream.github(), vars: { COOKIE_ENCRYPTION_KEY: '', UPSTREAM_CLIENT_SECRET: '' } }))
})
afterAll(() => emulator?.dispose())

test('KI-16: authorization fails with a 500 that names each missing secret', async () => {
  const { server } = await discover(emulator.url)
  const client = await registerClient(server)
  const result = await runBrowser(emulator.url, authorizationUrl(server, client, { challenge: pkce().challenge }))
  expect(result.reachedClient).toBe(false)
  expect(result.lastStatus).toBe(500)
  expect(result.lastBody).toContain('UPSTREAM_CLIENT_SECRET')
  expect(result.lastBody).toContain('COOKIE_ENCRYPTION_KEY')
  expect(result.lastBody).toContain('wrangler secret put')
})

test('KI-16: nothing reaches the upstream and no token is issued', () => {
  expect(provider.stats.codesIssued).toBe(0)
  expect(emulator.transcript.filter({ layer: 'upstream' })).toEqual([])
  const log = emulator.transcript.filter({ layer: 'harness', type: 'worker-log' }).map((event) => String(event.line))
  expect(log.some((line) => line.includes('missing secret(s)') && line.includes('COOKIE_ENCRYPTION_KEY'))).toBe(true)
})

test('KI-16: the API keeps answering 401 challenges (discovery is unaffected)', async () => {
  const response = await emulator.fetch('/mcp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(response.status).toBe(401)
})
