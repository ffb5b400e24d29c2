import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { createParser } from 'eventsource-parser'
import type { Agent } from 'undici'
import type { WebSocket as NodeWebSocket, WebSocketServer } from 'ws'
import { HarnessError } from '../../core/errors.ts'
import { leaveIdleConnectionsToClients } from '../../core/http-server.ts'
import { headersToRecord, type Transcript } from '../../core/transcript.ts'
import { answerMalformed, droppedBecause, forwardedHeaders, halfCloseCancels, refuseMethod, refuseTarget, type Refusal } from './front-policy.ts'

/** What a front middleware sees of one client request. */
export interface FrontContext {
  exchange: number
  /** The request method, as the Worker gets it. */
  readonly method: string
  /** The URL the Worker sees (the front door's origin and the client's path). */
  readonly url: string
  /** The headers the Worker gets; a middleware may set or delete some before the request goes on. */
  readonly headers: Headers
  /**
   * The request as a Fetch `Request`, built on first access (most requests never need one: building
   * it and its abort signal was the larger part of the front door's own cost). Its headers are
   * `headers` from then on.
   */
  readonly request: Request
  transcript: Transcript
  /** Cancels the exchange as the platform does: aborts the Worker's request and drops the client connection with no further bytes. */
  cancel(reason: string): void
}

/** One client request: the Fetch `Request` is made only when a middleware (or `dispatch`) asks for it. */
class FrontExchange implements FrontContext {
  readonly exchange: number
  readonly method: string
  readonly url: string
  readonly body: Uint8Array | undefined
  readonly transcript: Transcript
  readonly abort: AbortController
  /** Drops the client's connection (or errors the in-process caller's body) with no further bytes. */
  readonly #drop: () => void
  #headers: Headers
  #request?: Request
  constructor(exchange: number, method: string, url: string, headers: Headers, body: Uint8Array | undefined, transcript: Transcript, abort: AbortController, drop: () => void) {
    this.exchange = exchange
    this.method = method
    this.url = url
    this.#headers = headers
    this.body = body
    this.transcript = transcript
    this.abort = abort
    this.#drop = drop
  }

  get headers(): Headers {
    return this.#request ? this.#request.headers : this.#headers
  }

  get request(): Request {
    // redirect: 'manual': a Worker's 302 goes back to the client as is; following it here would fetch the Location from Node.
    this.#request ??= new Request(this.url, { method: this.method, headers: this.#headers, body: this.body as Uint8Array<ArrayBuffer> | undefined, signal: this.abort.signal, redirect: 'manual' })
    return this.#request
  }

  cancel(reason: string): void {
    this.abort.abort(reason)
    this.#drop()
  }
}

/**
 * A front middleware may answer a request itself (return a Response), or let it pass (return
 * undefined), and may rewrite the Worker's response on its way out.
 */
export interface FrontMiddleware {
  name: string
  onRequest?(ctx: FrontContext): Response | undefined | Promise<Response | undefined>
  onResponse?(ctx: FrontContext, response: Response): Response | Promise<Response>
}

export type Dispatch = (request: Request) => Promise<Response>

/** A request for `FrontServer#fetch`, as a caller in this process makes it. */
export interface FrontRequest {
  url: URL
  /** As the caller wrote it (normalized as Fetch normalizes): TRACE, TRACK and CONNECT are refused. */
  method: string
  /** The caller's headers; those Node's fetch adds when missing are added as it would. */
  headers: Headers
  body?: Uint8Array
  signal?: AbortSignal
  /** The caller's body was a stream: no Content-Length, as over the socket (chunked there). */
  streamed?: boolean
}

/** The signal of a request that cannot be aborted. */
const NEVER_ABORTED = new AbortController().signal

/** The Worker's end of a WebSocket, as Miniflare hands it out on a 101 response. */
interface WorkerSocket {
  accept(): void
  send(data: string | ArrayBuffer | Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'message', listener: (event: { data: string | ArrayBuffer }) => void): void
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void
}

/**
 * Where the front door sends what it accepted:
 * - `runtime`: straight to workerd's entry socket (the URL `Miniflare#ready` resolves to) over a
 *   keep-alive pool: headers exactly as the client sent them (empty values too), responses streamed;
 * - `dispatch`: through a dispatch function such as `Miniflare#dispatchFetch`, which opens a new
 *   connection per request and drops empty header values (kept for comparison in benchmarks).
 */
export type FrontUpstream = { kind: 'runtime'; url: () => URL } | { kind: 'dispatch'; dispatch: Dispatch }

export interface FrontOptions {
  host: string
  port: number
  transcript: Transcript
  upstream: FrontUpstream
  middlewares: () => FrontMiddleware[]
}

