// Issue 4: the same server signs users in through Google and a generic OIDC provider (the shape of
// Auth0, WorkOS AuthKit, Descope, Stytch, Cloudflare's OAuth), chosen by the UPSTREAM var.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn } from '../helpers/oauth-flow.ts'

describe('Google upstream', () => {
  let emulator: Emulator
  beforeAll(async () => {
    ;({ emulator } = await startOAuthEmulator({ provider: upstream.google({ users: [{ id: '4242', email: 'ada@example.com', name: 'Ada' }] }) }))
  })
  afterAll(() => emulator?.dispose())

  test('whoami returns the Google user after the full flow over SSE', async () => {
    const { tokens, browser } = await signIn(emulator.url)
    expect(browser.steps.some((step) => step.url.startsWith('https://accounts.google.com/o/oauth2/v2/auth'))).toBe(true)
    const client = await connectClient(emulator.url, { transport: 'sse', headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toEqual({ userId: 'google-4242', provider: 'google', name: 'Ada', email: 'ada@example.com' })
    await client.close()
    const calls = emulator.transcript.filter({ layer: 'upstream', type: 'request' }).map((event) => event.url)
    expect(calls).toEqual(['https://oauth2.googleapis.com/token', 'https://openidconnect.googleapis.com/v1/userinfo'])
  })
})

describe('generic OIDC upstream', () => {
  let emulator: Emulator
  beforeAll(async () => {
    ;({ emulator } = await startOAuthEmulator({
      provider: upstream.oidc({ issuer: 'https://tenant.auth0.example', users: [{ id: 'auth0|77', email: 'grace@example.com', name: 'Grace', login: 'grace' }] }),
    }))
  })
  afterAll(() => emulator?.dispose())

  test('discovers the endpoints from the issuer and whoami returns the OIDC user', async () => {
    const { tokens } = await signIn(emulator.url)
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toEqual({ userId: 'oidc-auth0|77', provider: 'oidc', login: 'grace', name: 'Grace', email: 'grace@example.com' })
    await client.close()
    const calls = emulator.transcript.filter({ layer: 'upstream', type: 'request' }).map((event) => event.url)
    expect(calls).toEqual(['https://tenant.auth0.example/.well-known/openid-configuration', 'https://tenant.auth0.example/oauth/token', 'https://tenant.auth0.example/userinfo'])
  })
})
