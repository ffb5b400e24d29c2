import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { createParser } from 'eventsource-parser'
import { WebSocket, WebSocketServer } from 'ws'
import { detectTransport } from '../format/transport.ts'
import { loadCassette } from '../persist/fs.ts'
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

  test('rewrites redirects, the OAuth challenge and OAuth metadata to pass back through the proxy, and the client\'s URLs back to the target', async () => {
    let seenResource = ''
    let seenForm = ''
    const target = await upstream((req, res) => {
      const origin = `http://${req.headers.host}`
      const url = new URL(req.url ?? '/', origin)
      if (url.pathname === '/mcp') return void res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` }).end()
      if (url.pathname === '/.well-known/oauth-protected-resource/mcp') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource: `${origin}/mcp`, authorization_servers: [origin] }))
      if (url.pathname === '/authorize') {
        seenResource = url.searchParams.get('resource') ?? ''
        return void res.writeHead(302, { location: `${origin}/consent?next=${encodeURIComponent(`${origin}/callback`)}` }).end()
      }
      let body = ''
      req.on('data', (c: Buffer) => (body += c))
      req.on('end', () => {
        seenForm = body
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      })
    })
    const proxy = await proxyTo(target)
    const here = proxy.url.origin
    const challenge = await fetch(new URL('/mcp', proxy.url), { method: 'POST' })
    expect(challenge.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${here}/.well-known/oauth-protected-resource/mcp"`)
    expect(await (await fetch(`${here}/.well-known/oauth-protected-resource/mcp`)).json()).toEqual({ resource: `${here}/mcp`, authorization_servers: [here] })
    const redirect = await fetch(`${here}/authorize?resource=${encodeURIComponent(`${here}/mcp`)}`, { redirect: 'manual' })
    expect(redirect.headers.get('location')).toBe(`${here}/consent?next=${encodeURIComponent(`${here}/callback`)}`)
    expect(seenResource).toBe(`${target.origin}/mcp`)
    await fetch(`${here}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `resource=${encodeURIComponent(`${here}/mcp`)}` })
    expect(seenForm).toBe(`resource=${encodeURIComponent(`${target.origin}/mcp`)}`)
    // The cassette names neither origin: the server's is a placeholder a replay or a mock fills in.
    const cassette = buildCassette(proxy.snapshot(), { client: 'test', scenario: 'oauth', transport: 'other', recordedWith: 'proxy' })
    const text = JSON.stringify(cassette)
    expect(text).not.toContain(target.origin)
    expect(text).not.toContain(here)
    expect(cassette.interactions[1]!.response!.body).toEqual({ resource: '<origin>/mcp', authorization_servers: ['<origin>'] })
  })

  test('proxies a WebSocket upgrade and records every frame of both directions', async () => {
    const server = http.createServer()
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(JSON.stringify({ echo: JSON.parse(String(data)) }))))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    cleanup.push(() => new Promise((resolve) => (wss.close(), server.closeAllConnections(), server.close(() => resolve()))))
    const proxy = await proxyTo(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
    const client = new WebSocket(new URL('/ws', proxy.url).href.replace('http', 'ws'))
    await new Promise((resolve) => client.once('open', resolve))
    const replies: string[] = []
    for (const n of [1, 2]) {
      client.send(JSON.stringify({ n }))
      replies.push(String(await new Promise((resolve) => client.once('message', resolve))))
    }
    client.close(1000, 'done')
    await new Promise((resolve) => client.once('close', resolve))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(replies).toEqual(['{"echo":{"n":1}}', '{"echo":{"n":2}}'])
    const cassette = buildCassette(proxy.snapshot(), { client: 'test', scenario: 'ws', transport: 'other', recordedWith: 'proxy' })
    const [upgrade] = cassette.interactions
    expect(upgrade!.response!.status).toBe(101)
    expect(upgrade!.response!.ws!.map((f) => [f.from, f.data ?? f.close])).toEqual([
      ['client', { n: 1 }],
      ['server', { echo: { n: 1 } }],
      ['client', { n: 2 }],
      ['server', { echo: { n: 2 } }],
      ['client', { code: 1000, reason: 'done' }],
      ['server', { code: 1000, reason: 'done' }],
    ])
    expect(detectTransport(cassette.interactions)).toBe('websocket')
  })

  test('holds the server back while the client does not read (backpressure), and loses nothing', async () => {
    const chunk = 'x'.repeat(64 * 1024)
    let written = 0
    let blocked = false
    const target = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const pump = () => {
        while (written < 400) {
          written++
          if (!res.write(chunk)) {
            blocked = true
            return void res.once('drain', pump)
          }
        }
        res.end()
      }
      pump()
    })
    const proxy = await proxyTo(target)
    const response = await fetch(new URL('/big', proxy.url))
    const reader = response.body!.getReader()
    await reader.read()
    await new Promise((resolve) => setTimeout(resolve, 200))
    // 400 × 64 KiB = 25 MiB: without backpressure the server would have written it all by now.
    expect(blocked).toBe(true)
    expect(written).toBeLessThan(400)
    let total = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
    }
    expect(total).toBeGreaterThan(0)
    expect(written).toBe(400)
  })
})

describe('transport detection', () => {
  test('names streamable-http, sse and mixed from the committed cassettes', async () => {
    const streamable = await loadCassette('recordings/cassettes/sdk/streamable-http.json')
    const sse = await loadCassette('recordings/cassettes/sdk/sse.json')
    expect(detectTransport(streamable.interactions)).toBe('streamable-http')
    expect(detectTransport(sse.interactions)).toBe('sse')
    expect(detectTransport([...streamable.interactions, ...sse.interactions])).toBe('mixed')
    expect(detectTransport([])).toBe('other')
  })
})