/** Response headers that describe the connection, not the answer. */
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'])
/** Bodies larger than this are recorded as their size only. */
const MAX_RECORDED_BODY = 1024 * 1024
/** Statuses whose responses have no body (Fetch standard "null body status"). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])
/** Miniflare's entry Worker answers 500 with this header (and the error as JSON) when asked not to render an error page. */
const ERROR_STACK_HEADER = 'mf-experimental-error-stack'
/** The Node stream behind a Response the front door built from the runtime's answer: read directly when no middleware replaced it. */
const NODE_BODIES = new WeakMap<Response, Readable>()

/** Parses a body for the transcript: JSON-RPC stays structured, other text stays text. */
function bodyForTranscript(text: string, contentType: string | null): { body?: unknown; bodyText?: string } {
  if (text.length === 0) return {}
  if (text.length > MAX_RECORDED_BODY) return { bodyText: `[${text.length} bytes not recorded]` }
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return { body: JSON.parse(text) }
    } catch {
      // Malformed JSON is recorded verbatim: it is often the point of the test.
    }
  }
  return { bodyText: text }
}

/** Records how a bridged WebSocket ended (who closed it, code, reason), once, whichever side closes first. */
function closeRecorder(transcript: Transcript, exchange: number): (by: string, code?: number, reason?: string) => void {
  let closed = false
  return (by, code, reason) => {
    if (closed) return
    closed = true
    transcript.record({ layer: 'client', type: 'ws-close', exchange, by, ...(code !== undefined ? { code } : {}), ...(reason ? { reason } : {}) })
    transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
  }
}

/**
 * The emulator's front door on 127.0.0.1: forwards each request to the Worker and records the client
 * layer of the transcript, streaming SSE through as it arrives (each event recorded separately).
 */
export class FrontServer {
  readonly #options: FrontOptions
  readonly #server: http.Server
  readonly #sockets = new Set<import('node:net').Socket>()
  /** The request each connection is answering now (HTTP/1.1 answers one at a time per connection). */
  readonly #answering = new WeakMap<import('node:net').Socket, { req: http.IncomingMessage; res: http.ServerResponse }>()
  /** The Worker's subprotocol choice for each upgrade, so the client is answered with the same one. */
  readonly #protocols = new WeakMap<http.IncomingMessage, string>()
  #webSockets?: WebSocketServer
  /**
   * Keep-alive connections to workerd's entry socket. workerd closes an idle connection after 5 s
   * (measured): reusing one near that moment fails a POST with "other side closed", so idle ones are
   * dropped here first.
   */
  #agent?: Agent
  #url?: URL

