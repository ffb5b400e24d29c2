// KI-35: a stale OAuth client after the local state was wiped (`rm -rf .wrangler`, here wipeStorage()).
// The client keeps its dynamic client registration (mcp-remote caches it in ~/.mcp-auth); the server
// no longer knows it. A client that cannot drop its cache stays locked out; one that clears it when
// the server says `invalid_client` (the SDK's invalidateCredentials hook) registers again and works.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { upstream, type Emulator } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { HeadlessOAuthProvider } from '../helpers/oauth-sdk-provider.ts'

/** The fix on the client side: drop the cached registration and tokens when the server rejects them. */
class ReRegisteringProvider extends HeadlessOAuthProvider {
  readonly invalidated: string[] = []
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    this.invalidated.push(scope)
    if (scope === 'all' || scope === 'client') this.saveClientInformation(undefined as never)
    if (scope === 'all' || scope === 'tokens') this.saveTokens(undefined as never)
  }
}

/** Connects with OAuth the way an app does: connect, let the user authorize, finish, connect again. */
async function connect(emulator: Emulator, auth: HeadlessOAuthProvider): Promise<{ client?: Client; error?: string }> {
  const url = new URL('/mcp', emulator.url)
  const client = new Client({ name: 'ki-35', version: '0' })
  try {
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: auth }))
    return { client }
  } catch (first) {
    if (!auth.code) return { error: first instanceof Error ? first.message : String(first) }
    const transport = new StreamableHTTPClientTransport(url, { authProvider: auth })
    try {
      await transport.finishAuth(auth.code)
      auth.code = undefined
      await client.connect(new StreamableHTTPClientTransport(url, { authProvider: auth }))
      return { client }
    } catch (second) {
      return { error: second instanceof Error ? second.message : String(second) }
    }
  }
}

async function whoami(client: Client): Promise<unknown> {
  const result = await client.callTool({ name: 'whoami', arguments: {} })
  return JSON.parse((result.content as { text: string }[])[0]!.text)
}

describe.each([
  { variant: 'broken: the client keeps its cached registration', Provider: HeadlessOAuthProvider, broken: true },
  { variant: 'fixed: the client clears it on invalid_client', Provider: ReRegisteringProvider, broken: false },
])('$variant', ({ Provider, broken }) => {
  let emulator: Emulator
  beforeAll(async () => {
    ;({ emulator } = await startOAuthEmulator({ provider: upstream.github({ users: [{ id: 7, login: 'ada', name: 'Ada' }] }) }))
  })
  afterAll(() => emulator?.dispose())

  test(`KI-35: after the server's local state is wiped, the client ${broken ? 'can no longer authorize' : 'registers again and works'}`, async () => {
    const auth = new Provider(emulator.url)
    const first = await connect(emulator, auth)
    expect(first.error).toBeUndefined()
    expect(await whoami(first.client!)).toMatchObject({ login: 'ada' })
    await first.client!.close()
    const registered = auth.clientInformation()?.client_id
    expect(registered).toBeTruthy()

    await emulator.wipeStorage()

    const again = await connect(emulator, auth)
    if (broken) {
      // The server rejects the cached client id; the client has nothing else to try.
      expect(again.client).toBeUndefined()
      expect(again.error).toMatch(/Client not found|invalid_client/i)
      expect(auth.clientInformation()?.client_id).toBe(registered)
    } else {
      expect((auth as ReRegisteringProvider).invalidated.length).toBeGreaterThan(0)
      expect(again.error).toBeUndefined()
      expect(await whoami(again.client!)).toMatchObject({ login: 'ada' })
      expect(auth.clientInformation()?.client_id).not.toBe(registered)
      await again.client!.close()
    }
  })
})
