// Protocol edges of McpAgent's legacy HTTP+SSE endpoint (/sse and /sse/message), with raw HTTP steps
// (issue 2, build item 5 "protocol edges"). Spec (2024-11-05 transport):
// https://modelcontextprotocol.io/specification/2024-11-05/basic/transports
// The codes asserted here are what McpAgent (agents 0.32) answers, measured under the emulator.
import { expect } from 'vitest'
import { initializeRequest, notification, openRawSseSession, rawRequest, rpc } from '../helpers/raw.ts'
import { useTarget } from '../helpers/scenario.ts'

const { scenario } = useTarget()
const raw = { transports: ['sse'], connect: false } as const

async function initializedSession(baseUrl: URL) {
  const sse = await openRawSseSession(baseUrl)
  expect((await sse.post(initializeRequest(0))).status).toBe(202)
  await sse.next((message) => message.id === 0)
  expect((await sse.post(notification('notifications/initialized'))).status).toBe(202)
  return sse
}

scenario('GET /sse announces a message endpoint carrying the session id', raw, async ({ baseUrl }) => {
  const sse = await openRawSseSession(baseUrl)
  expect(sse.endpoint.pathname).toBe('/sse/message')
  expect(sse.sessionId).toMatch(/^[0-9a-f]{64}$/)
  sse.close()
})

scenario('a POST is accepted with 202 and answered on the stream', raw, async ({ baseUrl }) => {
  const sse = await initializedSession(baseUrl)
  const reply = await sse.post(rpc(1, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }))
  expect(reply.status).toBe(202)
  expect(await sse.next((message) => message.id === 1)).toMatchObject({ result: { content: [{ type: 'text', text: '5' }] } })
  sse.close()
})

scenario('a POST to /sse/message without sessionId gets 400', raw, async ({ baseUrl }) => {
  const reply = await rawRequest(new URL('/sse/message', baseUrl), { body: rpc(1, 'ping') })
  expect(reply.status).toBe(400)
  expect(reply.text).toContain('Missing sessionId')
})

// Measured: McpAgent accepts a message for a session that never existed; the answer goes nowhere.
scenario('a POST with an unknown sessionId is accepted with 202 and goes nowhere', raw, async ({ baseUrl }) => {
  const reply = await rawRequest(new URL('/sse/message?sessionId=no-such-session', baseUrl), { body: rpc(1, 'ping') })
  expect(reply.status).toBe(202)
  expect(reply.text).toBe('Accepted')
})

// KI-08 on the legacy transport: McpAgent parses the body unguarded, so malformed JSON throws in the
// Worker: a 500 (production's "error code: 1101"; wrangler dev shows the SyntaxError), no JSON-RPC
// -32700. The session itself survives.
scenario('KI-08: malformed JSON on /sse/message is a 500 from an uncaught SyntaxError and the session keeps working', raw, async ({ baseUrl }) => {
  const sse = await initializedSession(baseUrl)
  const reply = await sse.post('{"jsonrpc":"2.0","id":2,')
  expect(reply.status).toBe(500)
  expect(reply.text).toMatch(/error code: 1101|SyntaxError/)
  expect(reply.messages).toEqual([])
  await sse.post(rpc(3, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }))
  expect(await sse.next((message) => message.id === 3)).toMatchObject({ result: { content: [{ text: '5' }] } })
  sse.close()
})

// Measured: a batch cannot cross McpAgent's Worker→DO RPC on /sse (DataCloneError), so it throws: a 500.
scenario('a batch on /sse/message is a 500 and nothing is answered on the stream', raw, async ({ baseUrl }) => {
  const sse = await initializedSession(baseUrl)
  const reply = await sse.post([rpc(4, 'ping'), rpc(5, 'ping')])
  expect(reply.status).toBe(500)
  expect(reply.text).toMatch(/error code: 1101|DataCloneError/)
  await expect(sse.next((message) => message.id === 4 || message.id === 5, 300)).rejects.toThrow(/Timed out/)
  sse.close()
})
