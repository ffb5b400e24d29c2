import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Readable, type Writable } from 'node:stream'
import { createParser } from 'eventsource-parser'
import { createProxyServer, type ProxyServer } from 'http-proxy-3'
import * as wsModule from 'ws'
import { HarnessError } from '../../core/errors.ts'
import { leaveIdleConnectionsToClients } from '../../core/http-server.ts'
import type { Capture, CapturedExchange, CapturedPlatformEvent, CapturedSession, CapturedWsFrame } from './types.ts'

/** ws's frame parser: exported at run time, not declared by @types/ws. */
const Receiver = (wsModule as unknown as { Receiver: new (options: { isServer: boolean; skipUTF8Validation?: boolean }) => Writable }).Receiver

export interface RecordingProxyOptions {
  /** Base URL of the real server; paths are preserved (`/mcp` on the proxy is `/mcp` on the target). */
  target: string | URL
  host?: string
  /** 0 takes a free port. */
  port?: number
  /** When false, traffic is forwarded but not kept (mode `passthrough`). */
  record?: boolean
  /** Called when the session looks finished: a DELETE was answered, or nothing moved for `idleMs` with no stream open. */
  onSessionEnd?: (reason: 'delete' | 'idle') => void
  /** Idle time that ends a session, ms (default 2000). */
  idleMs?: number
}

/** Bodies small enough and textual enough to rewrite URLs in (OAuth metadata, consent pages, token forms). */
const REWRITABLE = /json|html|x-www-form-urlencoded|text\/plain|javascript/
/** Response headers that carry URLs a client follows (redirects, the OAuth challenge, links). */
const URL_HEADERS = ['location', 'content-location', 'www-authenticate', 'link', 'refresh']
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'])

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  return out
}

/** Replaces one origin by another in text, also where it appears URL-encoded (a `redirect_uri` or `resource` parameter). */
export function swapOrigin(text: string, from: string, to: string): string {
  if (!text.includes(from) && !text.includes(encodeURIComponent(from))) return text
  return text.split(from).join(to).split(encodeURIComponent(from)).join(encodeURIComponent(to))
}

/**
 * A recording reverse proxy for real clients, on http-proxy-3: forwards every request to the target
 * with its path, streams responses through with backpressure (SSE chunk by chunk), proxies WebSocket
 * upgrades and records each frame, and rewrites the target's URLs in redirects, OAuth challenges,
 * OAuth metadata and pages to its own, so a whole sign-in passes through it and is recorded.
 * @example
 * const proxy = createRecordingProxy({ target: emulator.url })
 * await proxy.start() // point the client at proxy.url
 * const cassette = buildCassette(proxy.snapshot(), meta)
 */
export function createRecordingProxy(options: RecordingProxyOptions): RecordingProxy {
  return new RecordingProxy(options)
}

export class RecordingProxy implements Capture {
  readonly #options: RecordingProxyOptions
  readonly #target: URL
  readonly #server: http.Server
  readonly #proxy: ProxyServer
  readonly #sockets = new Set<Socket>()
  readonly #exchanges: CapturedExchange[] = []
  readonly #events: CapturedPlatformEvent[] = []
  readonly #start = performance.now()
  #open = 0
  #idleTimer?: NodeJS.Timeout
  #onExchange?: (exchange: CapturedExchange) => void
  #url?: URL
  #nextId = 1

