// Secrets never land in the in-memory transcript (issue 11 item 2, STYLE: redact before anything is
// stored): after an OAuth sign-in and authenticated MCP calls, neither `emulator.transcript.events`
// nor the control plane's `/v1/transcript` holds an OAuth code, verifier, token, client secret or
// credential header; what the harness reads back (session ids, methods, statuses) is still there.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { upstream, type Emulator } from '../../emulator/index.ts'
import { startControlPlane, type ControlPlane } from '../../emulator/control/server.ts'
import { findSecrets } from '../../core/redact/scan.ts'
import { connectClient } from '../helpers/clients.ts'
import { oauthTestVars, startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn, tokenRequest, type SignIn } from '../helpers/oauth-flow.ts'

let emulator: Emulator
let control: ControlPlane
let alice: SignIn
let refreshed: { access_token: string; refresh_token: string }
let sessionId: string

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator({ provider: upstream.github({ users: [{ id: 1001, login: 'alice', name: 'Alice Example', email: 'alice@example.com' }] }) }))
  control = await startControlPlane(emulator)
  alice = await signIn(emulator.url, { user: 'alice' })
  const answer = await tokenRequest(alice.discovery.server, { grant_type: 'refresh_token', refresh_token: alice.tokens.refresh_token!, client_id: alice.client.client_id })
  refreshed = answer.body as typeof refreshed
  for (const transport of ['streamable-http', 'sse'] as const) {
    const client = await connectClient(emulator.url, { transport, headers: { authorization: `Bearer ${refreshed.access_token}`, cookie: 'session=cookie-value-that-is-secret' } })
    expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
    if (transport === 'streamable-http') sessionId = client.sessionId()
    await client.close()
  }
})
afterAll(async () => {
  await control?.close()
  await emulator?.dispose()
})

/** Every secret value this run handled, as the parties saw them. */
const secrets = () => [
  alice.code,
  alice.verifier,
  alice.tokens.access_token,
  alice.tokens.refresh_token!,
  refreshed.access_token,
  refreshed.refresh_token,
  'cookie-value-that-is-secret',
  ...Object.entries(oauthTestVars())
    .filter(([name]) => /secret/i.test(name))
    .map(([, value]) => value),
  ...(alice.client.client_secret ? [String(alice.client.client_secret)] : []),
]

/**
 * The secret scan by name and shape (unredacted credential fields and headers, JWTs, bearer values,
 * provider tokens). Its entropy rules (long hex or base64) are left out here: the in-memory transcript
 * keeps session ids and PKCE challenges on purpose (the harness reads them back; cassettes turn them
 * into placeholders), and every secret value this run handled is also checked literally below.
 */
const scan = (value: unknown) => findSecrets(value).filter((finding) => finding.rule !== 'long hex' && finding.rule !== 'long base64')

test('the scan catches an unredacted token, so an empty finding means something', () => {
  expect(scan({ headers: { authorization: `Bearer ${alice.tokens.access_token}` } })).not.toEqual([])
  expect(scan({ body: { code_verifier: alice.verifier } })).not.toEqual([])
})

test('an OAuth sign-in, a refresh and authenticated calls leave no secret in emulator.transcript.events', () => {
  const events = emulator.transcript.events
  expect(events.some((event) => event.layer === 'client' && typeof event.path === 'string' && event.path === '/token')).toBe(true)
  expect(scan(events)).toEqual([])
  const text = JSON.stringify(events)
  for (const secret of secrets()) expect(text).not.toContain(secret)
  // The upstream's state travels inside a URL inside a query (the browser driver's page URL): redacted too.
  expect(text).not.toMatch(/state%3D(?!%253Credacted)[A-Za-z0-9_-]{16,}/)
  expect(text).not.toMatch(/mock_(code|at|rt)_/)
})

test('the control plane serves the same redacted transcript at /v1/transcript', async () => {
  const response = await fetch(new URL('transcript', control.url), { headers: { authorization: `Bearer ${control.token}` } })
  const { events } = (await response.json()) as { events: unknown[] }
  expect(events.length).toBeGreaterThan(10)
  expect(scan(events)).toEqual([])
  const text = JSON.stringify(events)
  for (const secret of secrets()) expect(text).not.toContain(secret)
})

test('what the harness reads back stays: session ids, the Bearer scheme, token-endpoint fields that are not secret', () => {
  const responses = emulator.transcript.filter({ layer: 'client', type: 'response' })
  expect(responses.some((event) => (event.headers as Record<string, string>)['mcp-session-id'] === sessionId)).toBe(true)
  const authorized = emulator.transcript.filter({ layer: 'client', type: 'request' }).find((event) => (event.headers as Record<string, string>).authorization)
  expect((authorized!.headers as Record<string, string>).authorization).toBe('Bearer <redacted:authorization>')
  const token = emulator.transcript.filter({ layer: 'client', type: 'request', path: '/token' })[0]!
  const form = new URLSearchParams(String(token.bodyText))
  expect(form.get('grant_type')).toBe('authorization_code')
  expect(form.get('client_id')).toBe(alice.client.client_id)
  expect(form.get('code')).toBe('<redacted:code>')
  expect(form.get('code_verifier')).toBe('<redacted:code_verifier>')
})
