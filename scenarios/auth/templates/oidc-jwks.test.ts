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

test('a key rotation inside the JWKS refetch cooldown: the Worker refuses the new ID token ("no applicable key"), as production would', { timeout: 90_000 }, async () => {
  const idp = upstream.auth0()
  emulator = await createEmulator({ config: 'scenarios/fixtures/oidc-jwks', workerLog: 'silent', vars: { OIDC_ISSUER: 'https://tenant.us.auth0.com/', JWKS_COOLDOWN_MS: '600000' }, upstream: { providers: [idp] } })
  await signIn(emulator)
  idp.rotateKeys!()
  await expect(signIn(emulator)).rejects.toThrow(/step "upstream".*HTTP 502: Invalid ID token: no applicable key found in the JSON Web Key Set/)
})

test('a key rotation after the cooldown: the Worker refetches the JWKS on the unknown key id and sign-in works', { timeout: 90_000 }, async () => {
  const idp = upstream.auth0()
  emulator = await createEmulator({ config: 'scenarios/fixtures/oidc-jwks', workerLog: 'silent', vars: { OIDC_ISSUER: 'https://tenant.us.auth0.com/', JWKS_COOLDOWN_MS: '0' }, upstream: { providers: [idp] } })
  await signIn(emulator)
  idp.rotateKeys!({ keepPrevious: false })
  const { tokens } = await signIn(emulator)
  expect(tokens.access_token).toBeTruthy()
  expect(emulator.transcript.filter({ layer: 'upstream', type: 'request' }).filter((event) => String(event.url).endsWith('/jwks.json'))).toHaveLength(2)
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
