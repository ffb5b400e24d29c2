// KI-39: an empty header value. Miniflare's dispatchFetch (what the emulator's front door used before
// it forwarded to workerd's own socket) drops headers whose value is empty, so `mcp-protocol-version: ""`
// never reaches the Worker and the request is served; workerd's own HTTP socket (what wrangler dev
// serves, like production) passes it and the MCP transport refuses it with 400. The broken path is
// dispatchFetch, the fixed one the front door: the same request goes through both.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { openRawSession, rawRequest, rpc } from '../helpers/raw.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

async function listToolsWithEmptyVersion(base: URL | string, sessionId: string) {
  return rawRequest(new URL('/mcp', base), { sessionId, protocolVersion: null, headers: { 'mcp-protocol-version': '' }, body: rpc(5, 'tools/list') })
}

test('KI-39: through Miniflare\'s dispatchFetch an empty mcp-protocol-version is dropped and the request is served (200)', async () => {
  const session = await openRawSession(emulator.url)
  const response = await emulator.miniflare.dispatchFetch(new URL('/mcp', emulator.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session.sessionId, 'mcp-protocol-version': '' },
    body: JSON.stringify(rpc(5, 'tools/list')),
  })
  await response.text()
  expect(response.status).toBe(200)
})

test('KI-39: through the emulator front door (fixed) the empty value arrives and the request gets 400, as under wrangler dev', async () => {
  const session = await openRawSession(emulator.url)
  const reply = await listToolsWithEmptyVersion(emulator.url, session.sessionId)
  expect(reply.status).toBe(400)
})

test("KI-39: sent to workerd's own socket, as wrangler dev and production receive it, the same request gets 400", async () => {
  const session = await openRawSession(emulator.url)
  const direct = await emulator.miniflare.ready
  const reply = await listToolsWithEmptyVersion(direct, session.sessionId)
  expect(reply.status).toBe(400)
  expect(reply.text).toMatch(/protocol version/i)
})