  constructor(options: FrontOptions) {
    this.#options = options
    this.#server = http.createServer((req, res) => {
      this.#answering.set(req.socket, { req, res })
      res.on('close', () => {
        if (this.#answering.get(req.socket)?.res === res) this.#answering.delete(req.socket)
      })
      this.#handle(req, res).catch((error) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' })
          res.end(`[mcp-harness] Failed to forward ${req.method} ${req.url}: ${(error as Error).message}`)
        } else {
          res.destroy(error as Error)
        }
      })
    })
    // MCP streams stay open for minutes; Node's defaults would cut them.
    this.#server.requestTimeout = 0
    this.#server.headersTimeout = 60_000
    leaveIdleConnectionsToClients(this.#server)
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
      // A client that half-closes keeps a complete request it still awaits (see halfCloseCancels).
      socket.on('end', () => {
        const current = this.#answering.get(socket)
        if (current && !current.res.writableFinished && halfCloseCancels({ requestComplete: current.req.complete, headersSent: current.res.headersSent })) current.res.destroy()
      })
    })
    // Node aborts every request of a half-closed connection unless this is set (no public option
    // exists; http.Server reads it when a client ends its side). The decision is halfCloseCancels'.
    ;(this.#server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
    // Requests Node cannot parse: a status and a sentence instead of Node's bare 400, and a record.
    this.#server.on('clientError', (error: NodeJS.ErrnoException & { reason?: string }, socket: import('node:net').Socket) => {
      const refusal = answerMalformed(error)
      if (!refusal || !socket.writable || this.#answering.get(socket)?.res.headersSent) return void socket.destroy()
      this.#options.transcript.record({ layer: 'client', type: 'refused', exchange: this.#options.transcript.nextExchange(), status: refusal.status, code: error.code, reason: refusal.message })
      this.#refuseRaw(socket, refusal)
    })
    // CONNECT (a proxy tunnel request) reaches no Worker: 405, as for TRACE.
    this.#server.on('connect', (req: http.IncomingMessage, socket: import('node:net').Socket) => {
      if (this.#refused(req, (status, message, headers) => this.#refuseRaw(socket, { status, message, headers: headers ?? {} }))) return
      socket.destroy()
    })
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer) => {
      this.#upgrade(req, socket, head).catch((error) => {
        socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n[mcp-harness] Failed to forward the WebSocket upgrade ${req.url}: ${(error as Error).message}`)
      })
    })
  }

  get url(): URL {
    if (!this.#url) throw new HarnessError('ERR_START', 'The emulator front is not listening yet.')
    return this.#url
  }

  async listen(): Promise<URL> {
    const { host, port } = this.#options
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.#server.off('listening', onListening)
        if (error.code === 'EADDRINUSE') {
          reject(new HarnessError('ERR_PORT_IN_USE', `Failed to listen on ${host}:${port}: the port is in use. Pass another --port, or omit it to take a free one.`))
        } else {
          reject(new HarnessError('ERR_START', `Failed to listen on ${host}:${port}: ${error.message}`, { cause: error }))
        }
      }
      const onListening = () => {
        this.#server.off('error', onError)
        resolve()
      }
      this.#server.once('error', onError)
      this.#server.once('listening', onListening)
      this.#server.listen(port, host)
    })
    const address = this.#server.address() as AddressInfo
    this.#url = new URL(`http://${host}:${address.port}`)
    return this.#url
  }

  async close(): Promise<void> {
    for (const client of this.#webSockets?.clients ?? []) client.terminate()
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    await this.#agent?.destroy().catch(() => {})
  }

  /**
   * Starts loading the HTTP client and the WebSocket library the front door forwards with (about a
   * fifth of a second of module loading), so that it happens while workerd boots, not before.
   */
  preload(): void {
    loadNetwork().catch(() => {}) // a failure surfaces on the first request
  }

  async #agentReady(): Promise<Agent> {
    const { Agent } = (await loadNetwork()).undici
    this.#agent ??= new Agent({ keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000, connections: 128 })
    return this.#agent
  }

  async #webSocketsReady(): Promise<{ server: WebSocketServer; WebSocket: typeof NodeWebSocket }> {
    const { ws } = await loadNetwork()
    this.#webSockets ??= new ws.WebSocketServer({ noServer: true, handleProtocols: (_offered, req) => this.#protocols.get(req) ?? false })
    return { server: this.#webSockets, WebSocket: ws.WebSocket }
  }

  /** Refuses a request target the front door does not serve (400, said plainly); true when refused. */
  #refused(req: http.IncomingMessage, answer: (status: number, text: string, headers?: Record<string, string>) => void): boolean {
    const refusal = this.#refusal(req.method ?? 'GET', req.url)
    if (refusal) answer(refusal.status, refusal.text, refusal.headers)
    return refusal !== undefined
  }

  /** The answer to a method or request target the front door does not serve (recorded as refused), or undefined. */
  #refusal(method: string, target: string | undefined): { status: number; text: string; headers?: Record<string, string> } | undefined {
    const refusedMethod = refuseMethod(method, target)
    const text = refusedMethod?.message ?? refuseTarget(method, target)
    if (!text) return undefined
    const { transcript } = this.#options
    transcript.record({ layer: 'client', type: 'refused', exchange: transcript.nextExchange(), method, target, reason: text })
    return { status: refusedMethod?.status ?? (text.includes('Miniflare-internal') ? 404 : 400), text, headers: refusedMethod?.headers }
  }

  /** Writes a refusal on a raw socket (no ServerResponse exists for it) and closes the connection. */
  #refuseRaw(socket: import('node:net').Socket, refusal: Refusal): void {
    const headers = { 'content-type': 'text/plain; charset=utf-8', ...refusal.headers, 'content-length': String(Buffer.byteLength(refusal.message)), connection: 'close' }
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.end(`HTTP/1.1 ${refusal.status} ${http.STATUS_CODES[refusal.status]}\r\n${head}\r\n${refusal.message}`)
  }

  /** The URL the Worker sees: the front door's own origin and the client's path (never a client-chosen host). */
  #workerUrl(req: http.IncomingMessage): URL {
    return new URL(`${this.url.origin}${req.url}`)
  }

  /**
   * Sends a request to workerd's entry socket as it came (see `FrontUpstream`): `Host` is the front
   * door's, so Miniflare's routing picks the user's Worker; `Accept-Encoding: identity` so the
   * transcript reads plain text (the Worker still sees what production sends, `br, gzip`).
   */
  async #forward(front: FrontExchange, target: URL): Promise<Response> {
    const { upstream } = this.#options
    if (upstream.kind === 'dispatch') return upstream.dispatch(front.request)
    const headers: string[] = []
    front.headers.forEach((value, name) => {
      if (name !== 'accept-encoding') headers.push(name, value)
    })
    headers.push('host', this.url.host, 'accept-encoding', 'identity', 'mf-disable-pretty-error', 'true')
    const { body } = front
    const agent = await this.#agentReady()
    const answer = await agent.request({
      origin: upstream.url().origin,
      path: `${target.pathname}${target.search}`,
      method: front.method,
      headers,
      body: body && body.length ? body : null,
      signal: front.abort.signal,
    })
    const responseHeaders = new Headers()
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined) continue
      for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item)
    }
    if (answer.statusCode === 500 && responseHeaders.has(ERROR_STACK_HEADER)) {
      // The Worker threw: the same failure dispatchFetch reports by throwing.
      const text = await answer.body.text()
      let message = text
      try {
        message = String((JSON.parse(text) as { message?: unknown }).message ?? text)
      } catch {
        // Not JSON: keep the text.
      }
      throw new Error(message)
    }
    if (NULL_BODY_STATUS.has(answer.statusCode) || front.method === 'HEAD') {
      answer.body.dump().catch(() => {})
      return new Response(null, { status: answer.statusCode, headers: responseHeaders })
    }
    const node = answer.body
    let iterator: AsyncIterator<Buffer> | undefined
    // A web stream that reads the Node stream only when something pulls it (a middleware that wraps
    // the body); the front door itself reads the Node stream directly.
    const web = new ReadableStream<Uint8Array>({
      async pull(controller) {
        iterator ??= node[Symbol.asyncIterator]()
        const next = await iterator.next()
        if (next.done) controller.close()
        else controller.enqueue(new Uint8Array(next.value))
      },
      cancel(reason) {
        node.destroy(reason instanceof Error ? reason : undefined)
      },
      // highWaterMark 0: nothing is pulled until a reader asks (the default would read ahead one chunk).
    }, { highWaterMark: 0 })
    const response = new Response(web, { status: answer.statusCode, headers: responseHeaders })
    NODE_BODIES.set(response, node)
    return response
  }

  /**
   * Bridges a WebSocket upgrade to the Worker: the Worker's socket (from Miniflare) is accepted here
   * and joined to the client's, each message and close recorded on the client layer.
   */
  async #upgrade(req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer): Promise<void> {
    const refuse = (status: number, text: string) =>
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`)
    if (this.#refused(req, refuse)) return
    if (this.#options.upstream.kind === 'runtime') return this.#upgradeDirect(req, socket, head, refuse)
    const { transcript } = this.#options
    const exchange = transcript.nextExchange()
    const url = this.#workerUrl(req)
    // The WebSocket handshake headers belong to this hop; Miniflare makes its own.
    const headers = forwardedHeaders(req, (name) => name.startsWith('sec-websocket-'))
    headers.set('upgrade', 'websocket')
    transcript.record({ layer: 'client', type: 'request', exchange, method: 'GET', path: url.pathname, query: url.search, headers: headersToRecord(headers), upgrade: 'websocket' })
    if (this.#options.upstream.kind !== 'dispatch') return
    const response = (await this.#options.upstream.dispatch(new Request(url, { headers }))) as Response & { webSocket?: WorkerSocket | null }
    transcript.record({ layer: 'client', type: 'response', exchange, status: response.status, headers: headersToRecord(response.headers) })
    const worker = response.webSocket
    if (response.status !== 101 || !worker) {
      const body = await response.text()
      socket.end(`HTTP/1.1 ${response.status} ${response.statusText || 'Error'}\r\ncontent-type: ${response.headers.get('content-type') ?? 'text/plain'}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
      transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
      return
    }
    const { server: webSockets } = await this.#webSocketsReady()
    worker.accept()
    webSockets.handleUpgrade(req, socket, head, (client: NodeWebSocket) => {
      const record = (direction: 'client->worker' | 'worker->client', data: unknown) =>
        transcript.record({ layer: 'client', type: 'ws-message', exchange, direction, ...(typeof data === 'string' ? parseData(data) : { bytes: (data as ArrayBuffer | Buffer).byteLength }) })
      client.on('message', (data, isBinary) => {
        const payload = isBinary ? new Uint8Array(data as Buffer) : data.toString()
        record('client->worker', payload)
        worker.send(payload)
      })
      worker.addEventListener('message', (event) => {
        record('worker->client', event.data)
        client.send(typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer))
      })
      const end = closeRecorder(transcript, exchange)
      client.on('close', (code, reason) => {
        end('client', code, reason.toString())
        // 1005/1006 are reported, never sent (RFC 6455 §7.4.1).
        if (code === 1005 || code === 1006) worker.close()
        else worker.close(code, reason.toString())
      })
      worker.addEventListener('close', (event) => {
        end('worker', event.code, event.reason)
        if (event.code === 1005 || event.code === 1006) client.terminate()
        else client.close(event.code, event.reason)
      })
    })
  }

  /**
   * Bridges a WebSocket upgrade straight to workerd's entry socket: a `ws` client there, the client's
   * socket here, joined message by message (each recorded on the client layer), with the subprotocol
   * the Worker chose.
   */
  async #upgradeDirect(req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer, refuse: (status: number, text: string) => void): Promise<void> {
    const { transcript, upstream } = this.#options
    if (upstream.kind !== 'runtime') return
    const { server: webSockets, WebSocket: NodeWebSocket } = await this.#webSocketsReady()
    const exchange = transcript.nextExchange()
    const url = this.#workerUrl(req)
    // The handshake headers belong to each hop; ws makes its own towards workerd.
    const headers = forwardedHeaders(req, (name) => name.startsWith('sec-websocket-'))
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)
    transcript.record({ layer: 'client', type: 'request', exchange, method: 'GET', path: url.pathname, query: url.search, headers: headersToRecord(headers), upgrade: 'websocket', ...(offered.length ? { protocols: offered } : {}) })
    const outHeaders: Record<string, string> = { 'mf-disable-pretty-error': 'true' }
    headers.forEach((value, name) => (outHeaders[name] = value))
    outHeaders.host = this.url.host
    const runtime = upstream.url()
    const worker = new NodeWebSocket(`ws://${runtime.host}${url.pathname}${url.search}`, offered, { headers: outHeaders, perMessageDeflate: false, followRedirects: false })
    socket.once('close', () => {
      if (worker.readyState === NodeWebSocket.CONNECTING) worker.terminate()
    })
    // A Worker may send right after accept(), before the client's side is joined: keep those messages
    // (and an early close) until it is, or they would be lost.
    const early: { data: Buffer | ArrayBuffer | Buffer[]; isBinary: boolean }[] = []
    let earlyClose: { code: number; reason: string } | undefined
    const keepMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => early.push({ data, isBinary })
    const keepClose = (code: number, reason: Buffer) => (earlyClose = { code, reason: reason.toString() })
    worker.on('message', keepMessage)
    worker.once('close', keepClose)
    const opened = await new Promise<boolean>((resolve, reject) => {
      worker.once('upgrade', (answer) => {
        transcript.record({ layer: 'client', type: 'response', exchange, status: 101, headers: headersToRecord(answer.headers) })
      })
      worker.once('open', () => resolve(true))
      worker.once('unexpected-response', (_request, answer) => {
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          transcript.record({ layer: 'client', type: 'response', exchange, status: answer.statusCode ?? 502, headers: headersToRecord(answer.headers) })
          socket.end(`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage || 'Error'}\r\ncontent-type: ${answer.headers['content-type'] ?? 'text/plain'}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
          transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
          resolve(false)
        })
      })
      worker.once('error', reject)
    }).catch((error: Error) => {
      transcript.record({ layer: 'client', type: 'end', exchange, reason: `upgrade-error: ${error.message}` })
      refuse(502, `[mcp-harness] Failed to forward the WebSocket upgrade ${req.url}: ${error.message}`)
      return false
    })
    if (!opened) return
    if (socket.destroyed) {
      worker.terminate()
      return
    }
    if (worker.protocol) this.#protocols.set(req, worker.protocol)
    webSockets.handleUpgrade(req, socket, head, (client: NodeWebSocket) => {
      const record = (direction: 'client->worker' | 'worker->client', data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
        transcript.record({ layer: 'client', type: 'ws-message', exchange, direction, ...(isBinary ? { bytes: buffer.byteLength } : parseData(buffer.toString('utf8'))) })
        return buffer
      }
      client.on('message', (data, isBinary) => worker.send(record('client->worker', data, isBinary), { binary: isBinary }))
      const toClient = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => client.send(record('worker->client', data, isBinary), { binary: isBinary })
      worker.off('message', keepMessage)
      worker.off('close', keepClose)
      for (const message of early.splice(0)) toClient(message.data, message.isBinary)
      worker.on('message', toClient)
      const end = closeRecorder(transcript, exchange)
      // 1005/1006 are reported, never sent (RFC 6455 §7.4.1).
      const pass = (to: NodeWebSocket, code: number, reason: string) => {
        if (code === 1005) to.close()
        else if (code === 1006) to.terminate()
        else to.close(code, reason)
      }
      client.on('close', (code, reason) => {
        end('client', code, reason.toString())
        pass(worker, code, reason.toString())
      })
      const workerClosed = (code: number, reason: string) => {
        end('worker', code, reason)
        pass(client, code, reason)
      }
      if (earlyClose) workerClosed(earlyClose.code, earlyClose.reason)
      else worker.on('close', (code, reason) => workerClosed(code, reason.toString()))
      client.on('error', () => worker.terminate())
      worker.on('error', () => client.terminate())
    })
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.#refused(req, (status, text, headers) => res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text))) return
    const { transcript } = this.#options
    const exchange = transcript.nextExchange()
    const url = this.#workerUrl(req)
    const headers = forwardedHeaders(req)
    const method = req.method ?? 'GET'
    let bodyBuffer: Buffer | undefined
    if (method !== 'GET' && method !== 'HEAD') {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      bodyBuffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    }
    const abort = new AbortController()
    // The client going away must reach the Worker as a cancelled request, as it does in production.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort()
    })
    const body = bodyBuffer && bodyBuffer.length ? bodyBuffer : undefined
    recordRequest(transcript, exchange, method, url, headers, body)
    const ctx = new FrontExchange(exchange, method, url.href, headers, body, transcript, abort, () => res.destroy())
    const response = await this.#exchange(ctx, url)
    if (!response || (abort.signal.aborted && !res.headersSent)) {
      transcript.record({ layer: 'client', type: 'end', exchange, reason: abortReason(abort) })
      return
    }
    await this.#respond(res, response, exchange, abort)
  }

  /** The middlewares and the Worker: the answer, or undefined when the exchange was cancelled (its end not recorded yet). */
  async #exchange(ctx: FrontExchange, url: URL): Promise<Response | undefined> {
    const { abort } = ctx
    const middlewares = this.#options.middlewares()
    let response: Response | undefined
    for (const middleware of middlewares) {
      response = await middleware.onRequest?.(ctx)
      if (response || abort.signal.aborted) break
    }
    if (!response && !abort.signal.aborted) {
      try {
        response = await this.#forward(ctx, url)
      } catch (error) {
        if (abort.signal.aborted) return undefined
        throw error
      }
      for (let i = middlewares.length - 1; i >= 0; i--) {
        const middleware = middlewares[i]!
        if (middleware.onResponse) response = await middleware.onResponse(ctx, response)
      }
    }
    return response
  }

  /**
   * The front door without its socket, for `emulator.fetch`: the same refusals, middlewares,
   * transcript events and forwarding to workerd as a request on the front door's port, and the
   * answer a client there would read (its connection-level headers aside), without the loopback HTTP
   * hop. It takes a plain description, not a Fetch `Request`: one cannot hold the forbidden methods
   * that the front door refuses (TRACE, TRACK, CONNECT), and building one costs more than the rest.
   */
  async fetch(request: FrontRequest): Promise<Response> {
    const { method, url, streamed = false } = request
    const signal = request.signal ?? NEVER_ABORTED
    const { transcript } = this.#options
    const target = `${url.pathname}${url.search}`
    const refusal = this.#refusal(method, target)
    if (refusal) return withDate(new Response(refusal.text, { status: refusal.status, headers: { 'content-type': 'text/plain', ...refusal.headers } }))
    const exchange = transcript.nextExchange()
    const workerUrl = new URL(`${this.url.origin}${target}`)
    const body = method === 'GET' || method === 'HEAD' ? undefined : request.body
    const headers = clientHeaders(request.headers, body && !streamed ? body.length : undefined)
    const abort = new AbortController()
    // The caller giving up must reach the Worker as a cancelled request, as a closed connection does.
    const onAbort = () => abort.abort()
    if (signal.aborted) abort.abort()
    else signal.addEventListener('abort', onAbort, { once: true })
    const sent = body && body.length ? body : undefined
    recordRequest(transcript, exchange, method, workerUrl, headers, sent)
    let fail: ((error: Error) => void) | undefined
    const ctx = new FrontExchange(exchange, method, workerUrl.href, headers, sent, transcript, abort, () => fail?.(new Error('The exchange was cancelled.')))
    let response: Response | undefined
    try {
      response = await this.#exchange(ctx, workerUrl)
    } catch (error) {
      signal.removeEventListener('abort', onAbort)
      return withDate(new Response(`[mcp-harness] Failed to forward ${method} ${target}: ${(error as Error).message}`, { status: 502, headers: { 'content-type': 'text/plain' } }))
    }
    if (!response || abort.signal.aborted) {
      signal.removeEventListener('abort', onAbort)
      transcript.record({ layer: 'client', type: 'end', exchange, reason: abortReason(abort) })
      // The caller's abort, or the connection dropped by a cancelling middleware.
      throw fetchFailure(signal, new Error(abortReason(abort)))
    }
    transcript.record({ layer: 'client', type: 'response', exchange, status: response.status, headers: headersToRecord(response.headers) })
    const outHeaders = new Headers()
    response.headers.forEach((value, name) => {
      if (this.#passesResponseHeader(name)) outHeaders.set(name, value)
    })
    for (const cookie of response.headers.getSetCookie()) outHeaders.append('set-cookie', cookie)
    if (!outHeaders.has('date')) outHeaders.set('date', new Date().toUTCString())
    const source = !NULL_BODY_STATUS.has(response.status) && method !== 'HEAD' ? response.body : null
    if (!source) {
      signal.removeEventListener('abort', onAbort)
      await response.body?.cancel().catch(() => {})
      transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
      return new Response(null, { status: response.status, statusText: response.statusText, headers: outHeaders })
    }
    const recorder = bodyRecorder(transcript, exchange, response.headers.get('content-type'))
    // A fixed-length answer is taken whole, as the socket path writes it whole whether or not the
    // client reads it: its exchange ends now, not when (or if) the caller reads the body.
    const length = Number(response.headers.get('content-length') ?? NaN)
    if (length <= WHOLE_BODY_MAX_BYTES) {
      try {
        const bytes = new Uint8Array(await response.arrayBuffer())
        recorder.feed(bytes)
        recorder.finish()
        transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
        return new Response(bytes, { status: response.status, statusText: response.statusText, headers: outHeaders })
      } catch (error) {
        transcript.record({ layer: 'client', type: 'end', exchange, reason: abort.signal.aborted ? abortReason(abort) : `stream-error: ${(error as Error).message}` })
        throw fetchFailure(signal, error)
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    }
    // Any other body is recorded as the caller reads it, as the socket path records what it writes.
    let ended = false
    const end = (reason: string) => {
      if (ended) return
      ended = true
      signal.removeEventListener('abort', onAbort)
      recorder.finish()
      transcript.record({ layer: 'client', type: 'end', exchange, reason })
    }
    const reader = source.getReader()
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          fail = (error) => {
            try {
              controller.error(error)
            } catch {
              // Already closed.
            }
            reader.cancel(error).catch(() => {})
            end(abortReason(abort))
          }
        },
        async pull(controller) {
          try {
            const next = await reader.read()
            if (next.done) {
              controller.close()
              return end('complete')
            }
            recorder.feed(next.value)
            controller.enqueue(next.value)
          } catch (error) {
            const reason = abort.signal.aborted ? abortReason(abort) : `stream-error: ${(error as Error).message}`
            controller.error(error)
            end(reason)
          }
        },
        cancel(reason) {
          // The caller stopped reading: as a client closing its connection, the Worker's request is cancelled.
          if (!ended) abort.abort()
          reader.cancel(reason).catch(() => {})
          end(abortReason(abort))
        },
      },
      { highWaterMark: 0 },
    )
    return new Response(stream, { status: response.status, statusText: response.statusText, headers: outHeaders })
  }

  /**
   * Whether a response header of the Worker reaches the client as it is (Set-Cookie is copied apart,
   * one per cookie). Forwarded from workerd's socket the body is passed as it was encoded, so its
   * Content-Encoding stays; through dispatchFetch Node already decoded it. Miniflare's own `mf-*`
   * headers are internal.
   */
  #passesResponseHeader(name: string): boolean {
    if (HOP_BY_HOP_RESPONSE.has(name) || name === 'content-length' || name === 'set-cookie' || name.startsWith('mf-')) return false
    return !(name === 'content-encoding' && this.#options.upstream.kind !== 'runtime')
  }

  async #respond(res: http.ServerResponse, response: Response, exchange: number, abort: AbortController): Promise<void> {
    const { transcript } = this.#options
    const contentType = response.headers.get('content-type')
    transcript.record({ layer: 'client', type: 'response', exchange, status: response.status, headers: headersToRecord(response.headers) })
    const outHeaders: Record<string, string | string[]> = {}
    response.headers.forEach((value, name) => {
      if (this.#passesResponseHeader(name)) outHeaders[name] = value
    })
    const cookies = response.headers.getSetCookie()
    if (cookies.length) outHeaders['set-cookie'] = cookies
    res.writeHead(response.status, response.statusText, outHeaders)
    const node = !response.bodyUsed ? NODE_BODIES.get(response) : undefined
    // The status line and headers go out now (an SSE client must see them before the first event),
    // unless body bytes are already here (or there is no body): then they leave with the first chunk
    // (or the end), in one write.
    if (response.body && (!node || node.readableLength === 0)) res.flushHeaders()
    if (!response.body) {
      res.end()
      transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
      return
    }
    const recorder = bodyRecorder(transcript, exchange, contentType)
    let reason = 'complete'
    try {
      const source = node ?? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)
      for await (const chunk of source) {
        recorder.feed(chunk as Uint8Array)
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
        if (res.destroyed) break
      }
    } catch (error) {
      reason = abort.signal.aborted || res.destroyed ? abortReason(abort) : `stream-error: ${(error as Error).message}`
    }
    if (res.destroyed && reason === 'complete') reason = abortReason(abort)
    recorder.finish()
    res.end()
    transcript.record({ layer: 'client', type: 'end', exchange, reason })
  }
}

/**
 * Records a response body on the client layer as it passes: each SSE event as it arrives, any other
 * body once, at its end (`finish`).
 */
function bodyRecorder(transcript: Transcript, exchange: number, contentType: string | null): { feed(chunk: Uint8Array): void; finish(): void } {
  const isSse = contentType?.includes('text/event-stream') ?? false
  const decoder = new TextDecoder()
  const parser = isSse
    ? createParser({
        onEvent: (event) => {
          transcript.record({
            layer: 'client',
            type: 'sse',
            exchange,
            event: event.event ?? 'message',
            ...(event.id !== undefined ? { id: event.id } : {}),
            ...parseData(event.data),
          })
        },
        onRetry: (retry) => transcript.record({ layer: 'client', type: 'sse-retry', exchange, retry }),
        onComment: (comment) => transcript.record({ layer: 'client', type: 'sse-comment', exchange, comment }),
      })
    : undefined
  let text = ''
  return {
    feed(chunk) {
      const piece = decoder.decode(chunk, { stream: true })
      if (parser) parser.feed(piece)
      else if (text.length <= MAX_RECORDED_BODY) text += piece
    },
    finish() {
      if (!parser && text) transcript.record({ layer: 'client', type: 'body', exchange, ...bodyForTranscript(text, contentType) })
    },
  }
}

/**
 * The request headers a client on the front door's socket would have sent: the caller's, then what
 * Node's fetch adds when they are missing (as it does towards the socket), minus what the front door
 * never forwards (`droppedBecause`: harness stamps, Miniflare headers, Host, hop-by-hop).
 */
function clientHeaders(given: Headers, contentLength: number | undefined): Headers {
  const connection = given.get('connection') ?? ''
  const tokens = new Set(connection.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean))
  const headers = new Headers()
  given.forEach((value, name) => {
    if (!droppedBecause(name, tokens)) headers.append(name, value)
  })
  for (const [name, value] of FETCH_DEFAULT_HEADERS) if (!headers.has(name)) headers.set(name, value)
  if (contentLength !== undefined && !headers.has('content-length')) headers.set('content-length', String(contentLength))
  return headers
}

/** What Node's fetch (undici) adds to a request that lacks them (measured on Node 22). */
const FETCH_DEFAULT_HEADERS: [string, string][] = [
  ['accept', '*/*'],
  ['accept-language', '*'],
  ['sec-fetch-mode', 'cors'],
  ['user-agent', 'node'],
  ['accept-encoding', 'gzip, deflate'],
]

/** A response the front door writes itself gets the Date header Node's HTTP server adds. */
function withDate(response: Response): Response {
  if (!response.headers.has('date')) response.headers.set('date', new Date().toUTCString())
  return response
}

/** Up to this size a fixed-length answer of `FrontServer#fetch` is read whole before it is handed over. */
const WHOLE_BODY_MAX_BYTES = 1 << 20

/** A client request as the transcript keeps it (the same event whether it came over the socket or in-process). */
function recordRequest(transcript: Transcript, exchange: number, method: string, url: URL, headers: Headers, body: Uint8Array | undefined): void {
  transcript.record({
    layer: 'client',
    type: 'request',
    exchange,
    method,
    path: url.pathname,
    query: url.search,
    headers: headersToRecord(headers),
    ...bodyForTranscript(body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : '', headers.get('content-type')),
  })
}

/** What `FrontServer#fetch` throws when it cannot answer, as Node's fetch throws: the caller's abort reason, else a TypeError. */
function fetchFailure(signal: AbortSignal, cause: unknown): unknown {
  if (signal.aborted) return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
  return new TypeError('fetch failed', { cause })
}

/** Why an exchange ended early: a middleware's cancel reason, or the client going away. */
function abortReason(abort: AbortController): string {
  return typeof abort.signal.reason === 'string' ? abort.signal.reason : 'client-aborted'
}

function parseData(data: string): { data?: unknown; dataText?: string } {
  try {
    return { data: JSON.parse(data) }
  } catch {
    return { dataText: data }
  }
}

let network: Promise<{ undici: typeof import('undici'); ws: typeof import('ws') }> | undefined
/** undici and ws, loaded once per process on first need (see `FrontServer.preload`). */
function loadNetwork(): Promise<{ undici: typeof import('undici'); ws: typeof import('ws') }> {
  network ??= Promise.all([import('undici'), import('ws')]).then(([undici, ws]) => ({ undici, ws }))
  return network
}
