// KI-15: the consent screen must be shown before the server hands the user to the upstream
// provider (MCP security best practices, confused deputy). CONSENT=skip is the broken variant that
// skips it; the same check is declared as a known failure against it, so the suite proves it catches it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import type { UpstreamProvider } from '../../emulator/index.ts'
import { runBrowser } from '../helpers/oauth-browser.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { authorizationUrl, discover, pkce, registerClient } from '../helpers/oauth-flow.ts'

/** Starts an authorization and checks that the first answer is a consent page naming client and redirect host. */
async function expectConsentBeforeUpstream(emulator: Emulator, provider: UpstreamProvider): Promise<void> {
  const { server } = await discover(emulator.url)
  const client = await registerClient(server, { name: 'Consent <Check> Client' })
  const before = provider.stats.codesIssued
  const response = await fetch(authorizationUrl(server, client, { challenge: pkce().challenge }), { redirect: 'manual' })
  const html = await response.text()
  expect(response.status, 'GET /authorize answers with a page, not a redirect to the upstream').toBe(200)
  expect(response.headers.get('location')).toBeNull()
  // Client-chosen names are escaped, and the page says where tokens go (MCP: redirect host MUST be shown).
  expect(html).toContain('Consent &#60;Check&#62; Client')
  expect(html).toMatch(/data-redirect-host>127\.0\.0\.1</)
  expect(html).toMatch(/<form[^>]*data-consent/)
  expect(provider.stats.codesIssued).toBe(before)
}

describe('KI-15 on the reference server (CONSENT=required)', () => {
  let emulator: Emulator
  let provider: UpstreamProvider
  beforeAll(async () => {
    ;({ emulator, provider } = await startOAuthEmulator({ provider: upstream.github() }))
  })
  afterAll(() => emulator?.dispose())

  test('KI-15: the authorize endpoint shows a consent page before any upstream redirect', async () => {
    await expectConsentBeforeUpstream(emulator, provider)
  })

  test('KI-15: denying consent returns access_denied to the client and never reaches the upstream', async () => {
    const { server } = await discover(emulator.url)
    const client = await registerClient(server)
    const before = provider.stats.codesIssued
    const result = await runBrowser(emulator.url, authorizationUrl(server, client, { challenge: pkce().challenge, state: 'st-1' }), { consent: 'deny' })
    expect(result.reachedClient).toBe(true)
    expect(result.finalUrl.searchParams.get('error')).toBe('access_denied')
    expect(result.finalUrl.searchParams.get('state')).toBe('st-1')
    expect(result.steps.some((step) => new URL(step.url).host === 'github.com')).toBe(false)
    expect(provider.stats.codesIssued).toBe(before)
  })

  test('a user declining at the upstream returns access_denied to the client', async () => {
    const { server } = await discover(emulator.url)
    const client = await registerClient(server)
    const result = await runBrowser(emulator.url, authorizationUrl(server, client, { challenge: pkce().challenge }), { denyUpstream: true })
    expect(result.finalUrl.searchParams.get('error')).toBe('access_denied')
    expect(result.finalUrl.searchParams.get('code')).toBeNull()
  })
})

describe('KI-15 on the broken variant (CONSENT=skip)', () => {
  let emulator: Emulator
  let provider: UpstreamProvider
  beforeAll(async () => {
    ;({ emulator, provider } = await startOAuthEmulator({ provider: upstream.github(), vars: { CONSENT: 'skip' } }))
  })
  afterAll(() => emulator?.dispose())

  // Known failure: this variant sends the user straight to the upstream, so any registered client
  // gets the user's grant without the user seeing who asked (the confused deputy).
  test.fails('KI-15 (broken variant): the authorize endpoint shows a consent page before any upstream redirect', async () => {
    await expectConsentBeforeUpstream(emulator, provider)
  })

  test('the broken variant hands out a code without a consent step', async () => {
    const { server } = await discover(emulator.url)
    const client = await registerClient(server)
    const result = await runBrowser(emulator.url, authorizationUrl(server, client, { challenge: pkce().challenge }))
    expect(result.steps.some((step) => step.consent)).toBe(false)
    expect(result.finalUrl.searchParams.get('code')).toBeTruthy()
  })
})
