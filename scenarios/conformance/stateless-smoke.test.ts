import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

// Smoke test of the reference server's stateless entry (createMcpHandler + SDK v2); the full
// suite lives in scenarios/stateless.
let emulator: Emulator
const MODERN = '2026-07-28'
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'smoke', version: '0.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
}

beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})

afterAll(async () => {
  await emulator?.dispose()
})

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return emulator.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  })
}

/** The JSON-RPC message of a response, whether it came as JSON or as one SSE event. */
async function message(response: Response): Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }> {
  const text = await response.text()
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return JSON.parse(text)
  const data = text.split('\n').find((line) => line.startsWith('data: '))
  return JSON.parse(data?.slice('data: '.length) ?? 'null')
}

describe('/mcp-stateless', () => {
  test('MCP 2026-07-28: an SDK v2 client discovers the server and calls add', async () => {
    const client = new Client({ name: 'smoke', version: '0.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } })
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp-stateless', emulator.url)))
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe(MODERN)
      const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
      expect(sum.content).toEqual([{ type: 'text', text: '5' }])
      const routing = await client.callTool({ name: 'routing', arguments: {} })
      const echoed = JSON.parse((routing.content as { text: string }[])[0]!.text)
      expect(echoed).toMatchObject({ era: 'modern', mcpMethod: 'tools/call', mcpName: 'routing', protocolVersion: MODERN })
    } finally {
      await client.close()
    }
  })

  test('KI-34: server/discover without the Mcp-Method header is rejected with 400 and -32020', async () => {
    const response = await post(
      '/mcp-stateless',
      { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: ENVELOPE } },
      { 'mcp-protocol-version': MODERN },
    )
    expect(response.status).toBe(400)
    expect((await message(response)).error?.code).toBe(-32020)
  })

  test('a 2025-era client is served by the legacy stateless lane, without a session', async () => {
    const init = await post('/mcp-stateless', {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'smoke', version: '0.0.0' } },
    })
    expect(init.status).toBe(200)
    expect(init.headers.get('mcp-session-id')).toBeNull()
    expect((await message(init)).result?.protocolVersion).toBe('2025-11-25')
    const call = await post(
      '/mcp-stateless',
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } },
      { 'mcp-protocol-version': '2025-11-25' },
    )
    expect((await message(call)).result?.content).toEqual([{ type: 'text', text: '5' }])
  })
})

// https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
describe('DNS-rebinding protection', () => {
  test.each(['/mcp', '/mcp-stateless'])('%s rejects a foreign Origin with 403 and accepts a loopback one', async (path) => {
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' }
    const foreign = await post(path, ping, { origin: 'http://evil.example.com' })
    expect(foreign.status).toBe(403)
    expect(foreign.headers.get('access-control-allow-origin')).toBe('*')
    expect((await message(foreign)).error?.message).toContain('evil.example.com')
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'smoke', version: '0.0.0' } },
    }
    const local = await post(path, initialize, { origin: emulator.url.origin })
    expect(local.status).toBe(200)
    await local.body?.cancel()
  })
})
