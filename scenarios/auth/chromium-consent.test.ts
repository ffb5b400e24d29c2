// Issue 10 item 2: "when a page needs JavaScript, drive Chromium (playwright-core) instead". The
// GitHub OAuth fixture with APPROVAL_PAGE=script-fetch|script-form renders its approval page with a
// script: no form in the HTML, the CSRF token fetched by the script, then either the decision posted
// with fetch and `location.assign` to GitHub, or a form built with the hidden fields and submitted
// (the Worker redirects to GitHub). The HTML-only browser cannot finish it; signIn() must notice, run
// the page in Chromium, and carry on to a token the TS SDK calls tools with.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, signIn, upstream, type Emulator } from '../../emulator/index.ts'
import { browserLane } from '../browser/chromium.ts'
import { runCli as cli } from '../helpers/cli.ts'
import { connectClient } from '../helpers/clients.ts'

const USERS = [
  { id: 1001, login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' },
  { id: 1002, login: 'grace', name: 'Grace Hopper', email: 'grace@example.com' },
]
// Chromium is Debian's `chromium` (.ci/run installs it): with CI=true the lane must run, elsewhere it skips with a hint.
const lane = browserLane()
if (!lane.run) console.log(`[chromium-consent] ${lane.reason}`)

describe.each(['script-fetch', 'script-form'])('an approval page that needs JavaScript (APPROVAL_PAGE=%s)', (page) => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({
      config: 'scenarios/fixtures/github-oauth',
      vars: { APPROVAL_PAGE: page },
      workerLog: 'silent',
      upstream: { providers: [upstream.github({ users: USERS })] },
    })
  })
  afterAll(() => emulator?.dispose())

  test('the HTML-only browser stops at it and says it needs JavaScript (javascript: never)', { timeout: 60_000 }, async () => {
    const error = await signIn(emulator, { javascript: 'never' }).catch((caught: Error) => caught)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/step "consent": the page at http:\/\/127\.0\.0\.1:\d+\/authorize needs JavaScript .*javascript is 'never'/)
  })

  test('without Chromium the sign-in fails at "consent" and says what to install', { timeout: 60_000 }, async () => {
    const saved = process.env.CHROMIUM_PATH
    process.env.CHROMIUM_PATH = '/nonexistent/chromium'
    try {
      await expect(signIn(emulator)).rejects.toThrow(/step "consent": the page at \S+\/authorize needs JavaScript and no Chromium was found: install chromium or set CHROMIUM_PATH/)
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH
      else process.env.CHROMIUM_PATH = saved
    }
  })

  test.skipIf(!lane.run)('signIn() runs the page in Chromium, goes on headless through GitHub, and the TS SDK calls a tool with the token', { timeout: 120_000 }, async () => {
    const { tokens, browser } = await signIn(emulator, { user: 'grace' })
    // Chromium ran the approval page only; the navigation its script started (to GitHub) went on headless.
    const chromiumSteps = browser.steps.filter((step) => step.chromium)
    expect(chromiumSteps.map((step) => new URL(step.url).pathname)).toEqual(['/authorize'])
    // The page was run as the headless browser received it: the Worker served /authorize once.
    expect(browser.steps.filter((step) => step.method === 'GET' && new URL(step.url).pathname === '/authorize')).toHaveLength(1)
    const after = browser.steps.slice(browser.steps.indexOf(chromiumSteps[0]) + 1).map((step) => `${step.method} ${step.url.split('?')[0]}`)
    const origin = emulator.url.origin
    expect(after).toEqual([
      ...(page === 'script-form' ? [`POST ${origin}/authorize`] : []),
      'GET https://github.com/login/oauth/authorize',
      `GET ${origin}/callback`,
    ])
    expect(browser.reachedClient).toBe(true)
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(JSON.parse(await client.text('whoami'))).toEqual({ login: 'grace', name: 'Grace Hopper', email: 'grace@example.com' })
    await client.close()
  })

  test.skipIf(!lane.run)('`mcp-harness token` takes the same path and prints the token alone', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await cli(['token', '--url', new URL('/mcp', emulator.url).href, '--user', 'ada'])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toMatch(/^\S+\n$/)
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${stdout.trim()}` } })
    expect(JSON.parse(await client.text('whoami'))).toMatchObject({ login: 'ada' })
    await client.close()
  })
})
