import { getResponse } from 'msw'
import { describe, expect, test } from 'vitest'
import { redactText, redactUrl } from './handlers.ts'
import { upstream } from './index.ts'

const authorize = (provider: ReturnType<typeof upstream.github>, params: Record<string, string>) =>
  provider.authorize(`${provider.authorizeUrl}?${new URLSearchParams(params)}`)

const codeFrom = (location: string | undefined) => new URL(location ?? 'http://x').searchParams.get('code') ?? ''

describe('github', () => {
  const redirect = 'http://127.0.0.1:8788/callback'
  const form = (body: Record<string, string>) => new URLSearchParams({ client_id: 'test-client-id', client_secret: 'test-client-secret', ...body })

  test('answers the token endpoint form-encoded unless JSON is asked for', async () => {
    const github = upstream.github()
    const code = codeFrom(authorize(github, { client_id: 'test-client-id', redirect_uri: redirect, state: 's' }).location)
    const response = await getResponse(github.handlers, new Request('https://github.com/login/oauth/access_token', { method: 'POST', body: form({ code }) }))
    expect(response?.headers.get('content-type')).toContain('application/x-www-form-urlencoded')
    expect(new URLSearchParams(await response!.text()).get('access_token')).toMatch(/^mock_at_/)
  })

  test('reports OAuth errors as HTTP 200 with an error field', async () => {
    const github = upstream.github()
    const response = await getResponse(github.handlers, new Request('https://github.com/login/oauth/access_token', { method: 'POST', headers: { accept: 'application/json' }, body: form({ code: 'nope' }) }))
    expect(response?.status).toBe(200)
    expect(await response!.json()).toMatchObject({ error: 'bad_verification_code' })
  })

  test('serves the user for `token X` and `Bearer X`, and refuses requests without a User-Agent', async () => {
    const github = upstream.github({ users: [{ id: 7, login: 'seven' }] })
    const code = codeFrom(authorize(github, { client_id: 'test-client-id', redirect_uri: redirect }).location)
    const tokenResponse = await getResponse(github.handlers, new Request('https://github.com/login/oauth/access_token', { method: 'POST', headers: { accept: 'application/json' }, body: form({ code }) }))
    const { access_token } = (await tokenResponse!.json()) as { access_token: string }
    for (const scheme of ['token', 'Bearer']) {
      const user = await getResponse(github.handlers, new Request('https://api.github.com/user', { headers: { authorization: `${scheme} ${access_token}`, 'user-agent': 'test' } }))
      expect(await user!.json()).toMatchObject({ id: 7, login: 'seven' })
    }
    const noAgent = await getResponse(github.handlers, new Request('https://api.github.com/user', { headers: { authorization: `Bearer ${access_token}` } }))
    expect(noAgent?.status).toBe(403)
  })

  test('refuses an unregistered callback URL (KI-06) and verifies PKCE', async () => {
    const github = upstream.github({ redirectUris: ['https://mcp.example.com/callback'] })
    expect(authorize(github, { client_id: 'test-client-id', redirect_uri: redirect })).toMatchObject({ status: 400, error: 'redirect_uri_mismatch' })
    const open = upstream.github()
    const code = codeFrom(authorize(open, { client_id: 'test-client-id', redirect_uri: redirect, code_challenge: 'abc', code_challenge_method: 'S256' }).location)
    const response = await getResponse(open.handlers, new Request('https://github.com/login/oauth/access_token', { method: 'POST', headers: { accept: 'application/json' }, body: form({ code, code_verifier: 'wrong' }) }))
    expect(await response!.json()).toMatchObject({ error: 'bad_verification_code' })
  })
})

describe('google and oidc', () => {
  test('google reports token errors as HTTP 400 JSON', async () => {
    const google = upstream.google()
    const response = await getResponse(google.handlers, new Request('https://oauth2.googleapis.com/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: 'test-client-id', client_secret: 'test-client-secret' }) }))
    expect(response?.status).toBe(400)
    expect(await response!.json()).toMatchObject({ error: 'invalid_grant' })
  })

  test('oidc accepts client_secret_basic and serves discovery under the issuer', async () => {
    const oidc = upstream.oidc({ issuer: 'https://idp.example' })
    const discovery = await getResponse(oidc.handlers, new Request('https://idp.example/.well-known/openid-configuration'))
    expect(await discovery!.json()).toMatchObject({ token_endpoint: 'https://idp.example/oauth/token', userinfo_endpoint: 'https://idp.example/userinfo' })
    const code = codeFrom(oidc.authorize(`https://idp.example/authorize?${new URLSearchParams({ client_id: 'test-client-id', redirect_uri: 'http://localhost:1/cb' })}`).location)
    const basic = `Basic ${Buffer.from('test-client-id:test-client-secret').toString('base64')}`
    const response = await getResponse(oidc.handlers, new Request('https://idp.example/oauth/token', { method: 'POST', headers: { authorization: basic }, body: new URLSearchParams({ grant_type: 'authorization_code', code }) }))
    expect(response?.status).toBe(200)
  })

  test('faults apply once when limited, then the endpoint recovers', async () => {
    const oidc = upstream.oidc({ issuer: 'https://idp.example' })
    oidc.fault('discovery', { status: 503, times: 1 })
    const request = () => getResponse(oidc.handlers, new Request('https://idp.example/.well-known/openid-configuration'))
    expect((await request())?.status).toBe(503)
    expect((await request())?.status).toBe(200)
  })

  test('leaves unknown URLs unanswered (the emulator then fails loudly)', async () => {
    expect(await getResponse(upstream.github().handlers, new Request('https://api.github.com/repos/x/y'))).toBeUndefined()
  })
})

describe('redaction', () => {
  test('replaces codes, secrets and tokens in forms, JSON and URLs', () => {
    expect(redactText('code=abc&client_secret=s&client_id=id', 'application/x-www-form-urlencoded')).toEqual({ code: '<redacted:code>', client_secret: '<redacted:client_secret>', client_id: 'id' })
    expect(redactText('{"access_token":"t","nested":{"refresh_token":"r"},"scope":"x"}', 'application/json')).toEqual({ access_token: '<redacted:access_token>', nested: { refresh_token: '<redacted:refresh_token>' }, scope: 'x' })
    expect(redactUrl('https://x.example/cb?code=abc&state=s&keep=1')).toBe('https://x.example/cb?code=%3Credacted%3Acode%3E&state=%3Credacted%3Astate%3E&keep=1')
    expect(redactUrl('https://x.example/cb?keep=a b')).toBe('https://x.example/cb?keep=a b')
  })
})

test('the headless browser helper and the plugin agree on the upstream page path', async () => {
  const { UPSTREAM_BROWSER_PATH: helperPath } = await import('../../../scenarios/helpers/oauth-browser.ts')
  const { UPSTREAM_BROWSER_PATH: pluginPath } = await import('./index.ts')
  expect(helperPath).toBe(pluginPath)
})
