// The front door leaves closing idle keep-alive connections to the client (DESIGN "Fidelity first":
// the harness must not add failures of its own). A test's client and the front door share one
// event loop: after that loop stalls (a debugger pause, seconds of synchronous work), a server-side
// idle timer and the client's next request race on the same connection. With the front door's
// keep-alive timeout at 5 s, the first call after a 6 s stall failed with `fetch failed` /
// ECONNRESET on both transports, every time (measured; the platform bench hit it between shapes).
// The harness's other servers a test's client talks to (the recording proxy of `record`, the mock of
// a cassette, the control plane) leave it to the client the same way.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startControlPlane } from '../../emulator/control/server.ts'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { createRecordingProxy } from '../../recordings/capture/proxy.ts'
import { createMockServer } from '../../recordings/mock.ts'
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

test('after the same stall, the recording proxy, the mock of a cassette and the control plane still answer the next request', { timeout: 60_000 }, async () => {
  const proxy = createRecordingProxy({ target: emulator.url })
  await proxy.start()
  const mock = await createMockServer('recordings/cassettes/sdk/streamable-http.json')
  const control = await startControlPlane(emulator)
  const mockClient = new Client({ name: 'keep-alive', version: '0.1.0' })
  try {
    const viaProxy = await connectClient(proxy.url, { transport: 'streamable-http' })
    await mockClient.connect(new StreamableHTTPClientTransport(new URL('/mcp', mock.url)))
    const health = async () => (await fetch(new URL('health', control.url), { headers: { authorization: `Bearer ${control.token}` } })).status
    expect(await viaProxy.text('add', { a: 2, b: 3 })).toBe('5')
    expect((await mockClient.listTools()).tools.map((tool) => tool.name)).toContain('add')
    expect(await health()).toBe(200)
    stall(6_000)
    expect(await viaProxy.text('add', { a: 4, b: 5 })).toBe('9')
    expect(await mockClient.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ type: 'text', text: '5' }] })
    expect(await health()).toBe(200)
  } finally {
    await mockClient.close()
    await control.close()
    await mock.close()
    await proxy.stop()
  }
})
