// Issue 10 item 4: the template-style fixture Workers signed in to by clients other than the TS SDK.
// The Python SDK: `mcp_harness.sign_in()` (the CLI's `token` flow) gets a token, then the official
// Python `mcp` client calls a tool with `Authorization: Bearer`. mcp-remote: signs in itself, its
// browser being the headless BROWSER hook, then serves the tools over stdio. One emulator per fixture.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, upstream, type Emulator, type EmulatorOptions } from '../../../emulator/index.ts'
import { callToolJson, pythonCallTool, startMcpRemote } from '../../helpers/real-clients.ts'

interface Fixture {
  name: string
  options: () => EmulatorOptions
  /** What the fixture's `whoami` answers for the provider's default user. */
  whoami: Record<string, unknown>
  /** Scopes `mcp_harness.sign_in()` asks for (the Worker's own defaults otherwise). */
  scopes?: string[]
  /** The provider's authorize page the headless browser must pass through. */
  authorize: string
  /** False where scenarios/auth/token-command.test.ts covers the Python SDK already. */
  python: boolean
}

const ADA = { email: 'ada@example.com', name: 'Ada Lovelace' }
const FIXTURES: Fixture[] = [
  {
    name: 'GitHub OAuth (github-oauth)',
    options: () => ({ config: 'scenarios/fixtures/github-oauth', upstream: { providers: [upstream.github({ users: [{ id: 1001, login: 'ada', ...ADA }] })] } }),
    whoami: { login: 'ada', ...ADA },
    authorize: 'https://github.com/login/oauth/authorize',
    python: false,
  },
  {
    name: 'Google OAuth on the legacy token endpoint (google-oauth)',
    options: () => ({ config: 'scenarios/fixtures/google-oauth', upstream: { providers: [upstream.google({ users: [{ id: '4242', ...ADA }] })] } }),
    whoami: { id: '4242', ...ADA },
    authorize: 'https://accounts.google.com/o/oauth2/v2/auth',
    python: true,
  },
  {
    name: 'stateless createMcpHandler with Cloudflare OAuth (cloudflare-stateless)',
    options: () => ({ config: 'scenarios/fixtures/cloudflare-stateless', upstream: { providers: [upstream.cloudflare({ accounts: [{ id: 'acc-1', name: 'Ada' }] })] } }),
    whoami: { type: 'user_token', user: { id: '7c5dae5552338874e5053f2534d2767a', email: 'ada@example.com' }, accounts: ['acc-1'] },
    scopes: ['account:read', 'workers:read'],
    authorize: 'https://dash.cloudflare.com/oauth2/auth',
    python: true,
  },
  {
    name: 'ID tokens verified against the JWKS, Auth0 preset (oidc-jwks)',
    options: () => ({ config: 'scenarios/fixtures/oidc-jwks', vars: { OIDC_ISSUER: 'https://tenant.us.auth0.com/' }, upstream: { providers: [upstream.auth0({ users: [{ id: 'auth0|1', ...ADA }] })] } }),
    whoami: { ...ADA, iss: 'https://tenant.us.auth0.com/' },
    authorize: 'https://tenant.us.auth0.com/authorize',
    python: true,
  },
]

describe.each(FIXTURES)('$name', (fixture) => {
  let emulator: Emulator
  let mcpUrl: URL
  beforeAll(async () => {
    emulator = await createEmulator({ workerLog: 'silent', ...fixture.options() })
    mcpUrl = new URL('/mcp', emulator.url)
  }, 60_000)
  afterAll(() => emulator?.dispose())

  if (fixture.python) {
    test('Issue 10 item 4: mcp_harness.sign_in() gets a token and the official Python MCP SDK calls a tool with it', { timeout: 120_000 }, async () => {
      expect(await pythonCallTool(mcpUrl, 'whoami', { signIn: { scopes: fixture.scopes } })).toMatchObject(fixture.whoami)
      expect(emulator.errors).toEqual([])
    })
  }

  test('Issue 10 item 4: mcp-remote completes the OAuth flow headless and calls a tool over stdio', { timeout: 120_000 }, async () => {
    const remote = await startMcpRemote(mcpUrl, emulator.url)
    try {
      expect(await callToolJson(remote.client, 'whoami')).toMatchObject(fixture.whoami)
      // The hook really approved the Worker's consent page and passed the provider's authorize page.
      const runs = await remote.browserRuns()
      expect(runs).toHaveLength(1)
      expect(runs[0]).toMatchObject({ reachedClient: true, callbackStatus: 200 })
      expect(runs[0].steps?.some((step) => step.consent)).toBe(true)
      expect(runs[0].steps?.some((step) => step.url.startsWith(fixture.authorize))).toBe(true)
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- mcp-remote stderr ---\n${remote.stderr().slice(-4000)}`)
    } finally {
      await remote.close()
    }
    expect(emulator.errors).toEqual([])
  })
})