  constructor(options: RecordingProxyOptions) {
    this.#options = options
    this.#target = new URL(options.target)
    // selfHandleResponse: the proxy pipes the body itself (backpressure) or rewrites it; ws: upgrades are raw-piped by the library.
    this.#proxy = createProxyServer({ target: this.#target.origin, changeOrigin: true, selfHandleResponse: true, ws: true, xfwd: false })
    this.#server = http.createServer((req, res) => this.#handle(req, res))
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head))
    this.#server.requestTimeout = 0
    leaveIdleConnectionsToClients(this.#server)
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  /** The proxy's base URL; clients use it in place of the target's. */
  get url(): URL {
    if (!this.#url) throw new HarnessError('ERR_START', 'Failed to read the recording proxy URL: call start() first.')
    return this.#url
  }

  #now(): number {
    return Math.round((performance.now() - this.#start) * 10) / 10
  }

  async start(onExchange?: (exchange: CapturedExchange) => void): Promise<void> {
    this.#onExchange = onExchange
    const host = this.#options.host ?? '127.0.0.1'
    const port = this.#options.port ?? 0
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new HarnessError('ERR_PORT_IN_USE', `Failed to listen on ${host}:${port}: the port is in use. Pass another --listen port, or omit it to take a free one.`)
            : new HarnessError('ERR_START', `Failed to start the recording proxy on ${host}:${port}: ${error.message}`),
        ),
      )
      this.#server.listen(port, host, () => resolve())
    })
    this.#url = new URL(`http://${host}:${(this.#server.address() as AddressInfo).port}`)
  }

  async stop(): Promise<void> {
    clearTimeout(this.#idleTimer)
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#proxy.close()
  }

  /** Records a platform event beside the traffic, e.g. an eviction the test performed. */
  mark(event: Omit<CapturedPlatformEvent, 't'>): void {
    if (this.#options.record !== false) this.#events.push({ ...event, t: this.#now() })
  }

  /** What was captured so far; the target's origin is listed so the cassette can make it a placeholder. */
  snapshot(): CapturedSession {
    return structuredClone({ exchanges: this.#exchanges, events: this.#events, origins: [this.#target.origin] })
  }

  /** Forgets everything captured so far (a new session starts). */
  clear(): void {
    this.#exchanges.length = 0
    this.#events.length = 0
  }

  #activity(delta: number): void {
    this.#open += delta
    clearTimeout(this.#idleTimer)
    if (this.#open === 0 && this.#options.onSessionEnd && this.#exchanges.length > 0) {
      this.#idleTimer = setTimeout(() => this.#options.onSessionEnd?.('idle'), this.#options.idleMs ?? 2000)
      this.#idleTimer.unref()
    }
  }

  /** Rewrites the proxy's origin to the target's in what the client sends (a `resource` or `redirect_uri` naming the proxy). */
  #inbound(text: string): string {
    return swapOrigin(text, this.url.origin, this.#target.origin)
  }

  /** Rewrites the target's origin to the proxy's in what the client receives. */
  #outbound(text: string): string {
    return swapOrigin(text, this.#target.origin, this.url.origin)
  }

  /**
   * A redirect to the target itself comes back through the proxy. A redirect to another site (an
   * upstream OAuth provider) is left whole: the provider checks the `redirect_uri` in it against the
   * one the server sends when it redeems the code, so the browser must return to the server's own
   * callback URL, which then redirects through here again (or, with the emulator's mocked providers,
   * is served through the proxy anyway).
   */
  #outboundHeader(name: string, value: string): string {
    if (name !== 'location' && name !== 'content-location') return this.#outbound(value)
    try {
      const url = new URL(value, this.#target)
      if (url.origin === this.#target.origin) return this.#outbound(value)
      // RFC 9207: the `iss` the client checks against the (rewritten) issuer metadata.
      if (url.searchParams.get('iss') === this.#target.origin) {
        url.searchParams.set('iss', this.url.origin)
        return url.href
      }
      return value
    } catch {
      return value
    }
  }

  /** The path on the target: the target's base path, then the client's path. */
  #targetPath(incoming: URL): string {
    return `${this.#target.pathname.replace(/\/$/, '')}${incoming.pathname}${this.#inbound(incoming.search)}`
  }

  #newExchange(req: http.IncomingMessage, incoming: URL, headers: Record<string, string>): CapturedExchange {
    const exchange: CapturedExchange = {
      id: this.#nextId++,
      t: this.#now(),
      // Recorded as the target saw it: the proxy's own origin never reaches a cassette.
      request: { method: req.method ?? 'GET', path: incoming.pathname, query: this.#inbound(incoming.search), headers },
    }
    if (this.#options.record !== false) this.#exchanges.push(exchange)
    this.#activity(+1)
    return exchange
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const incoming = new URL(req.url ?? '/', 'http://proxy')
    const headers = flatHeaders(req.headers)
    for (const name of ['origin', 'referer']) if (headers[name]) headers[name] = this.#inbound(headers[name]!)
    const exchange = this.#newExchange(req, incoming, headers)
    let done = false
    const finish = (reason: string) => {
      if (done) return
      done = true
      if (exchange.response) exchange.response.end = { t: this.#now(), reason }
      this.#onExchange?.(exchange)
      this.#activity(-1)
      if (reason === 'complete' && exchange.request.method === 'DELETE') this.#options.onSessionEnd?.('delete')
    }
    // Request bodies of MCP and OAuth are small messages: read whole, so they can be recorded and their URLs rewritten.
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      if (body.length && REWRITABLE.test(headers['content-type'] ?? 'json')) body = Buffer.from(this.#inbound(body.toString('utf8')))
      if (body.length) exchange.request.bodyText = body.toString('utf8')
      req.url = this.#targetPath(incoming)
      for (const name of ['origin', 'referer']) if (req.headers[name]) req.headers[name] = headers[name]
      if (body.length || req.headers['content-length'] !== undefined) req.headers['content-length'] = String(body.length)
      // Identity encoding keeps SSE parseable and chunk boundaries unchanged.
      req.headers['accept-encoding'] = 'identity'
      const onResponse = (proxyRes: http.IncomingMessage, forReq: http.IncomingMessage) => {
        if (forReq !== req) return
        this.#proxy.off('proxyRes', onResponse)
        this.#respond(exchange, proxyRes, res, finish)
      }
      this.#proxy.on('proxyRes', onResponse)
      // The client hanging up must reach the server, as it would without the proxy (http-proxy-3 destroys the upstream request).
      res.on('close', () => {
        this.#proxy.off('proxyRes', onResponse)
        if (!res.writableFinished) finish('client-aborted')
      })
      this.#proxy.web(req, res, { buffer: Readable.from(body.length ? [body] : []) }, (error) => {
        this.#proxy.off('proxyRes', onResponse)
        if (done) return
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' })
          res.end(`[mcp-harness] Failed to reach ${this.#target.origin}: ${(error as Error).message}`)
        } else res.destroy()
        exchange.response ??= { t: this.#now(), status: 502, headers: {}, bodyText: `proxy error: ${(error as Error).message}` }
        finish(`proxy-error: ${(error as Error).message}`)
      })
    })
  }

  #respond(exchange: CapturedExchange, up: http.IncomingMessage, res: http.ServerResponse, finish: (reason: string) => void): void {
    const recorded = flatHeaders(up.headers)
    const contentType = recorded['content-type'] ?? ''
    const isSse = contentType.includes('text/event-stream')
    exchange.response = { t: this.#now(), status: up.statusCode ?? 502, headers: recorded, ...(isSse ? { sse: [] } : {}) }
    const out: http.OutgoingHttpHeaders = {}
    for (const [name, value] of Object.entries(up.headers)) {
      if (HOP_BY_HOP.has(name) || value === undefined) continue
      out[name] = URL_HEADERS.includes(name) ? (Array.isArray(value) ? value.map((v) => this.#outboundHeader(name, v)) : this.#outboundHeader(name, value)) : value
    }
    const rewrite = !isSse && REWRITABLE.test(contentType) && !up.headers['content-encoding']
    if (rewrite) {
      // OAuth metadata, consent pages, JSON answers: small; buffered so the target's URLs can point back through the proxy.
      const chunks: Buffer[] = []
      up.on('data', (chunk: Buffer) => chunks.push(chunk))
      up.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (text) exchange.response!.bodyText = text
        const body = Buffer.from(this.#outbound(text))
        delete out['content-length']
        out['content-length'] = String(body.length)
        res.writeHead(up.statusCode ?? 502, up.statusMessage, out)
        res.end(body)
        finish('complete')
      })
      up.on('error', (error) => {
        res.destroy(error)
        finish(`stream-error: ${error.message}`)
      })
      return
    }
    res.writeHead(up.statusCode ?? 502, up.statusMessage, out)
    res.flushHeaders()
    const decoder = new TextDecoder()
    const parser = isSse
      ? createParser({
          onEvent: (event) => {
            exchange.response?.sse?.push({ t: this.#now(), ...(event.event ? { event: event.event } : {}), ...(event.id !== undefined ? { id: event.id } : {}), data: event.data })
          },
          onRetry: (retry) => exchange.response?.sse?.push({ t: this.#now(), event: 'retry', retry, data: '' }),
        })
      : undefined
    let text = ''
    // Recording taps the stream; pipe() forwards it and pauses the server side while the client is slow.
    up.on('data', (chunk: Buffer) => {
      const piece = decoder.decode(chunk, { stream: true })
      if (parser) parser.feed(piece)
      else text += piece
    })
    up.on('end', () => {
      if (!parser && text && exchange.response) exchange.response.bodyText = text
      finish('complete')
    })
    up.on('error', (error) => {
      res.destroy(error)
      finish(`stream-error: ${error.message}`)
    })
    up.pipe(res)
  }

  /** A WebSocket upgrade: http-proxy-3 pipes the bytes; two ws Receivers read the frames of each direction for the recording. */
  #upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const incoming = new URL(req.url ?? '/', 'http://proxy')
    // No permessage-deflate: frames stay readable on the wire (the client and server agree on none).
    delete req.headers['sec-websocket-extensions']
    const headers = flatHeaders(req.headers)
    const exchange = this.#newExchange(req, incoming, headers)
    req.url = this.#targetPath(incoming)
    const frames: CapturedWsFrame[] = []
    let ended = false
    const finish = (reason: string) => {
      if (ended) return
      ended = true
      if (exchange.response) exchange.response.end = { t: this.#now(), reason }
      this.#onExchange?.(exchange)
      this.#activity(-1)
    }
    const reader = (from: 'client' | 'server') => {
      const receiver = new Receiver({ isServer: from === 'client', skipUTF8Validation: true })
      receiver.on('message', (data: Buffer, isBinary: boolean) => frames.push({ t: this.#now(), from, ...(isBinary ? { binary: data.toString('base64') } : { data: data.toString('utf8') }) }))
      receiver.on('conclude', (code: number, reason: Buffer) => frames.push({ t: this.#now(), from, close: { code, reason: reason.toString('utf8') } }))
      receiver.on('error', () => {
        // A frame the reader cannot parse is still forwarded; only the recording loses it.
      })
      return receiver
    }
    const onUpgrade = (proxyReq: http.ClientRequest, forReq: http.IncomingMessage) => {
      if (forReq !== req) return
      this.#proxy.off('proxyReqWs', onUpgrade)
      proxyReq.on('upgrade', (proxyRes: http.IncomingMessage, proxySocket: Socket, proxyHead: Buffer) => {
        exchange.response = { t: this.#now(), status: proxyRes.statusCode ?? 101, headers: flatHeaders(proxyRes.headers), ws: frames }
        // The readers get copies: ws unmasks client frames in place, and these bytes still go to the server.
        const fromClient = reader('client')
        const fromServer = reader('server')
        if (head.length) fromClient.write(Buffer.from(head))
        if (proxyHead.length) fromServer.write(proxyHead)
        socket.on('data', (chunk: Buffer) => fromClient.write(Buffer.from(chunk)))
        proxySocket.on('data', (chunk: Buffer) => fromServer.write(Buffer.from(chunk)))
        socket.on('close', () => finish('complete'))
        proxySocket.on('close', () => finish('complete'))
      })
      proxyReq.on('response', (proxyRes: http.IncomingMessage) => {
        // The server refused the upgrade: an ordinary answer.
        exchange.response = { t: this.#now(), status: proxyRes.statusCode ?? 502, headers: flatHeaders(proxyRes.headers) }
        finish('complete')
      })
    }
    this.#proxy.on('proxyReqWs', onUpgrade)
    this.#proxy.ws(req, socket, head, {}, (error) => {
      this.#proxy.off('proxyReqWs', onUpgrade)
      exchange.response ??= { t: this.#now(), status: 502, headers: {}, bodyText: `proxy error: ${(error as Error).message}` }
      socket.destroy()
      finish(`proxy-error: ${(error as Error).message}`)
    })
  }
}
