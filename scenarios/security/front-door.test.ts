// Nothing behind the front door (issue 11 item 1, DESIGN "Nothing behind the front door"): a client
// of the Worker port reaches the user's Worker and nothing else. Each attack vector goes out over a
// raw node:http request (absolute-form targets, Host and internal header names that fetch() would
// not send), over plain HTTP and over a WebSocket upgrade. Before the fix, `MF-Route-Override:
// mcp-harness-control` on GET /crash answered "aborted" and every session's instance state was gone.
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient, type ScriptedClient } from '../helpers/clients.ts'
import { openRawSession } from '../helpers/raw.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

const ECHO_CONFIG = 'scenarios/fixtures/header-echo/wrangler.jsonc'
const CONTROL = 'mcp-harness-control'
const CONTROL_HOST = 'mcp-harness-control.invalid'

interface RawAnswer {
  status: number
  body: string
  upgraded: boolean
}

/** One request exactly as written: `target` goes on the request line as is, headers as given (Host too). */
function send(base: URL, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: base.hostname, port: base.port, method, path: target, headers: { connection: 'close', ...headers }, setHost: !('host' in headers) })
    request.on('response', (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, upgraded: false }))
    })
    request.on('upgrade', (response, socket) => {
      socket.destroy()
      resolve({ status: response.statusCode ?? 0, body: '', upgraded: true })
    })
    request.on('error', reject)
    request.end()
  })
}

/** The same, as a WebSocket upgrade request. */
function upgrade(base: URL, target: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return send(base, target, { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers })
}

/**
 * Bytes written on a raw TCP connection, exactly as given; `halfClose` shuts the write side right after
 * (or once the answer starts, with `'after-headers'`). Resolves with everything received until close.
 */
function rawExchange(base: URL, bytes: string, halfClose: false | 'after-request' | 'after-headers' = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(base.port), base.hostname, () => {
      socket.write(bytes)
      if (halfClose === 'after-request') socket.end()
    })
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      received += chunk
      if (halfClose === 'after-headers' && received.includes('\r\n\r\n') && socket.writable) socket.end()
    })
    socket.on('close', () => resolve(received))
    socket.on('error', reject)
  })
}

/** What only an internal Worker answers: the control Worker's "aborted"/"evicted", Miniflare's proxy errors. */
function expectNothingInternal(answer: RawAnswer): void {
  expect(answer.body).not.toMatch(/^(aborted|evicted)$/)
  expect(answer.body).not.toMatch(/still has active references|Invalid proxy request|No entrypoint worker found|Disallowed header/)
}

