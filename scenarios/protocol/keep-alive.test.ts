// The front door leaves closing idle keep-alive connections to the client (DESIGN "Fidelity first":
// the harness must not add failures of its own). A test's client and the front door share one
// event loop: after that loop stalls (a debugger pause, seconds of synchronous work), a server-side
// idle timer and the client's next request race on the same connection. With the front door's
// keep-alive timeout at 5 s, the first call after a 6 s stall failed with `fetch failed` /
// ECONNRESET on both transports, every time (measured; the platform bench hit it between shapes).
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG, workerLog: 'silent' })
})
afterAll(() => emulator?.dispose())

/** Blocks this process's event loop, as a debugger pause or heavy synchronous work would. */
function stall(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // Busy: no timer, no I/O runs meanwhile.
  }
}

test('a call after the test process stalled for six seconds still reaches the Worker, on both transports', { timeout: 60_000 }, async () => {
  const clients = [await connectClient(emulator.url, { transport: 'streamable-http' }), await connectClient(emulator.url, { transport: 'sse' })]
  for (const client of clients) expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
  stall(6_000)
  for (const client of clients) expect(await client.text('add', { a: 4, b: 5 })).toBe('9')
})
