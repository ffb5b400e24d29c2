// Issue 4: the full OAuth happy path against the OAuthProvider-wrapped reference server, headless,
// with a mocked GitHub upstream: discovery, registration, PKCE S256, consent, upstream sign-in,
// token exchange, an authenticated MCP session on both transports, refresh and revocation.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import { connectClient, TRANSPORTS } from '../helpers/clients.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { discover, signIn, tokenRequest, type SignIn } from '../helpers/oauth-flow.ts'

const USERS = [
  { id: 1001, login: 'alice', name: 'Alice Example', email: 'alice@example.com' },
  { id: 1002, login: 'bob', name: 'Bob Example', email: 'bob@example.com' },
]

let emulator: Emulator
let alice: SignIn

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator({ provider: upstream.github({ users: USERS }) }))
  alice = await signIn(emulator.url, { user: 'alice' })
})
afterAll(() => emulator?.dispose())

describe('discovery', () => {
  test('answers an unauthenticated API call with 401 and a WWW-Authenticate naming the resource metadata', async () => {
    for (const path of ['/mcp', '/sse']) {
      const response = await emulator.fetch(path, { headers: { accept: 'text/event-stream' } })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="OAuth", resource_metadata="${emulator.url.origin}/.well-known/oauth-protected-resource"`)
    }
  })

  test('publishes both well-known documents on the origin the client reached', async () => {
    const { resource, server } = await discover(emulator.url)
    expect(resource).toMatchObject({ resource: emulator.url.origin, authorization_servers: [emulator.url.origin] })
    expect(server).toMatchObject({
      issuer: emulator.url.origin,
      authorization_endpoint: `${emulator.url.origin}/authorize`,
      token_endpoint: `${emulator.url.origin}/token`,
      registration_endpoint: `${emulator.url.origin}/register`,
    })
    // OAuth 2.1: S256 only, no plain PKCE and no implicit flow.
    expect(server.code_challenge_methods_supported).toEqual(['S256'])
    expect(server.response_types_supported).toEqual(['code'])
  })
})

describe('authorization code flow', () => {
  test('registers a client dynamically and walks consent, upstream sign-in and callback', () => {
    expect(alice.client.client_id).toMatch(/\S{8,}/)
    const hops = alice.browser.steps.map((step) => `${step.method} ${new URL(step.url).host === 'github.com' ? 'github' : new URL(step.url).pathname} ${step.status}${step.consent ? ' consent' : ''}`)
    expect(hops).toEqual(['GET /authorize 200 consent', 'POST /authorize 302', 'GET github 302', 'GET /callback 302'])
    expect(alice.browser.reachedClient).toBe(true)
    expect(alice.browser.finalUrl.searchParams.get('iss')).toBe(emulator.url.origin)
  })

  test('the server exchanges the upstream code with PKCE and fetches the user, secrets redacted in the transcript', () => {
    const calls = emulator.transcript.filter({ layer: 'upstream', type: 'request' })
    expect(calls.map((event) => `${event.method} ${event.url}`)).toEqual(['POST https://github.com/login/oauth/access_token', 'GET https://api.github.com/user'])
    expect(calls[0].body).toMatchObject({ client_id: 'test-client-id', client_secret: '<redacted:client_secret>', code: '<redacted:code>', code_verifier: '<redacted:code_verifier>' })
    const upstreamText = JSON.stringify(emulator.transcript.filter({ layer: 'upstream' }))
    expect(upstreamText).not.toContain('test-client-secret')
    expect(upstreamText).not.toMatch(/mock_(code|at|rt)_/)
  })

  test('issues a bearer token with refresh token for the resource', () => {
    expect(alice.tokens).toMatchObject({ token_type: 'bearer', scope: expect.any(String) })
    expect(alice.tokens.access_token.startsWith('github-1001:')).toBe(true)
    expect(alice.tokens.refresh_token).toBeTruthy()
  })
})

describe.each(TRANSPORTS)('authenticated MCP session over %s', (transport) => {
  test('whoami returns the upstream user as props', async () => {
    const client = await connectClient(emulator.url, { transport, headers: { authorization: `Bearer ${alice.tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toEqual({ userId: 'github-1001', provider: 'github', login: 'alice', name: 'Alice Example', email: 'alice@example.com' })
    expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
    await client.close()
  })

  test('a second user gets their own props', async () => {
    const bob = await signIn(emulator.url, { user: 'bob' })
    const client = await connectClient(emulator.url, { transport, headers: { authorization: `Bearer ${bob.tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toMatchObject({ userId: 'github-1002', login: 'bob' })
    await client.close()
  })
})

describe('refresh and revocation', () => {
  test('a refresh token yields a new working access token and rotates', async () => {
    const flow = await signIn(emulator.url, { user: 'alice' })
    const { server } = flow.discovery
    const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token, client_id: flow.client.client_id })
    expect(refreshed.status).toBe(200)
    const next = refreshed.body as { access_token: string; refresh_token: string }
    expect(next.access_token).not.toBe(flow.tokens.access_token)
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${next.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toMatchObject({ login: 'alice' })
    await client.close()
    // Refreshing again with the new refresh token works; the provider keeps the previous one for one retry only.
    const again = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: next.refresh_token, client_id: flow.client.client_id })
    expect(again.status).toBe(200)
    const stale = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token, client_id: flow.client.client_id })
    expect(stale).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  test('a revoked access token is refused by the API', async () => {
    const flow = await signIn(emulator.url, { user: 'alice' })
    const endpoint = (flow.discovery.server.revocation_endpoint as string | undefined) ?? flow.discovery.server.token_endpoint
    const revoked = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: flow.tokens.access_token, token_type_hint: 'access_token', client_id: flow.client.client_id }),
    })
    expect(revoked.status).toBe(200)
    const api = await emulator.fetch('/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${flow.tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    expect(api.status).toBe(401)
    expect(api.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })
})
