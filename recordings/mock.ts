import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { HarnessError } from '../core/errors.ts'
import type { Cassette, Interaction } from './format/schema.ts'
import { Bindings } from './match/bindings.ts'
import { show } from './match/compare.ts'
import { loadCassette } from './persist/fs.ts'
import { describeRequest } from './replay.ts'

export interface MockServerOptions {
  host?: string
  /** 0 takes a free port. */
  port?: number
  /** Keep the recorded gaps between SSE events instead of sending each as soon as its causes arrived. */
  realtime?: boolean
  /** How long an SSE event waits for the client request recorded before it, ms (default 5000). */
  waitMs?: number
  /** Shown in miss reports; defaults to the cassette path when one was given. */
  source?: string
}

/** A running mock of the server side of a cassette. */
export interface MockServer {
  url: URL
  /** Requests the cassette could not answer, with the explanation sent to the client. */
  errors: HarnessError[]
  /** Interactions answered so far. */
  served(): number
  close(): Promise<void>
}

function rpcKey(body: unknown): string {
  const message = Array.isArray(body) ? body[0] : body
  if (!message || typeof message !== 'object') return ''
  const m = message as Record<string, unknown>
  if (typeof m.method === 'string') return m.id !== undefined ? `${m.method}#${JSON.stringify(m.id)}` : m.method
  return m.id !== undefined ? `response#${JSON.stringify(m.id)}` : ''
}

