// Issue 10 items 1 and 4: a Worker that verifies OpenID ID tokens (issuer, audience, nonce) against
// the provider's JWKS with jose, signed in through each OpenID preset; and a Cloudflare Access route
// verifying `Cf-Access-Jwt-Assertion` against the team certs.
import { afterEach, describe, expect, test } from 'vitest'
import { createEmulator, signIn, upstream, type Emulator, type UpstreamProvider } from '../../../emulator/index.ts'
import { connectClient } from '../../helpers/clients.ts'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.dispose()
  emulator = undefined
})

const start = async (provider: UpstreamProvider, issuer: string, extra: UpstreamProvider[] = []) => {
  emulator = await createEmulator({ config: 'scenarios/fixtures/oidc-jwks', workerLog: 'silent', vars: { OIDC_ISSUER: issuer }, upstream: { providers: [provider, ...extra] } })
  return emulator
}

const PRESETS: [string, () => UpstreamProvider, string][] = [
  ['Auth0 (RS256)', () => upstream.auth0({ users: [{ id: 'auth0|1', email: 'ada@example.com', name: 'Ada' }] }), 'https://tenant.us.auth0.com/'],
  ['WorkOS AuthKit (ES256)', () => upstream.workos({ alg: 'ES256', users: [{ id: 'user_01', email: 'ada@example.com', name: 'Ada' }] }), 'https://acme.authkit.app'],
  ['Logto', () => upstream.logto({ users: [{ id: 'logto-1', email: 'ada@example.com', name: 'Ada' }] }), 'https://tenant.logto.app/oidc'],
]

describe.each(PRESETS)('%s', (_, make, issuer) => {
  test('the Worker verifies the ID token against the JWKS and the TS SDK calls a tool with the token', { timeout: 90_000 }, async () => {
    const target = await start(make(), issuer)
    const { tokens } = await signIn(target)
    const client = await connectClient(target.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toMatchObject({ email: 'ada@example.com', name: 'Ada', iss: issuer })
    await client.close()
  })
})

test('after a key rotation that unpublishes the old key, the Worker refetches the JWKS on the unknown kid and sign-in still works', { timeout: 90_000 }, async () => {
  const idp = upstream.auth0()
  const target = await start(idp, 'https://tenant.us.auth0.com/')
  await signIn(target)
  // The Worker cached the JWKS; the provider now signs with a key it has never published before.
  idp.rotateKeys!({ keepPrevious: false })
  const { tokens } = await signIn(target)
  expect(tokens.access_token).toBeTruthy()
  // jose's remote JWKS refetched: the JWKS was served twice.
  expect(target.transcript.filter({ layer: 'upstream', type: 'request' }).filter((event) => String(event.url).endsWith('/jwks.json')).length).toBeGreaterThanOrEqual(2)
})

test('Cloudflare Access: a valid assertion passes, a wrong audience is refused', { timeout: 90_000 }, async () => {
  const access = upstream.cloudflareAccess({ teamDomain: 'harness.cloudflareaccess.com' })
  const target = await start(upstream.auth0(), 'https://tenant.us.auth0.com/', [access])
  const ok = await target.fetch('/access/whoami', { headers: { 'cf-access-jwt-assertion': await access.assertion() } })
  expect(ok.status).toBe(200)
  expect(await ok.json()).toMatchObject({ email: 'ada@example.com', iss: 'https://harness.cloudflareaccess.com' })
  const wrong = await target.fetch('/access/whoami', { headers: { 'cf-access-jwt-assertion': await access.assertion(undefined, { aud: 'another-app' }) } })
  expect(wrong.status).toBe(403)
})
