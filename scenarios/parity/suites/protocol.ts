// Protocol edges with raw HTTP steps, the same as scenarios/protocol/*.test.ts: what McpAgent answers
// to what the SDK client would never send. Spec: https://modelcontextprotocol.io/specification/2025-06-18/basic/transports
import assert from 'node:assert/strict'
import { initializeRequest, notification, rpc } from '../context.ts'
import { defineSuite } from './define.ts'

const add = (id: number, a = 2, b = 3) => rpc(id, 'tools/call', { name: 'add', arguments: { a, b } })

export const protocol = defineSuite('protocol', 'Streamable HTTP and legacy SSE edges: Accept, Content-Type, session ids, protocol versions, malformed JSON, batches', (scenario) => {
  // Spec: the client MUST list both application/json and text/event-stream in Accept.
  scenario('a POST accepting only JSON gets 406', async (ctx) => {
    const reply = await ctx.request('/mcp', { body: initializeRequest(), accept: 'application/json' })
    assert.equal(reply.status, 406)
  })

  scenario('a POST with a non-JSON Content-Type gets 415', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post(rpc(1, 'ping'), { headers: { 'content-type': 'text/plain' } })
    assert.equal(reply.status, 415)
  })

  // Spec: servers that require a session id SHOULD answer requests without one with 400.
  scenario('a request without a session id gets 400', async (ctx) => {
    const reply = await ctx.request('/mcp', { body: rpc(1, 'tools/list') })
    assert.equal(reply.status, 400)
  })

  // Spec: a request with a session id the server does not know MUST get 404.
  scenario('a request with an unknown session id gets 404', async (ctx) => {
    const reply = await ctx.request('/mcp', { body: rpc(1, 'tools/list'), sessionId: 'no-such-session', protocolVersion: '2025-06-18' })
    assert.equal(reply.status, 404)
  })

  // Spec: an invalid or unsupported MCP-Protocol-Version MUST get 400.
  scenario('an unsupported mcp-protocol-version gets 400', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post(rpc(1, 'tools/list'), { protocolVersion: '1999-01-01' })
    assert.equal(reply.status, 400)
  })

  // An empty header is still a header: "" is not a supported version, so 400 (wrangler dev keeps
  // empty header values; a front door that drops them turns this into "no header", a 200).
  scenario('an empty mcp-protocol-version gets 400', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post(rpc(1, 'ping'), { protocolVersion: null, headers: { 'mcp-protocol-version': '' } })
    assert.equal(reply.status, 400)
  })

  scenario('a request without mcp-protocol-version is served', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post(rpc(1, 'ping'), { protocolVersion: null })
    assert.equal(reply.status, 200)
  })

  // KI-08: malformed JSON gets a JSON-RPC parse error, and nothing of the session is lost.
  scenario('KI-08: malformed JSON gets 400 -32700 and the session keeps its state', async (ctx) => {
    const session = await ctx.openSession()
    assert.equal(await session.text('counter'), '1')
    const reply = await session.post('{"jsonrpc": "2.0", "id": 2, "method": ')
    assert.equal(reply.status, 400)
    assert.equal(reply.messages[0]?.error?.code, -32700)
    assert.equal(await session.text('counter'), '2')
  })

  scenario('valid JSON that is not JSON-RPC gets 400 -32700', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post({ hello: 'world' })
    assert.equal(reply.status, 400)
  })

  scenario('an unknown method gets -32601', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post(rpc(1, 'no/such-method'))
    assert.equal(reply.messages[0]?.error?.code, -32601)
  })

  // JSON-RPC batches (removed from MCP in 2025-06-18, still accepted by McpAgent): answers come in
  // completion order, so the normalizer compares them as a set.
  scenario('a batch of two requests is answered on one stream', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post([add(5, 1, 1), rpc(6, 'ping')])
    assert.deepEqual(reply.messages.map((message) => message.id).sort(), [5, 6])
  })

  scenario('a batch of notifications only gets 202', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post([notification('notifications/roots/list_changed')])
    assert.equal(reply.status, 202)
  })

  scenario('a batch holding initialize starts a new session', async (ctx) => {
    const reply = await ctx.request('/mcp', { body: [initializeRequest(1)] })
    assert.equal(reply.status, 200)
    assert.ok(reply.headers.get('mcp-session-id'))
  })

  scenario('SSE event ids on /mcp have the form <stream>:<sequence>', async (ctx) => {
    const session = await ctx.openSession()
    const reply = await session.post(add(7))
    assert.match(reply.events[0]?.id ?? '', /^[\w-]+:\d+$/)
  })

  scenario('a GET to an unknown path gets 404', async (ctx) => {
    const reply = await ctx.request('/no-such-path')
    assert.equal(reply.status, 404)
  })

  // Legacy HTTP+SSE (2024-11-05 transport).
  scenario('legacy SSE: POST is accepted with 202 and answered on the stream', async (ctx) => {
    const sse = await ctx.openSseSession()
    assert.equal((await sse.post(initializeRequest(0))).status, 202)
    await sse.next((message) => message.id === 0)
    await sse.post(notification('notifications/initialized'))
    ctx.step('add')
    assert.equal((await sse.post(add(1))).status, 202)
    const answer = await sse.next((message) => message.id === 1)
    assert.equal((answer.result?.content as { text: string }[])[0]?.text, '5')
    sse.close()
  })

  scenario('legacy SSE: a POST without sessionId gets 400', async (ctx) => {
    const reply = await ctx.request('/sse/message', { body: rpc(1, 'ping') })
    assert.equal(reply.status, 400)
  })

  // KI-08 on the legacy transport: McpAgent parses the body unguarded (500 with the SyntaxError).
  scenario('KI-08 legacy SSE: malformed JSON is a 500 and the session keeps working', async (ctx) => {
    const sse = await ctx.openSseSession()
    await sse.post(initializeRequest(0))
    await sse.next((message) => message.id === 0)
    await sse.post(notification('notifications/initialized'))
    ctx.step('malformed')
    const reply = await sse.post('{"jsonrpc":"2.0","id":2,')
    assert.equal(reply.status, 500)
    ctx.step('after')
    await sse.post(add(3))
    await sse.next((message) => message.id === 3)
    sse.close()
  })
})
