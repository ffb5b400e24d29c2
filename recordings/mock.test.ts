import { afterEach, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { HarnessError } from '../core/errors.ts'
import type { Cassette } from './format/schema.ts'
import { loadCassette } from './persist/fs.ts'
import { createMockServer, type MockServer, type MockServerOptions } from './mock.ts'

const STREAMABLE = 'recordings/cassettes/sdk/streamable-http.json'
const SSE = 'recordings/cassettes/sdk/sse.json'

const mocks: MockServer[] = []
afterEach(async () => {
  while (mocks.length) await mocks.pop()!.close()
})

async function mockOf(file: Cassette | string, options: MockServerOptions = {}): Promise<MockServer> {
  const mock = await createMockServer(file, options)
  mocks.push(mock)
  return mock
}

async function connect(mock: MockServer, name = 'mock-test') {
  const client = new Client({ name, version: '0.1.0' })
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', mock.url))
  await client.connect(transport)
  return { client, transport }
}

/** The session recorded in sdk/streamable-http, driven by a TS SDK client. */
async function recordedSession(mock: MockServer): Promise<string[]> {
  const { client, transport } = await connect(mock)
  await client.listTools()
  const texts: string[] = []
  for (const call of [{ name: 'add', arguments: { a: 2, b: 3 } }, { name: 'counter', arguments: {} }, { name: 'counter', arguments: {} }]) {
    const result = await client.callTool(call)
    texts.push((result.content as { text: string }[])[0]!.text)
  }
  await transport.terminateSession()
  await client.close()
  return texts
}

describe('mock matching', () => {
  test('answers add(4,3) with a miss that names the differing argument, never with the recorded "5"', async () => {
    const printed: HarnessError[] = []
    const mock = await mockOf(STREAMABLE, { onMiss: (error) => printed.push(error) })
    const { client } = await connect(mock)
    const error = await client.callTool({ name: 'add', arguments: { a: 4, b: 3 } }).then(
      (result) => result,
      (e: unknown) => e as Error,
    )
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toContain('ERR_REPLAY_MISS')
    expect(message).not.toMatch(/"text":\s*"5"/)
    expect(message).toMatch(/Nearest: #5 tools\/call \(id \d+\): differs at params\.arguments\.a \(recorded 2 ≠ received 4\)/)
    // Printed at once (before the client went on), and kept in the transcript with its structure.
    expect(printed).toHaveLength(1)
    const [miss] = mock.transcript.filter({ layer: 'harness', type: 'miss' })
    expect(miss).toMatchObject({ nearest: 5, differences: [{ field: 'params.arguments.a', recorded: 2, received: 4 }] })
    await client.close()
  })

  test('answers whoami with a miss that names params.name first', async () => {
    const mock = await mockOf(STREAMABLE)
    const { client } = await connect(mock)
    const message = await client.callTool({ name: 'whoami', arguments: {} }).then(
      () => '',
      (e: unknown) => (e as Error).message,
    )
    expect(message).toMatch(/tools\/call "whoami" \(id \d+\) on POST \/mcp/)
    expect(message).toMatch(/differs at params\.name \(recorded "(add|counter)" ≠ received "whoami"\)/)
    expect(mock.errors).toHaveLength(1)
    await client.close()
  })

  test('a request after the recorded session ends says it was already served', async () => {
    const mock = await mockOf(STREAMABLE)
    const { client } = await connect(mock)
    await client.listTools()
    const message = await client.listTools().then(
      () => '',
      (e: unknown) => (e as Error).message,
    )
    expect(message).toContain('Nearest: #4 tools/list (id 1): it was already served')
    await client.close()
  })

  test('an ignored param path and a custom function let a differing request match', async () => {
    const ignoring = await mockOf(STREAMABLE, { match: { ignore: ['tools/call:params.arguments.a'] } })
    const one = await connect(ignoring)
    expect(await one.client.callTool({ name: 'add', arguments: { a: 4, b: 3 } })).toMatchObject({ content: [{ text: '5' }] })
    await one.client.close()
    const custom = await mockOf(STREAMABLE, { match: { custom: (live, recorded) => ((live.body as { params?: { name?: string } })?.params?.name === 'sum' && (recorded.request.body as { params?: { name?: string } })?.params?.name === 'add' ? true : undefined) } })
    const two = await connect(custom)
    expect(await two.client.callTool({ name: 'sum', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ text: '5' }] })
    await two.client.close()
  })

  test('rejects invalid match options by name', async () => {
    await expect(createMockServer(STREAMABLE, { match: { order: 'random' as 'any' } })).rejects.toThrow(/Invalid match options:\n {2}- "order"/)
    await expect(createMockServer(STREAMABLE, { speed: -1 })).rejects.toThrow(/Invalid option "speed"/)
  })

  test('strict order refuses a call that comes before its recorded turn', async () => {
    const mock = await mockOf(STREAMABLE, { match: { order: 'strict' } })
    const { client } = await connect(mock)
    const message = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }).then(
      () => '',
      (e: unknown) => (e as Error).message,
    )
    expect(message).toContain('ERR_REPLAY_MISS')
    expect(message).toContain('out of the recorded order')
    await client.close()
  })

  test('strict order serves the recorded session to three clients at once, each on its own cursor', async () => {
    const mock = await mockOf(STREAMABLE, { match: { order: 'strict' } })
    const results = await Promise.all(Array.from({ length: 3 }, () => recordedSession(mock)))
    for (const texts of results) expect(texts).toEqual(['5', '1', '2'])
    expect(mock.errors).toEqual([])
  })

  test('the cassette file can carry its own match options', async () => {
    const cassette = await loadCassette(STREAMABLE)
    cassette.meta.match = { ignore: ['params.arguments'] }
    const mock = await mockOf(cassette)
    const { client } = await connect(mock)
    expect(await client.callTool({ name: 'add', arguments: { a: 9, b: 9 } })).toMatchObject({ content: [{ text: '5' }] })
    await client.close()
  })
})

