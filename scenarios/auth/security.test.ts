// Issue 4 security cases against the OAuth reference server (workers-oauth-provider 1.2.3):
// PKCE (KI-25 class), code reuse, redirect_uri (KI-06), unregistered client, forged/revoked tokens,
// a token for another resource, forged consent and replayed upstream state.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import type { UpstreamProvider } from '../../emulator/index.ts'
import { CookieJar, runBrowser } from '../helpers/oauth-browser.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { authorizationUrl, authorizeForCode, discover, exchangeCode, pkce, registerClient, signIn, tokenRequest, type Discovery, type RegisteredClient } from '../helpers/oauth-flow.ts'

let emulator: Emulator
let provider: UpstreamProvider
let discovery: Discovery
let client: RegisteredClient

beforeAll(async () => {
  ;({ emulator, provider } = await startOAuthEmulator({ provider: upstream.github() }))
  discovery = await discover(emulator.url)
  client = await registerClient(discovery.server)
})
afterAll(() => emulator?.dispose())

const ping = (token: string, init: { origin?: string } = {}) => {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } } })
  if (init.origin) {
    // Straight into the runtime with another Host: the front door always presents its own origin.
    return emulator.miniflare.dispatchFetch(new URL('/mcp', init.origin).href, { method: 'POST', headers, body }) as unknown as Promise<Response>
  }
  return emulator.fetch('/mcp', { method: 'POST', headers, body })
}

const codeFor = () => authorizeForCode(emulator.url, discovery.server, client, { resource: discovery.resource.resource })

