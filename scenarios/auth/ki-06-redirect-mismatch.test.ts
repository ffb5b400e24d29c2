// KI-06: the upstream provider refuses the authorize request when the server's callback URL is not the
// one registered for the OAuth app (e.g. registered for the deployed host, used from localhost).
// The MCP-side redirect_uri cases (unregistered URI, token request mismatch) are in security.test.ts.
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import type { UpstreamProvider } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { authorizeForCode, discover, registerClient } from '../helpers/oauth-flow.ts'

let emulator: Emulator
let provider: UpstreamProvider

beforeAll(async () => {
  // The GitHub app was registered for production only.
  ;({ emulator, provider } = await startOAuthEmulator({ provider: upstream.github({ redirectUris: ['https://mcp.example.com/callback'] }) }))
})
afterAll(() => emulator?.dispose())

test('KI-06: the upstream refuses a callback URL not registered for the app, and never redirects to it', async () => {
  const { server } = await discover(emulator.url)
  const client = await registerClient(server)
  const { code, browser } = await authorizeForCode(emulator.url, server, client)
  expect(code).toBe('')
  expect(browser.reachedClient).toBe(false)
  expect(browser.lastStatus).toBe(400)
  expect(browser.lastBody).toContain('redirect_uri_mismatch')
  expect(browser.lastBody).toContain(`${emulator.url.origin}/callback`)
  expect(provider.stats.codesIssued).toBe(0)
  const [authorize] = emulator.transcript.filter({ layer: 'upstream', type: 'authorize' })
  expect(authorize).toMatchObject({ provider: 'github', status: 400, error: 'redirect_uri_mismatch' })
})
