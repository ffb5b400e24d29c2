// Issue 4: the official TypeScript SDK client runs the OAuth flow itself (401 → discovery → dynamic
// registration → PKCE S256 → token) with a headless user, over both transports.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { upstream, type Emulator } from '../../emulator/index.ts'
import { TRANSPORTS, TRANSPORT_PATHS } from '../helpers/clients.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { HeadlessOAuthProvider } from '../helpers/oauth-sdk-provider.ts'

let emulator: Emulator

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator({ provider: upstream.github({ users: [{ id: 5, login: 'sdk-user', name: 'SDK User' }] }) }))
})
afterAll(() => emulator?.dispose())

describe.each(TRANSPORTS)('TypeScript SDK client over %s', (kind) => {
  test('authorizes through the server and calls whoami as the upstream user', async () => {
    const auth = new HeadlessOAuthProvider(emulator.url)
    const url = new URL(TRANSPORT_PATHS[kind], emulator.url)
    const make = () => (kind === 'sse' ? new SSEClientTransport(url, { authProvider: auth }) : new StreamableHTTPClientTransport(url, { authProvider: auth }))
    const first = make()
    // 1. The first connect meets the 401 and sends the user to authorize; the SDK throws UnauthorizedError.
    await expect(new Client({ name: 'sdk-oauth', version: '0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError)
    expect(auth.code).toBeTruthy()
    // 2. The app hands the code back; the SDK redeems it with its PKCE verifier.
    await first.finishAuth(auth.code!)
    expect(auth.tokens()?.access_token).toMatch(/^github-5:/)
    // 3. A new connection carries the token.
    const client = new Client({ name: 'sdk-oauth', version: '0' })
    await client.connect(make())
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    expect(JSON.parse((result.content as { text: string }[])[0].text)).toMatchObject({ userId: 'github-5', login: 'sdk-user' })
    await client.close()
    expect(auth.runs).toHaveLength(1)
    expect(auth.runs[0].steps.some((step) => step.consent)).toBe(true)
  })
})