describe('PKCE (KI-25 class, GHSA-qgp8-v765-qxx9)', () => {
  test('refuses a code redeemed with the wrong verifier', async () => {
    const { code } = await codeFor()
    const result = await exchangeCode(discovery.server, client, { code, verifier: pkce().verifier })
    expect(result).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  test('refuses a code redeemed without a verifier', async () => {
    const { code } = await codeFor()
    const result = await exchangeCode(discovery.server, client, { code })
    expect(result.status).toBe(400)
    expect(['invalid_grant', 'invalid_request']).toContain(result.body.error)
  })

  test('refuses an authorization request without a code challenge', async () => {
    const url = authorizationUrl(discovery.server, client, {})
    const result = await runBrowser(emulator.url, url)
    expect(result.finalUrl.searchParams.get('code')).toBeNull()
    expect(provider.stats.codesIssued).toBeGreaterThan(0) // earlier flows did reach the upstream
    expect(result.steps.some((step) => new URL(step.url).host === 'github.com')).toBe(false)
  })

  test('refuses the plain method (downgrade)', async () => {
    const { verifier } = pkce()
    const url = authorizationUrl(discovery.server, client, { challenge: verifier, method: 'plain' })
    const result = await runBrowser(emulator.url, url)
    expect(result.finalUrl.searchParams.get('code')).toBeNull()
    expect(result.steps.some((step) => new URL(step.url).host === 'github.com')).toBe(false)
  })
})

describe('authorization codes', () => {
  test('a code works once, and its reuse revokes the tokens it issued', async () => {
    const { code, verifier } = await codeFor()
    const first = await exchangeCode(discovery.server, client, { code, verifier })
    expect(first.status).toBe(200)
    const token = first.body.access_token as string
    expect((await ping(token)).status).toBe(200)
    const second = await exchangeCode(discovery.server, client, { code, verifier })
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    // RFC 6749 §4.1.2: a reused code SHOULD revoke what it issued; the provider does.
    expect((await ping(token)).status).toBe(401)
  })

  test('a code is bound to its client', async () => {
    const other = await registerClient(discovery.server, { name: 'other client' })
    const { code, verifier } = await codeFor()
    const result = await exchangeCode(discovery.server, other, { code, verifier, redirectUri: client.redirect_uris[0] })
    expect(result.status).toBe(400)
    expect(result.body.error).toBe('invalid_grant')
  })
})

describe('redirect_uri (KI-06, GHSA-4pc9-x2fx-p7vj)', () => {
  test('an unregistered redirect_uri is refused on the authorization page and never redirected to', async () => {
    const { challenge } = pkce()
    const url = authorizationUrl(discovery.server, client, { challenge, redirectUri: 'http://127.0.0.1:9/evil' })
    const result = await runBrowser(emulator.url, url)
    expect(result.reachedClient).toBe(false)
    expect(result.lastStatus).toBe(400)
    expect(result.lastBody).toMatch(/redirect/i)
  })

  test('the token request must repeat the authorization redirect_uri', async () => {
    const multi = await registerClient(discovery.server, { redirectUris: ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'] })
    const { code, verifier } = await authorizeForCode(emulator.url, discovery.server, multi)
    const result = await exchangeCode(discovery.server, multi, { code, verifier, redirectUri: 'http://127.0.0.1:9/b' })
    expect(result).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  test('registration refuses a non-loopback http redirect_uri', async () => {
    await expect(registerClient(discovery.server, { redirectUris: ['http://evil.example/callback'] })).rejects.toThrow(/HTTP 400/)
  })
})

describe('clients', () => {
  test('an unregistered client_id is refused without a redirect', async () => {
    const { challenge } = pkce()
    const url = authorizationUrl(discovery.server, { client_id: 'not-registered', redirect_uris: ['http://127.0.0.1:9/oauth/callback'] }, { challenge })
    const result = await runBrowser(emulator.url, url)
    expect(result.reachedClient).toBe(false)
    expect(result.lastStatus).toBe(400)
    const token = await tokenRequest(discovery.server, { grant_type: 'authorization_code', code: 'x:y:z', client_id: 'not-registered', code_verifier: 'v', redirect_uri: 'http://127.0.0.1:9/oauth/callback' })
    expect(token.status).toBe(401)
    expect(token.body.error).toBe('invalid_client')
  })
})

describe('tokens at the API', () => {
  test('a forged token is refused with invalid_token', async () => {
    const { tokens } = await signIn(emulator.url, { client })
    const [userId, grantId] = tokens.access_token.split(':')
    for (const forged of [`${userId}:${grantId}:forgedsecretforgedsecretforged00`, 'github-583231:abc:def', 'not-a-token']) {
      const response = await ping(forged)
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toContain('invalid_token')
    }
  })

  test('a token in the query string is ignored', async () => {
    const { tokens } = await signIn(emulator.url, { client })
    const response = await emulator.fetch(`/mcp?access_token=${encodeURIComponent(tokens.access_token)}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })
    expect(response.status).toBe(401)
  })

  test('a token minted for another resource (origin) is refused', async () => {
    const { tokens } = await signIn(emulator.url, { client })
    expect((await ping(tokens.access_token)).status).toBe(200)
    // The same server reached as localhost is another audience (RFC 8707): the token must not work there.
    const elsewhere = await ping(tokens.access_token, { origin: `http://localhost:${emulator.url.port}` })
    expect(elsewhere.status).toBe(401)
  })

  test('a token request naming another resource is refused', async () => {
    const { code, verifier } = await codeFor()
    const result = await exchangeCode(discovery.server, client, { code, verifier, resource: 'https://other.example/mcp' })
    expect(result.status).toBe(400)
    expect(result.body.error).toBe('invalid_target')
  })
})

describe('consent and upstream state', () => {
  test('a consent form posted without its browser cookie is refused (forged consent)', async () => {
    const { challenge } = pkce()
    const url = authorizationUrl(discovery.server, client, { challenge })
    const page = await fetch(url)
    const handle = /name="handle" value="([^"]+)"/.exec(await page.text())?.[1] ?? ''
    expect(handle).not.toBe('')
    const forged = await fetch(new URL('/authorize', emulator.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ handle, decision: 'approve' }),
      redirect: 'manual',
    })
    expect(forged.status).toBe(400)
    expect(forged.headers.get('location')).toBeNull()
  })

  test('the consent page cannot be framed', async () => {
    const { challenge } = pkce()
    const page = await fetch(authorizationUrl(discovery.server, client, { challenge }))
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
  })

  test('a replayed upstream callback is refused', async () => {
    const jar = new CookieJar()
    let callback: URL | undefined
    const { challenge } = pkce()
    const first = await runBrowser(emulator.url, authorizationUrl(discovery.server, client, { challenge }), { beforeStep: (url) => void (url.pathname === '/callback' && (callback = url)) }, jar)
    expect(first.reachedClient).toBe(true)
    const replay = await fetch(callback!, { headers: { cookie: jar.header() ?? '' }, redirect: 'manual' })
    expect(replay.status).toBe(400)
  })

  test('an upstream callback in another browser (without the binding cookie) is refused', async () => {
    let callback: URL | undefined
    const { challenge } = pkce()
    // Stop before the callback: take the URL, then present it from a fresh browser.
    await runBrowser(emulator.url, authorizationUrl(discovery.server, client, { challenge }), {
      beforeStep: (url) => {
        if (url.pathname === '/callback') {
          callback = url
          throw new Error('stop')
        }
      },
    }).catch(() => undefined)
    const stolen = await fetch(callback!, { redirect: 'manual' })
    expect(stolen.status).toBe(400)
  })
})
