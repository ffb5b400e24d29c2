// The stateless entry (/mcp-stateless, SDK v2 createMcpHandler) with the 2026-07-28 protocol:
// server/discover, the Mcp-Method / Mcp-Name routing headers (SEP-2243), and the legacy stateless
// lane (issue 2, build item 5 "the stateless entry"). The JSON-RPC codes are the SDK's, measured.
import { expect } from 'vitest'
import { connectModernClient, MODERN_PROTOCOL_VERSION, modernEnvelope } from '../helpers/modern-client.ts'
import { initializeRequest, rawRequest, rpc } from '../helpers/raw.ts'
import { useTarget } from '../helpers/scenario.ts'

const { scenario } = useTarget()
const stateless = { transports: ['streamable-http'], connect: false, requires: ['stateless'] } as const
const entry = (base: URL) => new URL('/mcp-stateless', base)

/** A raw 2026-07-28 request: envelope in the body, version and routing headers on the wire. */
function modern(base: URL, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return rawRequest(entry(base), {
    body: rpc(1, method, { ...params, _meta: modernEnvelope() }),
    protocolVersion: MODERN_PROTOCOL_VERSION,
    headers: { 'mcp-method': method, ...headers },
  })
}

scenario('the SDK v2 client pinned to 2026-07-28 discovers the server and calls add', stateless, async ({ baseUrl }) => {
  const client = await connectModernClient(entry(baseUrl))
  expect(client.getProtocolEra()).toBe('modern')
  expect(client.getNegotiatedProtocolVersion()).toBe(MODERN_PROTOCOL_VERSION)
  expect(client.getDiscoverResult()).toMatchObject({ supportedVersions: [MODERN_PROTOCOL_VERSION], capabilities: { tools: expect.any(Object) } })
  expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['add']))
  const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
  expect(result.content).toEqual([{ type: 'text', text: '5' }])
})

scenario('the SDK v2 client sends Mcp-Method and Mcp-Name on every modern request', stateless, async ({ baseUrl }) => {
  const client = await connectModernClient(entry(baseUrl))
  const result = await client.callTool({ name: 'routing', arguments: {} })
  const seen = JSON.parse((result.content as { text: string }[])[0]!.text)
  // Stateless: no session id, ever.
  expect(seen).toEqual({ era: 'modern', mcpMethod: 'tools/call', mcpName: 'routing', protocolVersion: MODERN_PROTOCOL_VERSION, sessionId: null })
})

scenario('the SDK v2 client in auto mode negotiates the modern era on the stateless entry', stateless, async ({ baseUrl }) => {
  const client = await connectModernClient(entry(baseUrl), 'auto')
  expect(client.getProtocolEra()).toBe('modern')
})

scenario('the SDK v2 client in auto mode falls back to initialize on McpAgent (/mcp)', stateless, async ({ baseUrl }) => {
  const client = await connectModernClient(new URL('/mcp', baseUrl), 'auto')
  expect(client.getProtocolEra()).toBe('legacy')
  expect(client.getServerVersion()?.name).toBe('mcp-harness-reference')
  expect((await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content).toEqual([{ type: 'text', text: '5' }])
})

scenario('a raw server/discover answers 200 JSON with the supported versions and no session', stateless, async ({ baseUrl }) => {
  const reply = await modern(baseUrl, 'server/discover')
  expect(reply.status).toBe(200)
  expect(reply.headers.get('mcp-session-id')).toBeNull()
  expect(reply.messages[0]?.result).toMatchObject({ supportedVersions: [MODERN_PROTOCOL_VERSION], resultType: 'complete' })
})

// KI-34: an older client that does not send Mcp-Method is rejected with -32020.
scenario('KI-34: server/discover without Mcp-Method gets 400 with -32020', stateless, async ({ baseUrl }) => {
  const reply = await rawRequest(entry(baseUrl), { body: rpc(1, 'server/discover', { _meta: modernEnvelope() }), protocolVersion: MODERN_PROTOCOL_VERSION })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32020, message: expect.stringContaining('required Mcp-Method header is absent') })
})

scenario('an Mcp-Method header that disagrees with the body gets 400 with -32020', stateless, async ({ baseUrl }) => {
  const reply = await modern(baseUrl, 'server/discover', {}, { 'mcp-method': 'tools/list' })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32020, message: expect.stringContaining('Mcp-Method header names tools/list') })
})

scenario('a modern request without MCP-Protocol-Version gets 400 with -32020', stateless, async ({ baseUrl }) => {
  const reply = await rawRequest(entry(baseUrl), { body: rpc(1, 'server/discover', { _meta: modernEnvelope() }), headers: { 'mcp-method': 'server/discover' } })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32020, message: expect.stringContaining('MCP-Protocol-Version header is absent') })
})

scenario('a raw tools/call of add with Mcp-Name answers 5', stateless, async ({ baseUrl }) => {
  const reply = await modern(baseUrl, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }, { 'mcp-name': 'add' })
  expect(reply.status).toBe(200)
  expect(reply.messages[0]?.result).toMatchObject({ content: [{ type: 'text', text: '5' }], resultType: 'complete' })
})

scenario('a tools/call without Mcp-Name gets 400 with -32020', stateless, async ({ baseUrl }) => {
  const reply = await modern(baseUrl, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32020, message: expect.stringContaining('required Mcp-Name header is absent') })
})

scenario('a tools/call whose Mcp-Name names another tool gets 400 with -32020', stateless, async ({ baseUrl }) => {
  const reply = await modern(baseUrl, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }, { 'mcp-name': 'routing' })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error?.code).toBe(-32020)
})

scenario('malformed JSON gets 400 with -32700', stateless, async ({ baseUrl }) => {
  const reply = await rawRequest(entry(baseUrl), { body: '{"jsonrpc":', protocolVersion: MODERN_PROTOCOL_VERSION, headers: { 'mcp-method': 'tools/call' } })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32700 })
})

scenario('the legacy stateless lane answers a 2025 initialize and tools/call without a session', stateless, async ({ baseUrl }) => {
  const init = await rawRequest(entry(baseUrl), { body: initializeRequest(1) })
  expect(init.status).toBe(200)
  expect(init.headers.get('mcp-session-id')).toBeNull()
  expect(init.messages[0]?.result).toMatchObject({ serverInfo: { name: 'mcp-harness-reference-stateless' } })
  const call = await rawRequest(entry(baseUrl), { body: rpc(2, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), protocolVersion: '2025-06-18' })
  expect(call.status).toBe(200)
  expect(call.messages[0]?.result).toMatchObject({ content: [{ type: 'text', text: '3' }] })
})
