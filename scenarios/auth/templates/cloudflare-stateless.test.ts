// Issue 10 items 1 and 4: a stateless createMcpHandler server like workers-observability: Cloudflare
// OAuth (PKCE) through the mocked dash.cloudflare.com, or a Cloudflare API token as Bearer; tools
// read /accounts, Workers scripts and GraphQL fixture data from the mocked API.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createEmulator, signIn, upstream, type Emulator } from '../../../emulator/index.ts'

const API_TOKEN = 'cf-api-token-fixture-0001'
let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({
    config: 'scenarios/fixtures/cloudflare-stateless',
    workerLog: 'silent',
    upstream: { providers: [upstream.cloudflare({ apiTokens: [{ token: API_TOKEN }], accounts: [{ id: 'acc-1', name: 'Ada' }] })] },
  })
})
afterAll(() => emulator?.dispose())

async function call(token: string, tool: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const client = new Client({ name: 'cloudflare-fixture-test', version: '0.1.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', emulator.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  try {
    const result = await client.callTool({ name: tool, arguments: args })
    return JSON.parse((result.content as { text: string }[])[0].text)
  } finally {
    await client.close()
  }
}

test('Cloudflare OAuth: signIn() runs PKCE against dash.cloudflare.com and the tools read the account', { timeout: 60_000 }, async () => {
  const { tokens } = await signIn(emulator, { scopes: ['account:read', 'workers:read'] })
  expect(await call(tokens.access_token, 'whoami')).toEqual({ type: 'user_token', user: { id: '7c5dae5552338874e5053f2534d2767a', email: 'ada@example.com' }, accounts: ['acc-1'] })
  expect(await call(tokens.access_token, 'workers_list', { accountId: 'acc-1' })).toEqual(['my-mcp-worker', 'cron-cleanup'])
  expect(await call(tokens.access_token, 'query_worker_observability', { accountId: 'acc-1' })).toMatchObject({ viewer: { accounts: [{ workersInvocationsAdaptive: [{ sum: { requests: 42 } }] }] } })
  const urls = emulator.transcript.filter({ layer: 'upstream', type: 'request' }).map((event) => event.url)
  expect(urls).toEqual(expect.arrayContaining(['https://dash.cloudflare.com/oauth2/token', 'https://api.cloudflare.com/client/v4/user', 'https://api.cloudflare.com/client/v4/accounts']))
})

test('API-token mode: a Cloudflare API token is verified upstream and serves the same tools', { timeout: 60_000 }, async () => {
  expect(await call(API_TOKEN, 'whoami')).toEqual({ type: 'api_token', user: null, accounts: ['acc-1'] })
  expect(await call(API_TOKEN, 'accounts_list')).toMatchObject([{ id: 'acc-1', name: 'Ada' }])
  const rejected = await fetch(new URL('/mcp', emulator.url), { method: 'POST', headers: { authorization: 'Bearer not-a-real-token', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' })
  expect(rejected.status).toBe(401)
})
