// Issue 4: faults of the mocked upstream (slow, 500, invalid_grant, expired code, revoked token)
// reach the user as a named sign-in failure, and an unmocked upstream fails loudly naming the URL.
import { afterAll, beforeAll, describe, expect, onTestFinished, test, vi } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import type { UpstreamProvider } from '../../emulator/index.ts'
import { runBrowser, type BrowserOptions } from '../helpers/oauth-browser.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { authorizationUrl, discover, pkce, registerClient, signIn, type Discovery, type RegisteredClient } from '../helpers/oauth-flow.ts'

describe('faults of the GitHub upstream', () => {
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

  const attempt = (options: BrowserOptions = {}) => runBrowser(emulator.url, authorizationUrl(discovery.server, client, { challenge: pkce().challenge }), options)

  test('a slow token endpoint delays the callback but the sign-in completes', async () => {
    provider.fault('token', { delayMs: 300, times: 1 })
    let callbackStarted = 0
    const result = await attempt({ beforeStep: (url) => void (url.pathname === '/callback' && (callbackStarted = performance.now())) })
    expect(result.finalUrl.searchParams.get('code')).toBeTruthy()
    expect(performance.now() - callbackStarted).toBeGreaterThanOrEqual(290)
  })

  test('a 500 from the token endpoint ends the sign-in with a 502 naming it', async () => {
    provider.fault('token', { status: 500, times: 1 })
    const result = await attempt()
    expect(result.reachedClient).toBe(false)
    expect(result.lastStatus).toBe(502)
    expect(result.lastBody).toContain('HTTP 500')
  })

  test('invalid_grant (GitHub: HTTP 200 with bad_verification_code) is not mistaken for success', async () => {
    provider.fault('token', { error: 'invalid_grant', times: 1 })
    const result = await attempt()
    expect(result.lastStatus).toBe(502)
    expect(result.lastBody).toContain('HTTP 200 bad_verification_code')
  })

  test('an expired upstream code is refused (GitHub codes live 10 minutes)', async () => {
    const result = await attempt({ beforeStep: (url) => void (url.pathname === '/callback' && provider.advanceTime(11 * 60_000)) })
    expect(result.lastStatus).toBe(502)
    expect(result.lastBody).toContain('bad_verification_code')
  })

  test('a 500 from the user endpoint ends the sign-in with a 502 naming it', async () => {
    provider.fault('user', { status: 500, times: 1 })
    const result = await attempt()
    expect(result.lastStatus).toBe(502)
    expect(result.lastBody).toContain('Failed to fetch the GitHub user: HTTP 500')
  })

  test('faults are used up and the next sign-in works', async () => {
    const { tokens } = await signIn(emulator.url, { client })
    expect(tokens.access_token).toBeTruthy()
    expect(emulator.errors).toEqual([])
  })
})

describe('an upstream nobody mocked', () => {
  let emulator: Emulator
  beforeAll(async () => {
    // The server is told to use an OIDC issuer, but only GitHub is mocked.
    ;({ emulator } = await startOAuthEmulator({ provider: upstream.github(), vars: { UPSTREAM: 'oidc', OIDC_ISSUER: 'https://unmocked-idp.example' } }))
  })
  afterAll(() => emulator?.dispose())

  test('fails loudly with ERR_UNHANDLED_UPSTREAM naming the URL, and nothing reaches the network', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    onTestFinished(() => stderr.mockRestore())
    const { server } = await discover(emulator.url)
    const client = await registerClient(server)
    const result = await runBrowser(emulator.url, authorizationUrl(server, client, { challenge: pkce().challenge }))
    expect(result.reachedClient).toBe(false)
    expect(result.lastStatus).toBe(502)
    expect(result.lastBody).toContain('https://unmocked-idp.example/.well-known/openid-configuration')
    expect(emulator.errors.map((error) => error.code)).toEqual(['ERR_UNHANDLED_UPSTREAM'])
    expect(emulator.errors[0].message).toContain('GET https://unmocked-idp.example/.well-known/openid-configuration')
    expect(emulator.transcript.filter({ layer: 'upstream', type: 'unhandled' })).toHaveLength(1)
    // Issue 10: said on stderr too, once.
    const said = stderr.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.includes('ERR_UNHANDLED_UPSTREAM'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('GET https://unmocked-idp.example/.well-known/openid-configuration')
  })
})
