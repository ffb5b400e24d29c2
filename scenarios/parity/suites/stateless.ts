// The stateless entry (/mcp-stateless, createMcpHandler) with MCP 2026-07-28: server/discover, the
// Mcp-Method / Mcp-Name headers (SEP-2243) and the legacy stateless lane, as in
// scenarios/stateless/modern-protocol.test.ts.
import assert from 'node:assert/strict'
import { initializeRequest, modernEnvelope, MODERN_PROTOCOL_VERSION, rpc, type ParityContext } from '../context.ts'
import { defineSuite } from './define.ts'

const ENTRY = '/mcp-stateless'
const stateless = { requires: ['stateless'] } as const

/** A raw 2026-07-28 request: envelope in the body, version and routing headers on the wire. */
const modern = (ctx: ParityContext, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  ctx.request(ENTRY, { body: rpc(1, method, { ...params, _meta: modernEnvelope() }), protocolVersion: MODERN_PROTOCOL_VERSION, headers: { 'mcp-method': method, ...headers } })

export const statelessSuite = defineSuite('stateless', 'the 2026-07-28 stateless entry: server/discover, routing headers, the legacy stateless lane', (scenario) => {
  scenario('the SDK v2 client pinned to 2026-07-28 discovers the server and calls add', stateless, async (ctx) => {
    const client = await ctx.connectModern(ENTRY)
    assert.equal(client.getProtocolEra(), 'modern')
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
    assert.deepEqual(result.content, [{ type: 'text', text: '5' }])
  })

  scenario('the SDK v2 client in auto mode falls back to initialize on /mcp', stateless, async (ctx) => {
    const client = await ctx.connectModern('/mcp', 'auto')
    assert.equal(client.getProtocolEra(), 'legacy')
  })

  scenario('a raw server/discover answers 200 without a session', stateless, async (ctx) => {
    const reply = await modern(ctx, 'server/discover')
    assert.equal(reply.status, 200)
    assert.equal(reply.headers.get('mcp-session-id'), null)
  })

  // KI-34: an older client that does not send Mcp-Method is rejected with -32020.
  scenario('KI-34: server/discover without Mcp-Method gets 400 -32020', stateless, async (ctx) => {
    const reply = await ctx.request(ENTRY, { body: rpc(1, 'server/discover', { _meta: modernEnvelope() }), protocolVersion: MODERN_PROTOCOL_VERSION })
    assert.equal(reply.status, 400)
    assert.equal(reply.messages[0]?.error?.code, -32020)
  })

  scenario('a tools/call with a mismatched Mcp-Name gets 400 -32020', stateless, async (ctx) => {
    const reply = await modern(ctx, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }, { 'mcp-name': 'routing' })
    assert.equal(reply.status, 400)
  })

  scenario('a raw tools/call of add with Mcp-Name answers 5', stateless, async (ctx) => {
    const reply = await modern(ctx, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }, { 'mcp-name': 'add' })
    assert.equal(reply.status, 200)
  })

  scenario('malformed JSON gets 400 -32700', stateless, async (ctx) => {
    const reply = await ctx.request(ENTRY, { body: '{"jsonrpc":', protocolVersion: MODERN_PROTOCOL_VERSION, headers: { 'mcp-method': 'tools/call' } })
    assert.equal(reply.status, 400)
  })

  scenario('the legacy stateless lane answers initialize and tools/call without a session', stateless, async (ctx) => {
    const init = await ctx.request(ENTRY, { body: initializeRequest(1) })
    assert.equal(init.status, 200)
    const call = await ctx.request(ENTRY, { body: rpc(2, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), protocolVersion: '2025-06-18' })
    assert.equal(call.status, 200)
  })
})
