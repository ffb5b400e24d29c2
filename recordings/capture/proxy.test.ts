import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { createParser } from 'eventsource-parser'
import { buildCassette } from '../format/normalize.ts'
import { replay } from '../replay.ts'
import { createRecordingProxy, type RecordingProxy } from './proxy.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

/** A tiny upstream whose handler the test scripts. */
async function upstream(handler: http.RequestListener): Promise<URL> {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  cleanup.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))))
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
}

async function proxyTo(target: URL, extra: Partial<Parameters<typeof createRecordingProxy>[0]> = {}): Promise<RecordingProxy> {
  const proxy = createRecordingProxy({ target, ...extra })
  await proxy.start()
  cleanup.push(() => proxy.stop())
  return proxy
}

/** Reads SSE events from a fetch response, calling onEvent for each as it arrives. */
async function readSse(response: Response, onEvent: (data: string, id?: string) => void): Promise<void> {
  const parser = createParser({ onEvent: (e) => onEvent(e.data, e.id) })
  const decoder = new TextDecoder()
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
}

describe('recording proxy', () => {
  test('streams each SSE event to the client before the server sends the next one (no buffering)', async () => {
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const target = await upstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('id: s1\ndata: {"n":1}\n\n')
      // The second event waits for the client to have seen the first: a buffering proxy deadlocks here.
      await released
      res.end('id: s2\ndata: {"n":2}\n\n')
    })
    const proxy = await proxyTo(target)
    const seen: string[] = []
    const response = await fetch(new URL('/mcp', proxy.url), { headers: { accept: 'text/event-stream' } })
    await readSse(response, (data) => {
      seen.push(data)
      if (seen.length === 1) release()
    })
    expect(seen).toEqual(['{"n":1}', '{"n":2}'])
    const cassette = buildCassette(proxy.snapshot(), { client: 'test', scenario: 'stream', transport: 'streamable-http', recordedWith: 'proxy' })
    expect(cassette.interactions[0]!.response!.sse!.map((e) => [e.id, e.data])).toEqual([
      ['<event-1>', { n: 1 }],
      ['<event-2>', { n: 2 }],
    ])
  })

  test('follows a reconnect: Last-Event-ID is recorded as the placeholder of the event it resumes from', async () => {
    const target = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      if (req.headers['last-event-id'] === 'conn9:1') res.end('id: conn9:2\ndata: {"resumed":true}\n\n')
      else res.end('id: conn9:1\ndata: {"first":true}\n\n')
    })
    const proxy = await proxyTo(target)
    const ids: (string | undefined)[] = []
    await readSse(await fetch(new URL('/mcp', proxy.url)), (_d, id) => ids.push(id))
    await readSse(await fetch(new URL('/mcp', proxy.url), { headers: { 'last-event-id': ids[0]! } }), (_d, id) => ids.push(id))
    expect(ids).toEqual(['conn9:1', 'conn9:2'])
    const cassette = buildCassette(proxy.snapshot(), { client: 'test', scenario: 'reconnect', transport: 'streamable-http', recordedWith: 'proxy' })
    const [first, second] = cassette.interactions
    expect(second!.request.headers['last-event-id']).toBe(first!.response!.sse![0]!.id)
    expect(second!.response!.sse![0]!.id).toBe('<event-2>')
  })

  test('a recorded reconnect replays with the live event id in Last-Event-ID', async () => {
    // Each stream gets a random connection id, like McpAgent's `<connection>:<seq>` ids.
    const target = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const resumed = req.headers['last-event-id']
      if (typeof resumed === 'string' && /^c[0-9a-f]{8}:1$/.test(resumed)) res.end(`id: ${resumed.split(':')[0]}:2\ndata: {"resumed":true}\n\n`)
      else if (resumed) res.end('data: {"resumed":false}\n\n')
      else res.end(`id: c${randomBytes(4).toString('hex')}:1\ndata: {"first":true}\n\n`)
    })
    const proxy = await proxyTo(target)
    const ids: (string | undefined)[] = []
    await readSse(await fetch(new URL('/mcp', proxy.url)), (_d, id) => ids.push(id))
    await readSse(await fetch(new URL('/mcp', proxy.url), { headers: { 'last-event-id': ids[0]! } }), (_d, id) => ids.push(id))
    const cassette = buildCassette(proxy.snapshot(), { client: 'test', scenario: 'reconnect', transport: 'streamable-http', recordedWith: 'proxy' })
    expect(cassette.interactions[1]!.response!.sse![0]!.data).toEqual({ resumed: true })
    const result = await replay(cassette, { target })
    expect(result.ok).toBe(true)
  })

  test('preserves paths and query strings, and tells the server when the client hangs up', async () => {
    let serverSawClose!: () => void
    const closed = new Promise<void>((resolve) => (serverSawClose = resolve))
    const target = await upstream((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/sse')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('event: endpoint\ndata: /sse/message?sessionId=0123456789abcdef0123456789abcdef\n\n')
        res.on('close', () => serverSawClose())
        return
      }
      res.writeHead(202).end(req.url)
    })
    const proxy = await proxyTo(target)
    const abort = new AbortController()
    const stream = await fetch(new URL('/sse', proxy.url), { signal: abort.signal })
    const reader = stream.body!.getReader()
    await reader.read()
    const post = await fetch(new URL('/sse/message?sessionId=0123456789abcdef0123456789abcdef', proxy.url), { method: 'POST', body: '{}' })
    expect(await post.text()).toBe('/sse/message?sessionId=0123456789abcdef0123456789abcdef')
    abort.abort()
    await closed
    await new Promise((resolve) => setTimeout(resolve, 20))
    const cassette = buildCassette(proxy.snapshot(), { client: 'test', scenario: 'paths', transport: 'sse', recordedWith: 'proxy' })
    expect(cassette.interactions[0]!.response!.end.reason).toBe('client-aborted')
    expect(cassette.interactions[0]!.response!.sse![0]!.dataText).toBe('/sse/message?sessionId=<session-1>')
    expect(cassette.interactions[1]!.request).toMatchObject({ path: '/sse/message', query: { sessionId: '<session-1>' } })
  })

  test('ends the session on DELETE and on idle', async () => {
    const target = await upstream((_req, res) => res.writeHead(204).end())
    const ends: string[] = []
    const proxy = await proxyTo(target, { idleMs: 30, onSessionEnd: (reason) => ends.push(reason) })
    await fetch(new URL('/mcp', proxy.url), { method: 'DELETE' })
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(ends).toEqual(['delete', 'idle'])
  })
})