function parseMaybe(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Serves the server side of a cassette so a client can be tested against it: each request is matched
 * to the next unused recorded one (method, path, JSON-RPC method and id), and answered as recorded,
 * with fresh session ids. A request the cassette does not hold gets an `ERR_REPLAY_MISS` explanation.
 * @example
 * const mock = await createMockServer('recordings/cassettes/sdk/streamable-http.json')
 * await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', mock.url)))
 */
export async function createMockServer(cassetteOrPath: Cassette | string, options: MockServerOptions = {}): Promise<MockServer> {
  const cassette = typeof cassetteOrPath === 'string' ? await loadCassette(cassetteOrPath) : cassetteOrPath
  const source = options.source ?? (typeof cassetteOrPath === 'string' ? cassetteOrPath : `cassette ${cassette.meta.client}/${cassette.meta.scenario}`)
  const waitMs = options.waitMs ?? 5000
  const bindings = new Bindings((placeholder) => {
    const kind = placeholder.slice(1, placeholder.indexOf('-'))
    return kind === 'event' ? `${placeholder.slice(1, -1)}` : randomBytes(16).toString('hex')
  })
  const used = new Set<number>()
  const arrived = new Set<number>()
  const waiters = new Set<() => void>()
  const errors: HarnessError[] = []
  const started = performance.now()
  const sockets = new Set<Socket>()

  const causesArrived = (t: number) => cassette.interactions.every((i) => i.t >= t || arrived.has(i.id))
  const waitForCauses = (t: number) =>
    new Promise<void>((resolve) => {
      if (causesArrived(t)) return resolve()
      const timer = setTimeout(done, waitMs)
      function check() {
        if (causesArrived(t)) done()
      }
      function done() {
        clearTimeout(timer)
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
    })

  const find = (method: string, path: string, query: URLSearchParams, body: unknown): Interaction | undefined => {
    const key = rpcKey(body)
    return cassette.interactions.find((i) => {
      if (used.has(i.id) || i.request.method !== method || i.request.path !== path) return false
      if (Object.keys(i.request.query).sort().join('&') !== [...query.keys()].sort().join('&')) return false
      return rpcKey(i.request.body) === key
    })
  }

  const miss = (method: string, path: string, body: unknown): HarnessError => {
    const key = rpcKey(body)
    const rpcMethod = key.split('#')[0]
    const samePath = (i: Interaction) => i.request.method === method && i.request.path === path
    const sameRpc = cassette.interactions.filter((i) => samePath(i) && rpcKey(i.request.body).split('#')[0] === rpcMethod)
    const closest = sameRpc.find((i) => !used.has(i.id)) ?? sameRpc[0] ?? cassette.interactions.find((i) => samePath(i) && !used.has(i.id)) ?? cassette.interactions.find(samePath)
    const why = !closest
      ? `the cassette has no ${method} ${path} at all`
      : sameRpc.length === 0
        ? `the cassette has no ${rpcMethod ? `"${rpcMethod}"` : 'such'} request on ${method} ${path} (failed matcher jsonrpc method)`
        : used.has(closest.id)
          ? 'it was already served (the client sent more than was recorded)'
          : `failed matcher jsonrpc id (${show(rpcKey(closest.request.body))} ≠ ${show(key)})`
    return new HarnessError(
      'ERR_REPLAY_MISS',
      `Failed to serve ${method} ${path}${key ? ` "${key.replace('#', '" (id ')}${key.includes('#') ? ')' : ''}` : ''} from ${source} (mode: replay).\n  Closest: ${closest ? `#${closest.id} ${describeRequest(closest)}` : 'none'}: ${why}\n  Re-record: ${cassette.meta.rerecord ?? `mcp-harness record --target <server> --out ${source}`}`,
    )
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://mock')
      const text = Buffer.concat(chunks).toString('utf8')
      const body = (() => {
        const parsed = parseMaybe(text)
        return parsed === undefined ? undefined : JSON.parse(bindings.unsubstitute(JSON.stringify(parsed)))
      })()
      const query = new URLSearchParams()
      for (const [name, value] of url.searchParams) query.set(name, bindings.unsubstitute(value))
      const interaction = find(req.method ?? 'GET', bindings.unsubstitute(url.pathname), query, body)
      if (!interaction?.response) {
        const error = interaction ? new HarnessError('ERR_REPLAY_MISS', `Failed to serve ${req.method} ${url.pathname} from ${source}: the recorded request #${interaction.id} never got an answer.`) : miss(req.method ?? 'GET', url.pathname, body)
        errors.push(error)
        if (interaction) used.add(interaction.id)
        res.writeHead(500, { 'content-type': 'application/json', 'x-mcp-harness-error': error.code })
        const id = body && typeof body === 'object' && !Array.isArray(body) ? ((body as Record<string, unknown>).id ?? null) : null
        res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: error.message } }))
        return
      }
      used.add(interaction.id)
      arrived.add(interaction.id)
      for (const fn of waiters) fn()
      const recorded = interaction.response
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(recorded.headers)) if (name !== 'content-length' && !value.includes('<redacted:')) headers[name] = bindings.substitute(value)
      res.writeHead(recorded.status, headers)
      if (!recorded.sse) {
        const out = recorded.body !== undefined ? JSON.stringify(bindings.substituteJson(recorded.body)) : recorded.bodyText !== undefined ? bindings.substitute(recorded.bodyText) : ''
        res.end(out)
        return
      }
      res.flushHeaders()
      for (const event of recorded.sse) {
        await waitForCauses(event.t)
        if (options.realtime) {
          const due = started + event.t - performance.now()
          if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
        }
        if (res.destroyed) return
        if (event.event === 'retry' && event.retry !== undefined) {
          res.write(`retry: ${event.retry}\n\n`)
          continue
        }
        const data = event.data !== undefined ? JSON.stringify(bindings.substituteJson(event.data)) : bindings.substitute(event.dataText ?? '')
        let frame = ''
        if (event.event !== 'message') frame += `event: ${event.event}\n`
        if (event.id !== undefined) frame += `id: ${bindings.substitute(event.id)}\n`
        frame += `${data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`
        res.write(frame)
      }
      // A stream the server closed is closed; one the client closed stays open until the client goes.
      if (recorded.end.reason === 'complete') res.end()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new HarnessError('ERR_PORT_IN_USE', `Failed to listen on ${host}:${port}: the port is in use. Pass another --listen port.`) : error),
    )
    server.listen(port, host, () => resolve())
  })
  return {
    url: new URL(`http://${host}:${(server.address() as AddressInfo).port}`),
    errors,
    served: () => used.size,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
