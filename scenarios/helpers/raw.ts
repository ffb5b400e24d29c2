import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { onTestFinished } from 'vitest'
import { ACCEPT_BOTH, asMessages, initializeRequest as initializeMessage, notification, readReply, rpc, tryJson, type RawReply, type RawRequestOptions, type RpcMessage } from './jsonrpc.ts'

export { ACCEPT_BOTH, notification, readReply, rpc, type RawReply, type RawRequestOptions, type RpcMessage }

/** The protocol version raw sessions negotiate unless told otherwise. */
export const RAW_PROTOCOL_VERSION = '2025-06-18'
/** Upper bound for any raw exchange: a hung server fails the step instead of the whole run. */
const RAW_TIMEOUT_MS = 15_000

/**
 * Sends one raw HTTP request with chosen headers and reads the whole answer: for protocol edges
 * the SDK client would never produce.
 * @example const reply = await rawRequest(new URL('/mcp', base), { body: '{"jsonrpc":', sessionId })
 */
export async function rawRequest(url: URL | string, options: RawRequestOptions = {}): Promise<RawReply> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST')
  const headers: Record<string, string> = { accept: options.accept ?? ACCEPT_BOTH }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.sessionId) headers['mcp-session-id'] = options.sessionId
  if (options.protocolVersion) headers['mcp-protocol-version'] = options.protocolVersion
  Object.assign(headers, options.headers)
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(RAW_TIMEOUT_MS) })
  return readReply(response)
}

/** An `initialize` request as a 2025-era client sends it. */
export function initializeRequest(id: string | number = 0, protocolVersion = RAW_PROTOCOL_VERSION): RpcMessage {
  return initializeMessage(id, protocolVersion, 'mcp-harness-raw')
}

/** A Streamable HTTP session driven by hand: initialized, with its id and version on every step. */
export interface RawSession {
  readonly url: URL
  readonly sessionId: string
  readonly protocolVersion: string
  /** The initialize result. */
  readonly initialize: RpcMessage
  /** POSTs a body within the session (headers may override the session's). */
  post(body: unknown, options?: Omit<RawRequestOptions, 'body'>): Promise<RawReply>
  /** Calls one method and returns its result (throws on a JSON-RPC error). */
  call(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>
  /** DELETE the session. */
  terminate(): Promise<RawReply>
}

/**
 * Opens a Streamable HTTP session by hand (`initialize` + `notifications/initialized`).
 * @example const session = await openRawSession(target.baseUrl); await session.call('ping')
 */
export async function openRawSession(base: URL, path = '/mcp', protocolVersion = RAW_PROTOCOL_VERSION): Promise<RawSession> {
  const url = new URL(path, base)
  const reply = await rawRequest(url, { body: initializeRequest(0, protocolVersion) })
  const sessionId = reply.headers.get('mcp-session-id')
  const initialize = reply.messages.find((message) => message.id === 0)
  if (reply.status !== 200 || !sessionId || !initialize?.result) {
    throw new Error(`initialize on ${url.href} answered ${reply.status} without a session: ${reply.text.slice(0, 300)}`)
  }
  const negotiated = String(initialize.result.protocolVersion ?? protocolVersion)
  let nextId = 1
  const session: RawSession = {
    url,
    sessionId,
    protocolVersion: negotiated,
    initialize,
    post: (body, options = {}) => rawRequest(url, { sessionId, protocolVersion: negotiated, ...options, body }),
    async call(method, params) {
      const id = nextId++
      const answer = await session.post(rpc(id, method, params))
      const message = answer.messages.find((m) => m.id === id)
      if (!message) throw new Error(`${method} answered ${answer.status} without a response for id ${id}: ${answer.text.slice(0, 300)}`)
      if (message.error) throw new Error(`${method} failed: ${message.error.code} ${message.error.message}`)
      return message.result ?? {}
    },
    terminate: () => rawRequest(url, { method: 'DELETE', sessionId, protocolVersion: negotiated }),
  }
  const initialized = await session.post(notification('notifications/initialized'))
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}: ${initialized.text.slice(0, 300)}`)
  return session
}

/** A legacy SSE session driven by hand: the GET stream open, POSTs to the endpoint it announced. */
export interface RawSseSession {
  readonly endpoint: URL
  readonly sessionId: string
  /** POSTs one message to the session's endpoint (its answer arrives on the stream). */
  post(body: unknown, options?: Omit<RawRequestOptions, 'body'>): Promise<RawReply>
  /** Waits for the next stream event whose JSON data matches. */
  next(match: (message: RpcMessage) => boolean, timeoutMs?: number): Promise<RpcMessage>
  close(): void
}

/**
 * Opens a legacy SSE session by hand: `GET /sse`, then waits for the `endpoint` event.
 * @example const sse = await openRawSseSession(target.baseUrl); await sse.post(rpc(1, 'ping'))
 */
export async function openRawSseSession(base: URL, path = '/sse'): Promise<RawSseSession> {
  const abort = new AbortController()
  const response = await fetch(new URL(path, base), { headers: { accept: 'text/event-stream' }, signal: abort.signal })
  if (response.status !== 200 || !response.body) throw new Error(`GET ${path} answered ${response.status}`)
  const queue: EventSourceMessage[] = []
  const waiters = new Set<() => void>()
  const parser = createParser({
    onEvent: (event) => {
      queue.push(event)
      for (const wake of waiters) wake()
    },
  })
  const decoder = new TextDecoder()
  void (async () => {
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
    } catch {
      // Closed by close(): nothing to report.
    }
  })()
  const take = async <T>(pick: (event: EventSourceMessage) => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = queue.findIndex((event) => pick(event) !== undefined)
      if (index >= 0) return pick(queue.splice(index, 1)[0]!) as T
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} on ${path}`)
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(wake, left)
        waiters.add(wake)
      })
    }
  }
  try {
    onTestFinished(() => abort.abort())
  } catch {
    // Outside a test (beforeAll): the caller closes it.
  }
  const endpoint = new URL(await take((event) => (event.event === 'endpoint' ? event.data : undefined), RAW_TIMEOUT_MS, 'the endpoint event'), base)
  return {
    endpoint,
    sessionId: endpoint.searchParams.get('sessionId') ?? '',
    post: (body, options = {}) => rawRequest(endpoint, { ...options, body }),
    next: (match, timeoutMs = RAW_TIMEOUT_MS) =>
      take((event) => {
        const message = asMessages(tryJson(event.data))[0]
        return message && match(message) ? message : undefined
      }, timeoutMs, 'a matching message'),
    close: () => abort.abort(),
  }
}
