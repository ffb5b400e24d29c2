// Issue 10 item 4: a Worker shaped like Cloudflare's GitHub OAuth template (OAuthProvider + a Hono
// GitHub handler whose approval page posts `state` + a CSRF token with a signed cookie, Octokit in
// the tools) signs in headless through the mocked GitHub, then serves tools with the token.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, signIn, upstream, type Emulator } from '../../../emulator/index.ts'
import { authorizationUrl, discover, pkce, registerClient } from '../../../emulator/sign-in/flow.ts'
import { readPage } from '../../../emulator/sign-in/consent-form.ts'
import { connectClient } from '../../helpers/clients.ts'

const USERS = [
  { id: 1001, login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com', orgs: ['analytical-engines'] },
  { id: 1002, login: 'grace', name: 'Grace Hopper', email: 'grace@example.com' },
]

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: 'scenarios/fixtures/github-oauth', workerLog: 'silent', upstream: { providers: [upstream.github({ users: USERS })] } })
})
afterAll(() => emulator?.dispose())

describe('GitHub OAuth template', () => {
  test('signIn() submits the approval form with state and CSRF token, signs in at GitHub and the TS SDK calls Octokit-backed tools', { timeout: 60_000 }, async () => {
    const { tokens, browser } = await signIn(emulator, { user: 'ada' })
    expect(browser.steps.find((step) => step.consent)?.url).toContain('/authorize')
    const consentPost = browser.steps.find((step) => step.method === 'POST')
    expect(consentPost?.status).toBe(302)
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toEqual({ login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' })
    expect(JSON.parse(await client.text('userInfoOctokit'))).toEqual({ login: 'ada', name: 'Ada Lovelace', orgs: ['analytical-engines'] })
    await client.close()
    // What the Worker called upstream, with secrets redacted in the transcript.
    const calls = emulator.transcript.filter({ layer: 'upstream', type: 'request' })
    expect(calls.map((event) => event.url)).toEqual(expect.arrayContaining(['https://github.com/login/oauth/access_token', 'https://api.github.com/user', 'https://api.github.com/user/orgs']))
    expect(JSON.stringify(calls)).not.toContain(tokens.access_token)
    expect(JSON.stringify(calls)).not.toContain('test-client-secret')
  })

  test('a second user gets their own props over legacy SSE', { timeout: 60_000 }, async () => {
    const { tokens } = await signIn(emulator.url, { user: 'grace' })
    const client = await connectClient(emulator.url, { transport: 'sse', headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toMatchObject({ login: 'grace' })
    await client.close()
  })

  test('a forged CSRF token is refused at the approval POST, and the step says so', { timeout: 60_000 }, async () => {
    // Post the form from a browser that never got the CSRF cookie: the Worker answers 403.
    const discovery = await discover(new URL('/mcp', emulator.url))
    const client = await registerClient(discovery.server)
    const page = await fetch(authorizationUrl(discovery.server, client, { challenge: pkce().challenge, resource: discovery.resource?.resource }))
    const html = await page.text()
    const form = readPage(html, new URL(page.url)).form!
    expect(form.fields.map(([name]) => name)).toEqual(['state', 'csrf_token'])
    const forged = await fetch(form.action, { method: 'POST', body: new URLSearchParams(form.fields), redirect: 'manual' })
    expect(forged.status).toBe(403)
  })

  test('an unknown upstream user fails at the "upstream" step with what the provider answered', { timeout: 60_000 }, async () => {
    await expect(signIn(emulator, { user: 'nobody' })).rejects.toThrow(/step "upstream".*No user "nobody"/)
  })
})
