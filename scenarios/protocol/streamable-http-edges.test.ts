// Protocol edges of McpAgent's Streamable HTTP endpoint, with raw HTTP steps (issue 2, build item 5
// "protocol edges"). Spec: https://modelcontextprotocol.io/specification/2025-06-18/basic/transports
// The codes asserted here are what McpAgent (agents 0.32) answers, measured under the emulator.
import { expect } from 'vitest'
import { initializeRequest, notification, openRawSession, rawRequest, rpc, type RpcMessage } from '../helpers/raw.ts'
import { useTarget } from '../helpers/scenario.ts'

const { scenario } = useTarget()
const raw = { transports: ['streamable-http'], connect: false } as const
const mcp = (base: URL) => new URL('/mcp', base)
const add = (id: number, a = 2, b = 3) => rpc(id, 'tools/call', { name: 'add', arguments: { a, b } })
const textOf = (message: RpcMessage | undefined) => (message?.result?.content as { text: string }[] | undefined)?.[0]?.text

// Spec: the client MUST list both application/json and text/event-stream in Accept.
scenario('a POST accepting only JSON gets 406', raw, async ({ baseUrl }) => {
  const reply = await rawRequest(mcp(baseUrl), { body: initializeRequest(), accept: 'application/json' })
  expect(reply.status).toBe(406)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32000, message: expect.stringContaining('Not Acceptable') })
  expect(reply.headers.get('mcp-session-id')).toBeNull()
})

scenario('a GET stream without text/event-stream in Accept gets 406', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await rawRequest(mcp(baseUrl), { method: 'GET', accept: 'application/json', sessionId: session.sessionId })
  expect(reply.status).toBe(406)
})

scenario('a POST with a non-JSON Content-Type gets 415', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post(rpc(1, 'ping'), { headers: { 'content-type': 'text/plain' } })
  expect(reply.status).toBe(415)
})

// Spec: servers that require a session id SHOULD answer requests without one with 400.
scenario('a request without a session id gets 400', raw, async ({ baseUrl }) => {
  const reply = await rawRequest(mcp(baseUrl), { body: rpc(1, 'tools/list') })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32000, message: expect.stringContaining('Mcp-Session-Id header is required') })
})

// Spec: a request with a session id the server does not know MUST get 404.
scenario('a request with an unknown session id gets 404', raw, async ({ baseUrl }) => {
  const reply = await rawRequest(mcp(baseUrl), { body: rpc(1, 'tools/list'), sessionId: 'no-such-session', protocolVersion: '2025-06-18' })
  expect(reply.status).toBe(404)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32001, message: 'Session not found' })
})

// Spec: an invalid or unsupported MCP-Protocol-Version MUST get 400.
scenario('an unsupported mcp-protocol-version gets 400 listing the supported ones', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post(rpc(1, 'tools/list'), { protocolVersion: '1999-01-01' })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error?.message).toMatch(/Unsupported protocol version: 1999-01-01 \(supported versions: .*2025-06-18/)
})

scenario('a request without mcp-protocol-version is served (the server assumes a default)', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post(rpc(1, 'ping'), { protocolVersion: null })
  expect(reply.status).toBe(200)
  expect(reply.messages[0]).toMatchObject({ id: 1, result: {} })
})

// KI-08: malformed JSON gets a JSON-RPC parse error, and nothing of the session is lost.
scenario('KI-08: malformed JSON gets 400 with -32700 and the session keeps its state', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  expect(textOf((await session.post(rpc(1, 'tools/call', { name: 'counter', arguments: {} }))).messages[0])).toBe('1')
  const reply = await session.post('{"jsonrpc": "2.0", "id": 2, "method": ')
  expect(reply.status).toBe(400)
  expect(reply.messages[0]).toMatchObject({ id: null, error: { code: -32700, message: expect.stringContaining('Parse error') } })
  expect(textOf((await session.post(rpc(3, 'tools/call', { name: 'counter', arguments: {} }))).messages[0])).toBe('2')
  expect(textOf((await session.post(add(4))).messages[0])).toBe('5')
})

scenario('valid JSON that is not JSON-RPC gets 400 with -32700', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post({ hello: 'world' })
  expect(reply.status).toBe(400)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32700, message: 'Parse error: Invalid JSON-RPC message' })
})

scenario('an unknown method gets -32601 in a 200 stream', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post(rpc(1, 'no/such-method'))
  expect(reply.status).toBe(200)
  expect(reply.messages[0]).toMatchObject({ id: 1, error: { code: -32601 } })
})

// Batches (JSON-RPC 2.0 §6; removed from MCP in 2025-06-18 but still accepted by McpAgent):
// one SSE stream carries every response, in completion order rather than request order.
scenario('a batch of two requests is answered on one SSE stream with both responses', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post([add(5, 1, 1), rpc(6, 'ping')])
  expect(reply.status).toBe(200)
  expect(reply.contentType).toContain('text/event-stream')
  expect(reply.messages.map((message) => message.id).sort()).toEqual([5, 6])
  expect(textOf(reply.messages.find((message) => message.id === 5))).toBe('2')
  expect(reply.messages.find((message) => message.id === 6)?.result).toEqual({})
})

scenario('a batch of notifications only is accepted with 202 and no body', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post([notification('notifications/roots/list_changed')])
  expect(reply.status).toBe(202)
  expect(reply.text).toBe('')
})

scenario('an empty batch is accepted with 202 (JSON-RPC would call it an invalid request)', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post([])
  expect(reply.status).toBe(202)
})

scenario('a batch holding initialize starts a new session', raw, async ({ baseUrl }) => {
  const reply = await rawRequest(mcp(baseUrl), { body: [initializeRequest(1)] })
  expect(reply.status).toBe(200)
  expect(reply.headers.get('mcp-session-id')).toMatch(/^[0-9a-f]{64}$/)
  expect(reply.messages[0]?.result).toMatchObject({ serverInfo: { name: 'mcp-harness-reference' } })
})

scenario('SSE event ids on /mcp have the form <stream>:<sequence>', raw, async ({ baseUrl }) => {
  const session = await openRawSession(baseUrl)
  const reply = await session.post(add(7))
  expect(reply.events.map((event) => event.id)).toEqual([expect.stringMatching(/^[\w-]+:\d+$/)])
})
