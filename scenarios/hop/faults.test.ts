// Faults on the Worker→DO hop: what the client sees, and that nothing hangs forever (every wait is bounded).
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterEach(() => emulator.faults.clear())
afterAll(() => emulator?.dispose())

const outcome = (promise: Promise<Record<string, unknown>>) =>
  promise.then(
    (result) => `result: ${JSON.stringify(result.content)}`,
    (error: Error) => `error: ${error.message}`,
  )

test('a dropped DO→Worker frame leaves the call unanswered until the client times out; the next call works', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http' })
  const fault = emulator.faults.add({ match: { direction: 'do->worker', method: 'tools/call' }, action: { type: 'drop' }, times: 1 })
  const seen = await outcome(client.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }, undefined, { timeout: 1_000 }))
  expect(seen).toMatch(/^error: .*timed out/i)
  // On a loaded machine the client can give up before the answer even leaves the DO: the drop then
  // acts a moment later. Wait for it (bounded) rather than read it at once.
  await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'fault' && e.action === 'drop' && e.name === client.objectName(), 10_000)
  expect(fault.fired).toBe(1)
  expect(emulator.transcript.filter({ layer: 'hop', type: 'fault', action: 'drop', name: client.objectName() })).toHaveLength(1)
  // times: 1 removed the fault; the session itself is fine.
  expect(await client.text('add', { a: 2, b: 2 })).toBe('4')
  await client.close()
})

test('a 503 on the WebSocket upgrade reaches the client as a JSON-RPC error from McpAgent', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http' })
  emulator.faults.add({ match: { step: 'upgrade', method: 'tools/call', session: client.sessionId() }, action: { type: 'fail-upgrade', status: 503 }, times: 1 })
  const seen = await outcome(client.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }, undefined, { timeout: 3_000 }))
  expect(seen).toMatch(/Failed to establish WebSocket connection/)
  // Hop reports reach Node a few ms after the traffic: wait for them, bounded.
  const refused = await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'upgrade-result' && e.name === client.objectName() && e.status === 503, 2_000)
  const response = emulator.transcript.filter({ layer: 'client', type: 'response', exchange: refused.exchange as number })
  expect(response[0]?.status).toBe(500)
  expect(await client.text('add', { a: 2, b: 2 })).toBe('4')
  await client.close()
})

test('a delayed DO→Worker frame arrives late but intact, in order', async () => {
  const client = await connectClient(emulator.url, { transport: 'sse' })
  emulator.faults.add({ match: { direction: 'do->worker', method: 'tools/call', session: client.objectName() }, action: { type: 'delay', ms: 300 }, times: 1 })
  const started = performance.now()
  expect(await client.text('add', { a: 20, b: 22 })).toBe('42')
  // A lower bound only: the frame cannot arrive before its delay.
  expect(performance.now() - started).toBeGreaterThanOrEqual(290)
  expect(emulator.transcript.filter({ layer: 'hop', type: 'fault', action: 'delay', name: client.objectName() })).toHaveLength(1)
  await client.close()
})

test('closing the hop with a code ends the client stream; the client gets no answer and the wait is bounded', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http' })
  emulator.faults.add({ match: { direction: 'do->worker', method: 'tools/call' }, action: { type: 'close', code: 4000 }, times: 1 })
  const seen = await outcome(client.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }, undefined, { timeout: 1_500 }))
  emulator.transcript.record({ layer: 'harness', type: 'observation', what: 'hop closed 4000 mid-call', seen })
  expect(seen).toMatch(/^error: /)
  await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'close' && e.name === client.objectName() && e.code === 4000, 2_000)
  expect(await client.text('add', { a: 2, b: 2 })).toBe('4')
  await client.close()
})

test('rejects an invalid fault with the option path', () => {
  expect(() => emulator.faults.add({ match: { direction: 'sideways' as never }, action: { type: 'drop' } })).toThrow(/ERR_OPTIONS[\s\S]*match\.direction/)
})
