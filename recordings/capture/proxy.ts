import http from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { createParser } from 'eventsource-parser'
import { HarnessError } from '../../core/errors.ts'
import type { Capture, CapturedExchange, CapturedPlatformEvent, CapturedSession } from './types.ts'

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

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'])

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  return out
}

/**
 * A recording reverse proxy for real clients: forwards every request to the target with its path,
 * streams SSE through chunk by chunk as it arrives, and keeps each exchange and SSE event with its time.
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
    this.#server = http.createServer((req, res) => this.#handle(req, res))
    this.#server.requestTimeout = 0
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
  }

  /** Records a platform event beside the traffic, e.g. an eviction the test performed. */
  mark(event: Omit<CapturedPlatformEvent, 't'>): void {
    if (this.#options.record !== false) this.#events.push({ ...event, t: this.#now() })
  }

  snapshot(): CapturedSession {
    return structuredClone({ exchanges: this.#exchanges, events: this.#events })
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

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const incoming = new URL(req.url ?? '/', 'http://proxy')
    const exchange: CapturedExchange = {
      id: this.#nextId++,
      t: this.#now(),
      request: { method: req.method ?? 'GET', path: incoming.pathname, query: incoming.search, headers: flatHeaders(req.headers) },
    }
    if (this.#options.record !== false) this.#exchanges.push(exchange)
    this.#activity(+1)
    let done = false
    const finish = (reason: string) => {
      if (done) return
      done = true
      if (exchange.response) exchange.response.end = { t: this.#now(), reason }
      this.#onExchange?.(exchange)
      this.#activity(-1)
      if (reason === 'complete' && exchange.request.method === 'DELETE') this.#options.onSessionEnd?.('delete')
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (body.length) exchange.request.bodyText = body.toString('utf8')
      const headers: http.OutgoingHttpHeaders = {}
      for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && name !== 'host' && value !== undefined) headers[name] = value
      headers.host = this.#target.host
      // Identity encoding keeps SSE parseable and chunk boundaries unchanged.
      headers['accept-encoding'] = 'identity'
      const targetUrl = new URL(this.#target)
      targetUrl.pathname = `${this.#target.pathname.replace(/\/$/, '')}${incoming.pathname}`
      targetUrl.search = incoming.search
      const send = targetUrl.protocol === 'https:' ? https.request : http.request
      const upstream = send(targetUrl, { method: req.method, headers }, (up) => {
        const resHeaders = flatHeaders(up.headers)
        const isSse = (resHeaders['content-type'] ?? '').includes('text/event-stream')
        exchange.response = { t: this.#now(), status: up.statusCode ?? 502, headers: resHeaders, ...(isSse ? { sse: [] } : {}) }
        const out: http.OutgoingHttpHeaders = {}
        for (const [name, value] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value
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
        up.on('data', (chunk: Buffer) => {
          // Forward first, then parse: recording must never delay the client.
          res.write(chunk)
          const piece = decoder.decode(chunk, { stream: true })
          if (parser) parser.feed(piece)
          else text += piece
        })
        up.on('end', () => {
          if (!parser && text && exchange.response) exchange.response.bodyText = text
          res.end()
          finish('complete')
        })
        up.on('error', (error) => {
          res.destroy(error)
          finish(`stream-error: ${error.message}`)
        })
      })
      upstream.on('error', (error) => {
        if (done) return
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' })
          res.end(`[mcp-harness] Failed to reach ${targetUrl.origin}: ${error.message}`)
        } else res.destroy()
        exchange.response ??= { t: this.#now(), status: 502, headers: {}, bodyText: `proxy error: ${error.message}` }
        finish(`proxy-error: ${error.message}`)
      })
      // The client hanging up must reach the server, as it would without the proxy.
      res.on('close', () => {
        if (!res.writableFinished) {
          upstream.destroy()
          finish('client-aborted')
        }
      })
      upstream.end(body.length ? body : undefined)
    })
  }
}
