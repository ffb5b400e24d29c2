// Issue 10 item 4: the two fixture Workers without OAuth: a Hono app that mounts a stateless MCP
// handler with app.mount('/mcp', …), and a McpAgent behind a plain Bearer check. signIn() says
// clearly that the second takes a static token.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, signIn, type Emulator } from '../../../emulator/index.ts'
import { connectClient } from '../../helpers/clients.ts'

describe('Hono app with app.mount("/mcp", …)', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: 'scenarios/fixtures/hono-mount', workerLog: 'silent' })
  })
  afterAll(() => emulator?.dispose())

  test('the TS SDK calls a tool at /mcp and the app keeps its own routes', { timeout: 60_000 }, async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
    await client.close()
    expect(await (await emulator.fetch('/api/status')).json()).toEqual({ ok: true })
  })
})

describe('Bearer auth in front of McpAgent', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: 'scenarios/fixtures/bearer-mcpagent', workerLog: 'silent' })
  })
  afterAll(() => emulator?.dispose())

  test('each token reaches the agent as its own props, over Streamable HTTP and SSE', { timeout: 60_000 }, async () => {
    const ada = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: 'Bearer fixture-token-ada' } })
    expect(JSON.parse(await ada.text('whoami'))).toEqual({ user: 'ada' })
    await ada.close()
    const grace = await connectClient(emulator.url, { transport: 'sse', headers: { authorization: 'Bearer fixture-token-grace' } })
    expect(JSON.parse(await grace.text('whoami'))).toEqual({ user: 'grace' })
    await grace.close()
  })

  test('signIn() fails at "resource-metadata" and says the server wants a static bearer token', { timeout: 30_000 }, async () => {
    await expect(signIn(emulator)).rejects.toThrow(/step "resource-metadata".*expects a static bearer token/)
  })
})
