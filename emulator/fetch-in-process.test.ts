// Issue 11 item 3: emulator.fetch runs the front door's logic in-process (no loopback HTTP hop
// through its socket); a client of the socket and a caller of emulator.fetch must not tell them apart.
import http from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from './index.ts'
import type { TranscriptEvent } from '../core/transcript.ts'
import { REFERENCE_CONFIG } from '../scenarios/helpers/use-emulator.ts'
import { ACCEPT_BOTH, initializeRequest } from '../scenarios/helpers/raw.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG, workerLog: 'silent' })
})
afterAll(() => emulator?.dispose())

/** Headers that describe the connection or the moment, not the answer. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date'])
/** Headers that name the session the answer opened: each path opens its own. */
const PER_SESSION = new Set(['mcp-session-id'])

async function answer(response: Response) {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (!CONNECTION_HEADERS.has(name)) headers[name] = PER_SESSION.has(name) ? '<session>' : value
  })
  expect(response.headers.get('date')).toBeTruthy()
  return { status: response.status, statusText: response.statusText, headers, body: streamIds(await response.text()) }
}

/** SSE event ids name the session's stream: each path opens its own. */
const streamIds = (text: string) => text.replace(/[\w-]{21}:(\d{16})/g, '<stream>:$1')

/** The client-layer events of one exchange, without what differs by nature (sequence, time, exchange number, session ids). */
function exchangeEvents(exchange: number): Record<string, unknown>[] {
  return emulator.transcript.events
    .filter((event) => event.layer === 'client' && event.exchange === exchange)
    .map(({ seq: _seq, t: _t, exchange: _exchange, ...rest }: TranscriptEvent) => {
      const headers = rest.headers as Record<string, string> | undefined
      const event = headers?.['mcp-session-id'] ? { ...rest, headers: { ...headers, 'mcp-session-id': '<session>' } } : rest
      return JSON.parse(streamIds(JSON.stringify(event))) as Record<string, unknown>
    })
}

/** Sends the same request both ways and returns both answers and both exchanges' transcript events. */
async function both(path: string, init: RequestInit = {}) {
  const before = emulator.transcript.nextExchange()
  const overSocket = await answer(await fetch(new URL(path, emulator.url), init))
  const middle = emulator.transcript.nextExchange()
  const inProcess = await answer(await emulator.fetch(path, init))
  await emulator.settled()
  return { overSocket, inProcess, socketEvents: exchangeEvents(before + 1), inProcessEvents: exchangeEvents(middle + 1) }
}

test('a plain GET answers and records the same through emulator.fetch as over the socket', async () => {
  const { overSocket, inProcess, socketEvents, inProcessEvents } = await both('/health?x=1', { headers: { 'x-custom': 'kept', 'X-MCP-Harness-Hop-Flush': 'forged' } })
  expect(inProcess).toEqual(overSocket)
  expect(overSocket.status).toBe(200)
  expect(inProcessEvents).toEqual(socketEvents)
  expect(socketEvents.map((event) => event.type)).toEqual(['request', 'response', 'body', 'end'])
  // The harness-internal header never reaches the Worker, either way.
  expect(JSON.stringify(inProcessEvents)).not.toContain('x-mcp-harness')
})

test('an initialize answered as an SSE stream is the same, event by event, through emulator.fetch', async () => {
  const init = { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH }, body: JSON.stringify(initializeRequest(1)) }
  const { overSocket, inProcess, socketEvents, inProcessEvents } = await both('/mcp', init)
  expect(overSocket.headers['content-type']).toContain('text/event-stream')
  expect(inProcess).toEqual(overSocket)
  expect(inProcessEvents).toEqual(socketEvents)
  expect(socketEvents.filter((event) => event.type === 'sse')).toHaveLength(1)
})

test('a refused method (TRACE, CONNECT) gets the same 405 with Allow through emulator.fetch as over the socket; TRACK the policy\'s 405', async () => {
  // Over the socket Node's HTTP parser rejects TRACK before the front door's policy runs (400,
  // HPE_INVALID_METHOD); in-process the policy answers it, as Cloudflare does, with 405.
  const track = await emulator.fetch('/mcp', { method: 'TRACK' })
  expect(track.status).toBe(405)
  expect(track.headers.get('allow')).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS')
  expect(await track.text()).toContain('TRACK cannot reach a Worker')
  for (const method of ['TRACE', 'CONNECT']) {
    const socket = await new Promise<{ status: number; allow: string | undefined; type: string | undefined; body: string }>((resolve, reject) => {
      const request = http.request(new URL('/mcp', emulator.url), { method, ...(method === 'CONNECT' ? { path: '/mcp' } : {}) }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, type: res.headers['content-type'], body }))
      })
      request.on('connect', (res, socket) => {
        // Node hands a CONNECT answer over as a tunnel: read the refusal from the socket.
        let body = ''
        socket.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        socket.on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, type: res.headers['content-type'], body: body || '' }))
      })
      request.on('error', reject)
      request.end()
    })
    const direct = await emulator.fetch('/mcp', { method })
    expect(direct.status).toBe(socket.status)
    expect(direct.status).toBe(405)
    expect(direct.headers.get('allow')).toBe(socket.allow)
    expect(direct.headers.get('content-type')).toBe('text/plain')
    const text = await direct.text()
    expect(text).toContain(`${method} cannot reach a Worker`)
    if (method !== 'CONNECT') expect(text).toBe(socket.body)
    const refused = emulator.transcript.filter({ layer: 'client', type: 'refused' }).slice(-2)
    expect(refused[1]).toMatchObject({ method, target: '/mcp', reason: refused[0]!.reason })
  }
})

test('a Request object and a body that is no string (the path through a Fetch Request) answer and record the same as over the socket', async () => {
  const make = () => new Request(new URL('/mcp', emulator.url), { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH }, body: new TextEncoder().encode(JSON.stringify(initializeRequest(2))) })
  const before = emulator.transcript.nextExchange()
  const overSocket = await answer(await fetch(make()))
  const middle = emulator.transcript.nextExchange()
  const inProcess = await answer(await emulator.fetch(make()))
  expect(inProcess).toEqual(overSocket)
  expect(exchangeEvents(middle + 1)).toEqual(exchangeEvents(before + 1))
})