describe('mock playback', () => {
  test('two clients in a row both complete their session against one mock', async () => {
    const mock = await mockOf(STREAMABLE)
    expect(await recordedSession(mock)).toEqual(['5', '1', '2'])
    expect(await recordedSession(mock)).toEqual(['5', '1', '2'])
    expect(mock.errors).toEqual([])
    expect(mock.sessions()).toBe(2)
  })

  test('five clients at once each get their own session id and cursor', async () => {
    const mock = await mockOf(STREAMABLE)
    const results = await Promise.all(Array.from({ length: 5 }, () => recordedSession(mock)))
    for (const texts of results) expect(texts).toEqual(['5', '1', '2'])
    expect(mock.errors).toEqual([])
  })

  test('a whole answer goes out with a content-length (one write), an open stream without one', async () => {
    const mock = await mockOf(STREAMABLE)
    const cassette = await loadCassette(STREAMABLE)
    const post = async (body: unknown, session?: string) =>
      fetch(new URL('/mcp', mock.url), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session ? { 'mcp-session-id': session } : {}) }, body: JSON.stringify(body) })
    const init = await post(cassette.interactions[0]!.request.body)
    const text = await init.text()
    expect(init.headers.get('content-length')).toBe(String(Buffer.byteLength(text)))
    expect(init.headers.get('transfer-encoding')).toBeNull()
    const session = init.headers.get('mcp-session-id')!
    const accepted = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)
    expect([accepted.status, accepted.headers.get('content-length')]).toEqual([202, '0'])
    const stream = await fetch(new URL('/mcp', mock.url), { headers: { accept: 'text/event-stream', 'mcp-session-id': session } })
    expect(stream.headers.get('content-length')).toBeNull()
    await stream.body?.cancel()
  })

  test('a legacy SSE cassette serves two clients in a row', async () => {
    const mock = await mockOf(SSE)
    for (let run = 0; run < 2; run++) {
      const client = new Client({ name: 'sse-test', version: '0.1.0' })
      await client.connect(new SSEClientTransport(new URL('/sse', mock.url)))
      await client.listTools()
      expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ text: '5' }] })
      await client.callTool({ name: 'counter', arguments: {} })
      expect(await client.callTool({ name: 'counter', arguments: {} })).toMatchObject({ content: [{ text: '2' }] })
      await client.close()
    }
    expect(mock.errors).toEqual([])
  })

  test('a legacy SSE client gets the miss for its call, not a hang', async () => {
    const mock = await mockOf(SSE)
    const client = new Client({ name: 'sse-test', version: '0.1.0' })
    await client.connect(new SSEClientTransport(new URL('/sse', mock.url)))
    const message = await client.callTool({ name: 'add', arguments: { a: 4, b: 3 } }).then(
      () => '',
      (e: unknown) => (e as Error).message,
    )
    expect(message).toContain('differs at params.arguments.a (recorded 2 ≠ received 4)')
    await client.close()
  })

  test('an unknown session id is refused with 404', async () => {
    const mock = await mockOf(STREAMABLE)
    const response = await fetch(new URL('/mcp', mock.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'not-issued' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
    expect(response.status).toBe(404)
    expect(await response.text()).toContain('was not opened by this mock')
  })

  test('speed 1 keeps the recorded gap of an answer (lower bound only)', async () => {
    const cassette = await loadCassette(STREAMABLE)
    const call = cassette.interactions.find((i) => i.id === 5)!
    const gap = call.response!.sse!.at(-1)!.t - call.t
    const mock = await mockOf(cassette, { speed: 1 })
    const { client } = await connect(mock)
    await client.listTools()
    const started = performance.now()
    await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
    expect(performance.now() - started).toBeGreaterThanOrEqual(gap - 2)
    await client.close()
  })
})
