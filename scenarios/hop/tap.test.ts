// The Worker→DO hop tap: every RPC call, upgrade, frame and close on layer `hop`, with the DO name.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

test('records a Streamable HTTP tool call on the hop: RPC plumbing, upgrade with the batch, decoded SSE frame, closes', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http' })
  expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
  const name = client.objectName()
  // Reports wait in the isolate until pulled: take them now (the close may still come, so waits stay bounded).
  await emulator.settled()
  const upgrade = await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.name === name && e.type === 'upgrade' && JSON.stringify(e.messages ?? '').includes('"tools/call"'), 2_000)
  const hop = emulator.transcript.filter({ layer: 'hop', name })
  expect(hop.filter((e) => e.type === 'rpc').map((e) => e.method)).toEqual(expect.arrayContaining(['__unsafe_ensureInitialized', 'getInitializeRequest', 'setInitializeRequest']))
  expect(upgrade).toMatchObject({ mcpMethod: 'POST', transport: 'streamable-http', session: client.sessionId() })
  // The hop step names the client exchange that caused it.
  const clientRequest = emulator.transcript.filter({ layer: 'client', type: 'request', exchange: upgrade.exchange as number })
  expect(clientRequest).toHaveLength(1)
  const frame = await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'frame' && e.conn === upgrade.conn, 2_000)
  expect(frame).toMatchObject({ direction: 'do->worker', frame: 'cf_mcp_agent_event', close: true, methods: ['tools/call'] })
  expect((frame.sse as { data: { result: { content: { text: string }[] } } }[])[0]!.data.result.content[0]!.text).toBe('5')
  await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'close' && e.conn === upgrade.conn, 2_000)
  await client.close()
})

test('records a legacy SSE session on the hop: the SSE socket, message RPCs and raw JSON-RPC frames', async () => {
  const client = await connectClient(emulator.url, { transport: 'sse' })
  expect(await client.text('add', { a: 1, b: 1 })).toBe('2')
  const name = client.objectName()
  expect(name).toMatch(/^sse:/)
  await emulator.settled()
  const upgrade = emulator.transcript.filter({ layer: 'hop', type: 'upgrade', name })[0]
  expect(upgrade).toMatchObject({ mcpMethod: 'SSE' })
  const call = await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'rpc' && e.name === name && e.method === 'onSSEMcpMessage' && JSON.stringify(e.args).includes('"tools/call"'), 2_000)
  // The stamp was taken off the request headers the DO receives.
  expect(JSON.stringify(call.args)).not.toContain('x-mcp-harness-hop')
  const answer = await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'frame' && e.name === name && Array.isArray(e.methods) && (e.methods as string[]).includes('tools/call'), 2_000)
  expect(answer).toMatchObject({ direction: 'do->worker', message: { result: { content: [{ type: 'text', text: '2' }] } } })
  expect(emulator.sessions().find((s) => s.name === name)).toMatchObject({ transport: 'sse', id: client.sessionId(), state: 'active' })
  await client.close()
})

test('KI-11: the DO still hibernates behind the tap: the hop socket survives an eviction and wakes a new instance', async () => {
  const client = await connectClient(emulator.url, { transport: 'sse' })
  expect(await client.text('memo')).toBe('1')
  await emulator.settled()
  const socket = emulator.transcript.filter({ layer: 'hop', type: 'upgrade', name: client.objectName() })[0]!
  await emulator.evict({ session: client.sessionId(), webSockets: 'hibernate' })
  expect(await client.text('memo')).toBe('1')
  await emulator.settled()
  // The same SSE socket carried the call after the wake: it was hibernated, not closed.
  expect(emulator.transcript.filter({ layer: 'hop', type: 'close', conn: socket.conn as string })).toHaveLength(0)
  expect(emulator.transcript.filter({ layer: 'hop', type: 'upgrade', name: client.objectName() })).toHaveLength(1)
  await client.close()
})

test('settled(): right after a client read its answer, sessions() and evict() know the session the answer opened (reports wait in the isolate until pulled)', async () => {
  // A plain POST, read to its end, then at once: no waiting for the transcript, as a test would do.
  for (let round = 0; round < 5; round++) {
    const response = await fetch(new URL('/mcp', emulator.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'settled', version: '1' } } }),
    })
    await response.text()
    const id = response.headers.get('mcp-session-id')!
    await emulator.settled()
    expect(emulator.sessions().map((s) => s.id)).toContain(id)
    // evict() settles by itself: evicting the new session by id finds it.
    expect(await emulator.evict({ session: id })).toEqual([`streamable-http:${id}`])
  }
})
