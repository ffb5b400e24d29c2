import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'
import { connectClient, TRANSPORTS } from '../helpers/clients.ts'

// The IoContext model must not cut what production keeps: an idle but healthy session (open GET or
// SSE stream, no pending waitUntil) outlives the scaled inactivity limit.
let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG, timeouts: { scale: 0.01 } })
})
afterAll(() => emulator?.dispose())

test.each(TRANSPORTS)('KI-23 control: a healthy %s session idles past the scaled inactivity limit and keeps working', async (transport) => {
  const client = await connectClient(emulator.url, { transport })
  expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
  // 700 ms is the scaled inactivity limit; idle for longer than that.
  await new Promise((resolve) => setTimeout(resolve, 900))
  expect(await client.text('add', { a: 4, b: 5 })).toBe('9')
  const progress: number[] = []
  const result = await client.client.callTool({ name: 'slow', arguments: { steps: 3, ms: 50 } }, undefined, { onprogress: (event) => progress.push(event.progress) })
  expect((result.content as { text: string }[])[0]?.text).toBe('done')
  // On SSE the result can overtake the last progress notification (server-side ordering), so only require progress.
  expect(progress.length).toBeGreaterThan(0)
  const timeouts = emulator.transcript.events.filter((event) => event.layer === 'harness' && String(event.type).startsWith('timeout:'))
  expect(timeouts).toEqual([])
  await client.close()
})
