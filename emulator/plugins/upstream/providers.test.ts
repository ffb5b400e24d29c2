import { createHash } from 'node:crypto'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { getResponse, type RequestHandler } from 'msw'
import { describe, expect, test } from 'vitest'
import { isHarnessError } from '../../../core/errors.ts'
import type { UpstreamProvider } from './handlers.ts'
import { createUpstream, upstream, UPSTREAM_PROVIDER_NAMES, UPSTREAM_PROVIDERS } from './index.ts'

const REDIRECT = 'http://127.0.0.1:8788/callback'
const call = async (handlers: RequestHandler[], url: string, init?: RequestInit) => {
  const response = await getResponse(handlers, new Request(url, init))
  if (!response) throw new Error(`no handler for ${url}`)
  return response
}
const form = (body: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams({ client_id: 'test-client-id', client_secret: 'test-client-secret', ...body }) })
const pkcePair = () => {
  const verifier = 'v'.repeat(50)
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** Authorize (as the browser) then redeem the code at `tokenUrl`. */
async function signInAt(provider: UpstreamProvider, tokenUrl: string, params: Record<string, string> = {}) {
  const { verifier, challenge } = pkcePair()
  const outcome = provider.authorize(`${provider.authorizeUrl}?${new URLSearchParams({ client_id: 'test-client-id', redirect_uri: REDIRECT, scope: 'openid email profile', code_challenge: challenge, code_challenge_method: 'S256', ...params })}`)
  const code = new URL(outcome.location ?? 'http://x').searchParams.get('code') ?? ''
  const response = await call(provider.handlers, tokenUrl, form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }))
  return (await response.json()) as Record<string, string>
}

