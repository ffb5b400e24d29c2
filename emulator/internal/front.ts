import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { createParser } from 'eventsource-parser'
import { WebSocketServer, type WebSocket as NodeWebSocket } from 'ws'
import { HarnessError } from '../../core/errors.ts'
import { headersToRecord, type Transcript } from '../../core/transcript.ts'

/** What a front middleware sees of one client request. */
export interface FrontContext {
  exchange: number
  request: Request
  transcript: Transcript
  /** Cancels the exchange as the platform does: aborts the Worker's request and drops the client connection with no further bytes. */
  cancel(reason: string): void
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

/** The Worker's end of a WebSocket, as Miniflare hands it out on a 101 response. */
interface WorkerSocket {
  accept(): void
  send(data: string | ArrayBuffer | Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'message', listener: (event: { data: string | ArrayBuffer }) => void): void
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void
}

export interface FrontOptions {
  host: string
  port: number
  transcript: Transcript
  dispatch: Dispatch
  middlewares: () => FrontMiddleware[]
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'])
/** Bodies larger than this are recorded as their size only. */
const MAX_RECORDED_BODY = 1024 * 1024

/** The client's headers as the Worker should get them: without hop-by-hop headers, `Host`, or what `skip` names. */
function forwardedHeaders(req: http.IncomingMessage, skip: (name: string) => boolean = () => false): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'host' || skip(name)) continue
    headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  return headers
}

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

/**
 * The emulator's front door on 127.0.0.1: forwards each request to the Worker and records the client
 * layer of the transcript, streaming SSE through as it arrives (each event recorded separately).
 */
export class FrontServer {
  readonly #options: FrontOptions
  readonly #server: http.Server
  readonly #sockets = new Set<import('node:net').Socket>()
  readonly #webSockets = new WebSocketServer({ noServer: true })
  #url?: URL