describe('the reference server behind the front door', () => {
  let emulator: Emulator
  let streamable: ScriptedClient
  let sse: ScriptedClient
  let memo = { streamable: 0, sse: 0 }

  beforeAll(async () => {
    emulator = await createEmulator({ config: REFERENCE_CONFIG, workerLog: 'silent' })
    streamable = await connectClient(emulator.url, { transport: 'streamable-http' })
    sse = await connectClient(emulator.url, { transport: 'sse' })
    memo = { streamable: Number(await streamable.text('memo')), sse: Number(await sse.text('memo')) }
  })
  afterAll(async () => {
    await streamable?.close()
    await sse?.close()
    await emulator?.dispose()
  })

  /** After each attack both sessions keep their instance state: memo keeps counting, no crash or eviction happened. */
  async function expectSessionsSurvive(): Promise<void> {
    expect(await streamable.text('memo')).toBe(String(++memo.streamable))
    expect(await sse.text('memo')).toBe(String(++memo.sse))
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'crashed' })).toEqual([])
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'evicted' })).toEqual([])
  }

  const objectName = () => streamable.objectName()
  const vectors: [string, () => [string, Record<string, string>]][] = [
    ['the internal route header MF-Route-Override', () => ['/crash', { 'MF-Route-Override': CONTROL }]],
    ['MF-Route-Override to evict one session', () => [`/evict?name=${encodeURIComponent(objectName())}`, { 'mf-route-override': CONTROL }]],
    ['MF-Route-Override to the hop tap Worker', () => ['/events', { 'MF-Route-Override': 'mcp-harness-hop-tap-mcp-object' }]],
    ['MF-Original-URL naming the control host', () => ['/health', { 'MF-Original-URL': `http://${CONTROL_HOST}/crash` }]],
    ['an internal Host', () => ['/crash', { host: CONTROL_HOST }]],
    ['an internal Host with MF-Route-Override', () => ['/crash', { host: CONTROL_HOST, 'MF-Route-Override': CONTROL }]],
  ]

  for (const [name, vector] of vectors) {
    test(`${name} reaches the Worker only, and every session survives (plain HTTP)`, async () => {
      const [target, headers] = vector()
      const answer = await send(emulator.url, target, headers)
      expectNothingInternal(answer)
      await expectSessionsSurvive()
    })

    test(`${name} reaches the Worker only, and every session survives (WebSocket upgrade)`, async () => {
      const [target, headers] = vector()
      const answer = await upgrade(emulator.url, target, headers)
      expect(answer.upgraded).toBe(false)
      expectNothingInternal(answer)
      await expectSessionsSurvive()
    })
  }

  for (const target of [`http://${CONTROL_HOST}/crash`, `http://${CONTROL_HOST}/evict?name=x`, `//${CONTROL_HOST}/crash`, '*']) {
    test(`the request target ${JSON.stringify(target)} is refused with 400 and a clear message (plain HTTP and upgrade)`, async () => {
      for (const answer of [await send(emulator.url, target, {}, target === '*' ? 'OPTIONS' : 'GET'), await upgrade(emulator.url, target)]) {
        expect(answer.status).toBe(400)
        expect(answer.body).toContain('origin-form request targets only')
      }
      expect(emulator.transcript.filter({ layer: 'client', type: 'refused', target }).length).toBeGreaterThanOrEqual(2)
      await expectSessionsSurvive()
    })
  }

  test("Miniflare's own endpoints (/cdn-cgi/mf/…, /cdn-cgi/platform-proxy, /cdn-cgi/handler/…) are not served", async () => {
    for (const target of ['/cdn-cgi/mf/scheduled', '/cdn-cgi/handler/scheduled', '/cdn-cgi/platform-proxy', '/x/../cdn-cgi/mf/reload']) {
      const answer = await send(emulator.url, target, { 'MF-Op': 'GET' })
      expect(answer.status).toBe(404)
      expect(answer.body).toContain('Miniflare-internal endpoint')
    }
    await expectSessionsSurvive()
  })

  // Issue 11 item 1 (leftovers): what production's edge does with methods no Worker can receive.
  test('TRACE and CONNECT are refused with 405, an Allow header and a message, never a 502, and every session survives', async () => {
    const trace = await rawExchange(emulator.url, 'TRACE /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    const connect = await rawExchange(emulator.url, `CONNECT ${CONTROL_HOST}:443 HTTP/1.1\r\nHost: ${CONTROL_HOST}:443\r\n\r\n`)
    for (const answer of [trace, connect]) {
      expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/)
      expect(answer.toLowerCase()).toContain('allow: get, head, post, put, patch, delete, options')
      expect(answer).toMatch(/cannot reach a Worker/)
      expectNothingInternal({ status: 405, body: answer, upgraded: false })
    }
    expect(emulator.transcript.filter({ layer: 'client', type: 'refused', method: 'TRACE' })).toHaveLength(1)
    expect(emulator.transcript.filter({ layer: 'client', type: 'refused', method: 'CONNECT' })).toHaveLength(1)
    await expectSessionsSurvive()
  })

  const malformed: [string, string, number, RegExp][] = [
    ['a request line that is not HTTP', 'HELLO\r\n\r\n', 400, /does not start with an HTTP method/],
    ['an unknown method (TRACK)', 'TRACK / HTTP/1.1\r\nHost: x\r\n\r\n', 400, /does not start with an HTTP method/],
    ['a header name with a space', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400, /header section is malformed/],
    ['Content-Length with Transfer-Encoding (request smuggling)', 'POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, /framing is ambiguous/],
    ['a malformed chunk size', 'POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, /chunked body is malformed/],
    ['a 20 kB header', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /larger than the front door accepts/],
  ]
  for (const [name, bytes, status, why] of malformed) {
    test(`malformed HTTP framing (${name}) gets ${status} with a message, is recorded, and crashes nothing`, async () => {
      const before = emulator.transcript.filter({ layer: 'client', type: 'refused' }).length
      const answer = await rawExchange(emulator.url, bytes)
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
      expect(answer).toMatch(why)
      expect(answer).toContain('[mcp-harness] Failed to read the request')
      const refused = emulator.transcript.filter({ layer: 'client', type: 'refused' }).slice(before)
      expect(refused).toMatchObject([{ status, reason: expect.stringMatching(why) }])
      // The bytes sent are never echoed or recorded (they may carry credentials).
      expect(JSON.stringify(refused)).not.toContain('aaaaaaaaaa')
      await expectSessionsSurvive()
    })
  }

  test('a client that half-closes after its request still gets the response (GET and an MCP POST)', async () => {
    const health = await rawExchange(emulator.url, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 'after-request')
    expect(health).toMatch(/^HTTP\/1\.1 200 /)
    expect(health).toContain('"transports"')
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'half-closed', version: '0' } } })
    const init = await rawExchange(emulator.url, `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 'after-request')
    expect(init).toMatch(/^HTTP\/1\.1 200 /)
    expect(init).toContain('"serverInfo"')
    const exchange = emulator.transcript.events.filter((event) => event.layer === 'client' && event.type === 'request' && event.path === '/mcp' && (event.body as { params?: { clientInfo?: { name?: string } } })?.params?.clientInfo?.name === 'half-closed').at(-1)?.exchange
    expect(await emulator.transcript.waitFor((event) => event.layer === 'client' && event.type === 'end' && event.exchange === exchange, 5_000)).toMatchObject({ reason: 'complete' })
    await expectSessionsSurvive()
  })

  test('a client that ends its side while a stream is flowing has gone: its stream is cancelled as when the connection drops', async () => {
    await rawExchange(emulator.url, 'GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n', 'after-headers')
    const request = emulator.transcript.events.filter((event) => event.layer === 'client' && event.type === 'request' && event.path === '/sse').at(-1)
    expect(await emulator.transcript.waitFor((event) => event.layer === 'client' && event.type === 'end' && event.exchange === request?.exchange, 5_000)).toMatchObject({ reason: 'client-aborted' })
    await expectSessionsSurvive()
  })

  test('issue 12 item 6: an empty mcp-protocol-version reaches the Worker and is refused with 400, as under wrangler dev', async () => {
    const session = await openRawSession(emulator.url)
    const reply = await session.post({ jsonrpc: '2.0', id: 7, method: 'tools/list' }, { headers: { 'mcp-protocol-version': '' } })
    expect(reply.status).toBe(400)
    expect(reply.text).toMatch(/protocol version/i)
    // The same request with the negotiated version is answered: the empty value is what was refused.
    expect((await session.post({ jsonrpc: '2.0', id: 8, method: 'tools/list' })).status).toBe(200)
  })
})

describe('what a Worker receives through the front door', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: ECHO_CONFIG, workerLog: 'silent' })
  })
  afterAll(() => emulator?.dispose())

  const attack = {
    host: CONTROL_HOST,
    'MF-Route-Override': CONTROL,
    'MF-Original-URL': `http://${CONTROL_HOST}/crash`,
    'MF-CF-Blob': '{"country":"XX"}',
    'mf-disable-pretty-error': 'true',
    'X-MCP-Harness-Hop': 'e=1;g=0;f=1',
    // The hop tap's pull: only Node may ask the tap for its reports (and it never comes through here).
    'X-MCP-Harness-Hop-Flush': 'forged-token',
    'x-mcp-harness-io': '{"exchange":1}',
    'CF-Connecting-IP': '203.0.113.9',
    'cf-ipcountry': 'XX',
    'cf-ray': 'forged',
    'cf-visitor': '{"scheme":"https"}',
    'mcp-protocol-version': '',
    'cf-access-jwt-assertion': 'kept-because-a-client-can-send-it',
    'x-custom': 'kept',
  }

  const expectFiltered = (seen: { url: string; headers: Record<string, string> }) => {
    expect(new URL(seen.url).origin).toBe(emulator.url.origin)
    expect(seen.headers.host).toBe(emulator.url.host)
    expect(Object.keys(seen.headers).filter((name) => name.startsWith('mf-') || name.startsWith('x-mcp-harness-'))).toEqual([])
    // Miniflare sets CF-Connecting-IP from the connection, as Cloudflare does; the client's is gone.
    expect(seen.headers['cf-connecting-ip']).not.toBe('203.0.113.9')
    for (const name of ['cf-ipcountry', 'cf-ray', 'cf-visitor']) expect(seen.headers[name]).toBeUndefined()
    expect(seen.headers['mcp-protocol-version']).toBe('')
    expect(seen.headers['cf-access-jwt-assertion']).toBe('kept-because-a-client-can-send-it')
    expect(seen.headers['x-custom']).toBe('kept')
  }

  test('internal, Cloudflare-set and Host headers never arrive; empty values and ordinary headers do (plain HTTP)', async () => {
    const answer = await send(emulator.url, '/seen?x=1', attack)
    expect(answer.status).toBe(200)
    const seen = JSON.parse(answer.body) as { url: string; headers: Record<string, string> }
    expect(new URL(seen.url).pathname + new URL(seen.url).search).toBe('/seen?x=1')
    expectFiltered(seen)
  })

  test('the same holds for a WebSocket upgrade, and its messages pass both ways', async () => {
    const { host: _host, ...headers } = attack
    const socket = new WebSocket(new URL('/ws', emulator.url.href.replace('http', 'ws')), { headers: { ...headers, host: CONTROL_HOST } })
    const messages: string[] = []
    const first = new Promise<string>((resolve, reject) => {
      socket.on('message', (data) => {
        messages.push(data.toString())
        if (messages.length === 1) resolve(data.toString())
        if (messages.length === 2) socket.close(1000)
      })
      socket.on('error', reject)
    })
    expectFiltered(JSON.parse(await first) as { url: string; headers: Record<string, string> })
    socket.send('hello')
    await new Promise((resolve) => socket.on('close', resolve))
    expect(messages[1]).toBe('echo: hello')
  })
})