describe('OpenID Connect', () => {
  test('signs ID tokens verifiable against the discovered jwks_uri, with nonce and at_hash', async () => {
    const idp = upstream.oidc({ issuer: 'https://idp.example', alg: 'ES256' })
    const discovery = (await (await call(idp.handlers, 'https://idp.example/.well-known/openid-configuration')).json()) as Record<string, string>
    expect(discovery.jwks_uri).toBe('https://idp.example/.well-known/jwks.json')
    const tokens = await signInAt(idp, discovery.token_endpoint, { nonce: 'n-123' })
    const jwks = createLocalJWKSet(await (await call(idp.handlers, discovery.jwks_uri)).json())
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, { issuer: discovery.issuer, audience: 'test-client-id' })
    expect(protectedHeader.alg).toBe('ES256')
    expect(payload).toMatchObject({ sub: 'user_01HARNESS', nonce: 'n-123', email: 'grace@example.com' })
    const digest = createHash('sha256').update(tokens.access_token).digest()
    expect(payload.at_hash).toBe(digest.subarray(0, 16).toString('base64url'))
  })

  test('rotates refresh tokens, refuses a replayed one, and expires them', async () => {
    const idp = upstream.auth0({ refreshTtlS: 60 })
    const first = await signInAt(idp, 'https://tenant.us.auth0.com/oauth/token')
    const refresh = (token: string) => call(idp.handlers, 'https://tenant.us.auth0.com/oauth/token', form({ grant_type: 'refresh_token', refresh_token: token }))
    const second = (await (await refresh(first.refresh_token)).json()) as Record<string, string>
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(second.id_token).toBeTruthy()
    expect((await refresh(first.refresh_token)).status).toBe(400)
    idp.advanceTime(61_000)
    expect(await (await refresh(second.refresh_token)).json()).toMatchObject({ error: 'invalid_grant', error_description: 'The refresh token has expired.' })
  })

  test('key rotation keeps the previous key published unless told otherwise', async () => {
    const idp = upstream.workos()
    const jwksUrl = 'https://acme.authkit.app/oauth2/jwks'
    const old = await signInAt(idp, 'https://acme.authkit.app/oauth2/token')
    idp.rotateKeys!()
    const both = createLocalJWKSet(await (await call(idp.handlers, jwksUrl)).json())
    await expect(jwtVerify(old.id_token, both)).resolves.toBeTruthy()
    idp.rotateKeys!({ keepPrevious: false })
    const fresh = createLocalJWKSet(await (await call(idp.handlers, jwksUrl)).json())
    await expect(jwtVerify(old.id_token, fresh)).rejects.toThrow()
  })

  test('JWT access tokens carry the audience and verify against the JWKS', async () => {
    const idp = upstream.stytch({ audience: 'project-test-1' })
    const tokens = await signInAt(idp, 'https://project.customers.stytch.dev/v1/oauth2/token')
    const jwks = createLocalJWKSet(await (await call(idp.handlers, 'https://project.customers.stytch.dev/.well-known/jwks.json')).json())
    const { payload } = await jwtVerify(tokens.access_token, jwks, { audience: 'project-test-1', issuer: 'https://project.customers.stytch.dev' })
    expect(payload.scope).toBe('openid email profile')
  })

  test('presets serve their documented paths', async () => {
    const paths: [UpstreamProvider, string, string][] = [
      [upstream.logto(), 'https://tenant.logto.app/oidc/token', 'https://tenant.logto.app/oidc/me'],
      [upstream.descope(), 'https://api.descope.com/oauth2/v1/apps/token', 'https://api.descope.com/oauth2/v1/apps/userinfo'],
      [upstream.auth0(), 'https://tenant.us.auth0.com/oauth/token', 'https://tenant.us.auth0.com/userinfo'],
    ]
    for (const [idp, token, userinfo] of paths) {
      const tokens = await signInAt(idp, token)
      const me = await call(idp.handlers, userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      expect(me.status, `${idp.name} ${userinfo}`).toBe(200)
    }
  })

  test('Slack answers with ok:true and reports errors as HTTP 200 ok:false', async () => {
    const idp = upstream.slack()
    const tokens = await signInAt(idp, 'https://slack.com/api/openid.connect.token')
    expect(tokens).toMatchObject({ ok: true, token_type: 'Bearer' })
    const bad = await call(idp.handlers, 'https://slack.com/api/openid.connect.token', form({ code: 'nope' }))
    expect(bad.status).toBe(200)
    expect(await bad.json()).toEqual({ ok: false, error: 'invalid_code' })
    const me = await call(idp.handlers, 'https://slack.com/api/openid.connect.userInfo', { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(await me.json()).toMatchObject({ ok: true, sub: 'U0HARNESS1', 'https://slack.com/team_id': 'T0HARNESS' })
  })
})

describe('Google', () => {
  test('answers the legacy token endpoint and the v2 userinfo shape', async () => {
    const google = upstream.google({ users: [{ id: '4242', email: 'ada@example.com', name: 'Ada Lovelace' }] })
    const tokens = await signInAt(google, 'https://accounts.google.com/o/oauth2/token')
    expect(tokens.id_token).toBeTruthy()
    const v2 = await call(google.handlers, 'https://www.googleapis.com/oauth2/v2/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(await v2.json()).toMatchObject({ id: '4242', verified_email: true, given_name: 'Ada', family_name: 'Lovelace' })
    const discovery = (await (await call(google.handlers, 'https://accounts.google.com/.well-known/openid-configuration')).json()) as Record<string, string>
    expect(discovery.jwks_uri).toBe('https://www.googleapis.com/oauth2/v3/certs')
  })
})

describe('GitHub', () => {
  test('serves the endpoints Octokit calls for the user, emails and orgs', async () => {
    const github = upstream.github({ users: [{ id: 1, login: 'ada', email: 'ada@example.com', orgs: ['acme'] }] })
    const outcome = github.authorize(`${github.authorizeUrl}?client_id=test-client-id&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=read:user%20user:email`)
    const code = new URL(outcome.location!).searchParams.get('code')!
    const { access_token } = (await (await call(github.handlers, 'https://github.com/login/oauth/access_token', { ...form({ code }), headers: { accept: 'application/json' } })).json()) as Record<string, string>
    const get = (path: string) => call(github.handlers, `https://api.github.com${path}`, { headers: { authorization: `token ${access_token}`, 'user-agent': 'octokit-rest.js/22' } })
    expect((await get('/user')).headers.get('x-oauth-scopes')).toBe('read:user, user:email')
    expect(await (await get('/user/emails')).json()).toEqual([{ email: 'ada@example.com', primary: true, verified: true, visibility: 'private' }])
    expect(await (await get('/user/orgs')).json()).toMatchObject([{ login: 'acme' }])
    expect(await (await get('/users/ada/orgs')).json()).toMatchObject([{ login: 'acme' }])
    expect((await get('/orgs/acme/members/ada')).status).toBe(204)
  })
})

describe('Cloudflare', () => {
  test('requires PKCE, issues tokens and serves the user, accounts, scripts and GraphQL', async () => {
    const cf = upstream.cloudflare()
    const refused = cf.authorize(`${cf.authorizeUrl}?client_id=test-client-id&redirect_uri=${encodeURIComponent(REDIRECT)}`)
    expect(new URL(refused.location!).searchParams.get('error')).toBe('invalid_request')
    const tokens = await signInAt(cf, 'https://dash.cloudflare.com/oauth2/token')
    const auth = { headers: { authorization: `Bearer ${tokens.access_token}` } }
    expect(await (await call(cf.handlers, 'https://api.cloudflare.com/client/v4/user', auth)).json()).toMatchObject({ success: true, result: { email: 'ada@example.com' } })
    const accounts = (await (await call(cf.handlers, 'https://api.cloudflare.com/client/v4/accounts', auth)).json()) as { result: { id: string }[] }
    const scripts = await call(cf.handlers, `https://api.cloudflare.com/client/v4/accounts/${accounts.result[0].id}/workers/scripts`, auth)
    expect(await scripts.json()).toMatchObject({ result: [{ id: 'my-mcp-worker' }, { id: 'cron-cleanup' }] })
    const graphql = await call(cf.handlers, 'https://api.cloudflare.com/client/v4/graphql', { ...auth, method: 'POST', body: JSON.stringify({ query: '{ viewer { accounts { id } } }' }) })
    expect(await graphql.json()).toMatchObject({ data: { viewer: { accounts: [{}] } } })
  })

  test('verifies API tokens and refuses unknown ones', async () => {
    const cf = upstream.cloudflare({ apiTokens: [{ token: 'cf-api-token-1234' }] })
    const verify = (token: string) => call(cf.handlers, 'https://api.cloudflare.com/client/v4/user/tokens/verify', { headers: { authorization: `Bearer ${token}` } })
    expect(await (await verify('cf-api-token-1234')).json()).toMatchObject({ success: true, result: { status: 'active' } })
    expect((await verify('nope-nope-nope')).status).toBe(401)
    expect((await call(cf.handlers, 'https://api.cloudflare.com/client/v4/user', { headers: { authorization: 'Bearer cf-api-token-1234' } })).status).toBe(200)
  })

  test('Access assertions verify against the team certs', async () => {
    const access = upstream.cloudflareAccess({ teamDomain: 'acme.cloudflareaccess.com', aud: 'aud-tag' })
    const certs = (await (await call(access.handlers, 'https://acme.cloudflareaccess.com/cdn-cgi/access/certs')).json()) as { keys: never[]; public_cert: { cert: string } }
    expect(certs.public_cert.cert).toContain('BEGIN PUBLIC KEY')
    const { payload } = await jwtVerify(await access.assertion(), createLocalJWKSet(certs), { issuer: 'https://acme.cloudflareaccess.com', audience: 'aud-tag' })
    expect(payload).toMatchObject({ email: 'ada@example.com', type: 'app' })
  })
})

describe('registry', () => {
  test('the names the config validates with (loaded without msw) are the registry\'s', () => {
    expect([...UPSTREAM_PROVIDER_NAMES]).toEqual(Object.keys(UPSTREAM_PROVIDERS))
  })

  test('every provider is reachable by name and validates its options', () => {
    for (const [name, make] of Object.entries(UPSTREAM_PROVIDERS)) expect(make({ users: [{ id: 1, login: 'x' }] }).handlers.length, name).toBeGreaterThan(0)
    let error: unknown
    try {
      UPSTREAM_PROVIDERS.github({ users: [{ login: 'no-id' }] })
    } catch (caught) {
      error = caught
    }
    expect(isHarnessError(error) && error.code).toBe('ERR_OPTIONS')
    expect((error as Error).message).toContain('github.users.0.id')
  })

  test('createUpstream reads a users array or an options object, and lists the names on a typo', () => {
    expect(createUpstream('google', [{ id: '9', email: 'x@example.com' }]).users).toEqual([{ id: '9', email: 'x@example.com' }])
    expect(createUpstream('cloudflare', { clientId: 'cf-app' }).clientId).toBe('cf-app')
    expect(() => createUpstream('githb')).toThrow(/Unknown upstream "githb": expected one of github, google, cloudflare/)
  })
})