  constructor(options: FrontOptions) {
    this.#options = options
    this.#server = http.createServer((req, res) => {
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
    this.#server.keepAliveTimeout = 5_000
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
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
    for (const client of this.#webSockets.clients) client.terminate()
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /**
   * Bridges a WebSocket upgrade to the Worker: the Worker's socket (from Miniflare) is accepted here
   * and joined to the client's, each message and close recorded on the client layer.
   */
  async #upgrade(req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer): Promise<void> {
    const { transcript } = this.#options
    const exchange = transcript.nextExchange()
    const url = new URL(req.url ?? '/', this.url)
    // The WebSocket handshake headers belong to this hop; Miniflare makes its own.
    const headers = forwardedHeaders(req, (name) => name.startsWith('sec-websocket-'))
    headers.set('upgrade', 'websocket')
    transcript.record({ layer: 'client', type: 'request', exchange, method: 'GET', path: url.pathname, query: url.search, headers: headersToRecord(headers), upgrade: 'websocket' })
    const response = (await this.#options.dispatch(new Request(url, { headers }))) as Response & { webSocket?: WorkerSocket | null }
    transcript.record({ layer: 'client', type: 'response', exchange, status: response.status, headers: headersToRecord(response.headers) })
    const worker = response.webSocket
    if (response.status !== 101 || !worker) {
      const body = await response.text()
      socket.end(`HTTP/1.1 ${response.status} ${response.statusText || 'Error'}\r\ncontent-type: ${response.headers.get('content-type') ?? 'text/plain'}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
      transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
      return
    }
    worker.accept()
    this.#webSockets.handleUpgrade(req, socket, head, (client: NodeWebSocket) => {
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
      let closed = false
      const end = (by: string, code?: number, reason?: string) => {
        if (closed) return
        closed = true
        transcript.record({ layer: 'client', type: 'ws-close', exchange, by, ...(code !== undefined ? { code } : {}), ...(reason ? { reason } : {}) })
        transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
      }
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

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { transcript } = this.#options
    const exchange = transcript.nextExchange()
    const url = new URL(req.url ?? '/', this.url)
    const headers = forwardedHeaders(req)
    const method = req.method ?? 'GET'
    let bodyBuffer: Buffer | undefined
    if (method !== 'GET' && method !== 'HEAD') {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      bodyBuffer = Buffer.concat(chunks)
    }
    const abort = new AbortController()
    // The client going away must reach the Worker as a cancelled request, as it does in production.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort()
    })
    // redirect: 'manual': a Worker's 302 goes back to the client as is; following it here would fetch the Location from Node.
    const request = new Request(url, { method, headers, body: bodyBuffer && bodyBuffer.length ? new Uint8Array(bodyBuffer) : undefined, signal: abort.signal, redirect: 'manual' })
    transcript.record({
      layer: 'client',
      type: 'request',
      exchange,
      method,
      path: url.pathname,
      query: url.search,
      headers: headersToRecord(headers),
      ...bodyForTranscript(bodyBuffer?.toString('utf8') ?? '', headers.get('content-type')),
    })
    const cancel = (reason: string) => {
      abort.abort(reason)
      res.destroy()
    }
    const ctx: FrontContext = { exchange, request, transcript, cancel }
    const middlewares = this.#options.middlewares()
    let response: Response | undefined
    for (const middleware of middlewares) {
      response = await middleware.onRequest?.(ctx)
      if (response || abort.signal.aborted) break
    }
    if (!response && !abort.signal.aborted) {
      try {
        response = await this.#options.dispatch(request)
      } catch (error) {
        if (abort.signal.aborted) {
          transcript.record({ layer: 'client', type: 'end', exchange, reason: abortReason(abort) })
          return
        }
        throw error
      }
      for (const middleware of [...middlewares].reverse()) {
        if (middleware.onResponse) response = await middleware.onResponse(ctx, response)
      }
    }
    if (!response || (abort.signal.aborted && !res.headersSent)) {
      transcript.record({ layer: 'client', type: 'end', exchange, reason: abortReason(abort) })
      return
    }
    await this.#respond(res, response, exchange, abort)
  }

  async #respond(res: http.ServerResponse, response: Response, exchange: number, abort: AbortController): Promise<void> {
    const { transcript } = this.#options
    const contentType = response.headers.get('content-type')
    transcript.record({ layer: 'client', type: 'response', exchange, status: response.status, headers: headersToRecord(response.headers) })
    const outHeaders: Record<string, string | string[]> = {}
    response.headers.forEach((value, name) => {
      // Node already decoded the body; Miniflare's own `mf-*` headers are internal to it.
      if (HOP_BY_HOP.has(name) || name === 'content-length' || name === 'content-encoding' || name.startsWith('mf-')) return
      if (name === 'set-cookie') return
      outHeaders[name] = value
    })
    const cookies = response.headers.getSetCookie()
    if (cookies.length) outHeaders['set-cookie'] = cookies
    res.writeHead(response.status, response.statusText, outHeaders)
    res.flushHeaders()
    if (!response.body) {
      res.end()
      transcript.record({ layer: 'client', type: 'end', exchange, reason: 'complete' })
      return
    }
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
    let reason = 'complete'
    try {
      for await (const chunk of Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
        const piece = decoder.decode(chunk as Uint8Array, { stream: true })
        if (parser) parser.feed(piece)
        else if (text.length <= MAX_RECORDED_BODY) text += piece
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
        if (res.destroyed) break
      }
    } catch (error) {
      reason = abort.signal.aborted || res.destroyed ? abortReason(abort) : `stream-error: ${(error as Error).message}`
    }
    if (res.destroyed && reason === 'complete') reason = abortReason(abort)
    if (!parser && text) {
      const recorded = bodyForTranscript(text, contentType)
      transcript.record({ layer: 'client', type: 'body', exchange, ...recorded })
    }
    res.end()
    transcript.record({ layer: 'client', type: 'end', exchange, reason })
  }
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
