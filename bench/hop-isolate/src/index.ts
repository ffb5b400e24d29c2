/**
 * The reference server, plus one route for `bench/hop-isolate.bench.ts`. `GET /__hop-isolate?kind=…
 * &shape=…&calls=…` makes `calls` MCP `tools/call add` requests to the server's own `fetch`, inside
 * this isolate, and answers how long they took. Kind `tap` passes the env the harness hands this
 * Worker (its Durable Object namespace observed by the hop tap); kinds `bare` and `bare2` pass the
 * runtime's own env (`cloudflare:workers`), which the tap never touched. So the figure holds only
 * what the tap adds inside workerd: no front door, no Node client, no process placement.
 */
import { env as runtimeEnv } from 'cloudflare:workers'
import server, { type Env } from '../../../server/src/index'

export { ReferenceMcp } from '../../../server/src/index'

const ROUTE = '/__hop-isolate'
/** The front door's stamp (which exchange, whether faults are armed): the tap reads it off each request it sees. */
const STAMP = 'x-mcp-harness-hop'
const KINDS = ['tap', 'bare', 'bare2'] as const
const SHAPES = { sh: 1, sh32: 32, sse: 1, sse32: 32 } as const
type Kind = (typeof KINDS)[number]
type Shape = keyof typeof SHAPES
const BASE = 'http://hop-isolate.invalid'
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
const PROTOCOL = '2025-06-18'
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'hop-isolate', version: '1' } } }
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' }

/** Streamable HTTP session ids by kind: ids outlive a request (SSE streams do not, so SSE opens one per block). */
const sessions = new Map<Kind, string>()
let nextId = 1

const addCall = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a: id, b: 1 } } })
const expectSum = (id: number, text: string) => {
  if (!text.includes(`"text":"${id + 1}"`)) throw new Error(`add(${id}, 1) answered ${text.slice(0, 200)}`)
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url)
    if (url.pathname !== ROUTE) return server.fetch(request, env, ctx)
    const kind = url.searchParams.get('kind') as Kind
    const shape = url.searchParams.get('shape') as Shape
    const calls = Number(url.searchParams.get('calls'))
    if (!KINDS.includes(kind) || !(shape in SHAPES) || !(calls > 0)) {
      return Response.json({ error: `kind (${KINDS.join('|')}), shape (${Object.keys(SHAPES).join('|')}) and calls > 0 are required` }, { status: 400 })
    }
    // The tapped env came in with this request; the bare one is the runtime's, minus the tap's own binding.
    const { MCP_HARNESS_HOP: _hop, ...untapped } = runtimeEnv as Env & { MCP_HARNESS_HOP?: unknown }
    const callEnv = kind === 'tap' ? env : (untapped as Env)
    const stamp = request.headers.get(STAMP)
    const headers = (extra: Record<string, string> = {}) => ({ ...JSON_HEADERS, ...(kind === 'tap' && stamp ? { [STAMP]: stamp } : {}), ...extra })
    const call = (path: string, init: RequestInit) => server.fetch(new Request(`${BASE}${path}`, init), callEnv, ctx)
    const concurrency = SHAPES[shape]
    const one = shape.startsWith('sse') ? await sseSession(call, headers) : await streamableSession(kind, call, headers)
    try {
      // Warm: the session's object, the tap's state and the JIT, outside the timed calls.
      for (let i = 0; i < 4; i++) await one(nextId++)
      const started = Date.now()
      for (let done = 0; done < calls; done += concurrency) {
        await Promise.all(Array.from({ length: Math.min(concurrency, calls - done) }, () => one(nextId++)))
      }
      // workerd's clock moves with I/O; every call ends with some, so the block's end time is exact to the millisecond.
      return Response.json({ ms: Date.now() - started, calls })
    } finally {
      await one.close?.()
    }
  },
} satisfies ExportedHandler<Env>

type Call = (path: string, init: RequestInit) => Response | Promise<Response>
type HeadersFor = (extra?: Record<string, string>) => Record<string, string>
type OneCall = ((id: number) => Promise<void>) & { close?: () => Promise<void> }

async function streamableSession(kind: Kind, call: Call, headers: HeadersFor): Promise<OneCall> {
  let session = sessions.get(kind)
  if (!session) {
    const init = await call('/mcp', { method: 'POST', headers: headers(), body: JSON.stringify(INITIALIZE) })
    session = init.headers.get('mcp-session-id') ?? ''
    await init.text()
    if (!session) throw new Error(`initialize answered ${init.status} without a session id`)
    const sessionHeaders = { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL }
    await (await call('/mcp', { method: 'POST', headers: headers(sessionHeaders), body: JSON.stringify(INITIALIZED) })).text()
    sessions.set(kind, session)
  }
  const sessionHeaders = { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL }
  return async (id) => {
    const response = await call('/mcp', { method: 'POST', headers: headers(sessionHeaders), body: JSON.stringify(addCall(id)) })
    expectSum(id, await response.text())
  }
}

/** A legacy SSE session: its stream, read for `endpoint` and each answer, lives as long as this request. */
async function sseSession(call: Call, headers: HeadersFor): Promise<OneCall> {
  const stream = await call('/sse', { method: 'GET', headers: headers({ accept: 'text/event-stream' }) })
  if (!stream.body) throw new Error(`GET /sse answered ${stream.status} without a stream`)
  const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader()
  const waiting = new Map<number, (text: string) => void>()
  let endpoint: ((path: string) => void) | undefined
  const endpointPath = new Promise<string>((resolve) => (endpoint = resolve))
  const pump = (async () => {
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const type = /^event: ?(.*)$/m.exec(event)?.[1] ?? 'message'
        const data = [...event.matchAll(/^data: ?(.*)$/gm)].map((match) => match[1]).join('\n')
        if (type === 'endpoint') endpoint?.(data)
        else if (type === 'message') {
          const id = (JSON.parse(data) as { id?: number }).id
          if (id !== undefined) waiting.get(id)?.(data)
        }
      }
    }
  })()
  const path = await endpointPath
  const send = async (message: object, id?: number) => {
    const answered = id === undefined ? undefined : new Promise<string>((resolve) => waiting.set(id, resolve))
    const response = await call(path, { method: 'POST', headers: headers(), body: JSON.stringify(message) })
    await response.text()
    if (response.status >= 300) throw new Error(`POST ${path} answered ${response.status}`)
    if (!answered) return ''
    const text = await answered
    waiting.delete(id!)
    return text
  }
  await send(INITIALIZE, 0)
  await send(INITIALIZED)
  const one: OneCall = async (id) => expectSum(id, await send(addCall(id), id))
  one.close = async () => {
    await reader.cancel().catch(() => {})
    await pump.catch(() => {})
  }
  return one
}
