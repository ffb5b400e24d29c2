// Legacy SSE sessions across hibernation and crashes (KI-29), and Streamable HTTP across a crash.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

const answerName = () => ({ action: 'accept' as const, content: { name: 'Ada' } })

test('KI-29: after an eviction an SSE session has lost the client capabilities, so elicitation fails', async () => {
  const client = await connectClient(emulator.url, { transport: 'sse', onElicit: answerName })
  // Before: the capability declared at initialize is known, elicitation works.
  expect(await client.text('elicit_name')).toBe('Hello, Ada')
  await emulator.evict({ session: client.sessionId() })
  // After: the woken DO re-created its server without the client's capabilities.
  const after = await client.client.callTool({ name: 'elicit_name', arguments: {} }).then(
    (result) => JSON.stringify(result.content),
    (error: Error) => error.message,
  )
  expect(after).toMatch(/does not support (form )?elicitation/i)
  await emulator.settled()
  await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'woke' && e.name === client.objectName(), 2_000)
  await client.close()
})

test('KI-29: a Streamable HTTP session keeps the client capabilities across an eviction', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http', onElicit: answerName })
  await emulator.evict({ session: client.sessionId() })
  expect(await client.text('elicit_name')).toBe('Hello, Ada')
  await client.close()
})

test('crash() kills an SSE session (its stream ends, calls go unanswered) while a Streamable HTTP session survives', async () => {
  const sse = await connectClient(emulator.url, { transport: 'sse' })
  const streamable = await connectClient(emulator.url, { transport: 'streamable-http' })
  expect(await sse.text('counter')).toBe('1')
  expect(await streamable.text('counter')).toBe('1')
  const sseErrors: string[] = []
  sse.transport.onerror = (error) => sseErrors.push(error.message)
  const sseStream = emulator.transcript.filter({ layer: 'client', type: 'request', method: 'GET', path: '/sse' }).at(-1)!

  await emulator.crash()
  expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'crashed' })).toHaveLength(1)
  // The hop shows the abort: the DO side of the SSE socket closed abnormally.
  const abort = await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'close' && e.name === sse.objectName() && e.direction === 'do->worker', 5_000)
  expect(abort.code).toBe(1006)
  // What the client sees: its SSE stream ends and the transport reports an error.
  await emulator.transcript.waitFor((e) => e.layer === 'client' && e.type === 'end' && e.exchange === sseStream.exchange, 5_000)
  await expect.poll(() => sseErrors.length, { timeout: 5_000 }).toBeGreaterThan(0)
  // The session is dead: the POST is accepted (202) but no answer ever comes (bounded by a 1.5 s timeout).
  await expect(sse.client.callTool({ name: 'counter', arguments: {} }, undefined, { timeout: 1_500 })).rejects.toThrow(/timed out/i)

  // Streamable HTTP: the DO restarts from storage on the next request.
  expect(await streamable.text('counter')).toBe('2')
  expect(await streamable.text('memo')).toBe('1')
  await emulator.settled()
  await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'woke' && e.name === streamable.objectName() && e.after === 'crashed', 2_000)
  await streamable.close()
  await sse.close()
})
