/**
 * What a parity scenario gets: raw HTTP steps and real MCP SDK clients, all going through the
 * run's capture, plus `hibernate()` that means the same thing on every target (on-demand eviction
 * on the emulator, a real idle wait elsewhere). Free of vitest so the CLI can run it.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import { CreateMessageRequestSchema, ElicitRequestSchema, type CreateMessageRequest, type CreateMessageResult, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { ACCEPT_BOTH, asMessages, initializeRequest as initializeMessage, notification, readReply, rpc, tryJson, type RawReply, type RawRequestOptions, type RpcMessage } from '../helpers/jsonrpc.ts'
import { isHarnessError } from '../../core/errors.ts'
import type { Target } from '../helpers/targets.ts'
import { PARTIAL_HEADER, type Capture } from './capture.ts'

export { ACCEPT_BOTH, asMessages, notification, rpc, type RpcMessage }

/** The `Accept` value MCP Streamable HTTP requires on POST. */
/** The protocol version raw sessions negotiate. */
export const PROTOCOL_VERSION = '2025-06-18'
/** The first protocol revision of the stateless (modern) era. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28'
/** Upper bound of one raw exchange: a hung server fails the step, not the run. */
const STEP_TIMEOUT_MS = 15_000

export type Transport = 'streamable-http' | 'sse'
export const TRANSPORT_PATHS: Record<Transport, string> = { 'streamable-http': '/mcp', sse: '/sse' }

/** One whole answer to a raw step (the scenarios' RawReply). */
export type Reply = RawReply

/** How a raw step is sent (the scenarios' RawRequestOptions). */
export type RequestOptions = RawRequestOptions

export interface RawSession {
  readonly url: URL
  readonly sessionId: string
  readonly protocolVersion: string
  post(body: unknown, options?: Omit<RequestOptions, 'body'>): Promise<Reply>
  /** Calls a tool and returns its first text (throws on a JSON-RPC error). */
  text(name: string, args?: Record<string, unknown>): Promise<string>
}

export interface RawSseSession {
  readonly endpoint: URL
  readonly sessionId: string
  post(body: unknown): Promise<Reply>
  next(match: (message: RpcMessage) => boolean, timeoutMs?: number): Promise<RpcMessage>
  close(): void
}

/** An SSE answer read as it arrives (for resumption scenarios). */
export interface OpenStream {
  readonly status: number
  readonly events: EventSourceMessage[]
  waitFor(count: number, timeoutMs: number): Promise<EventSourceMessage[]>
  abort(): void
}

export interface SdkClientOptions {
  transport: Transport
  onElicit?: (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>
  onSample?: (request: CreateMessageRequest) => CreateMessageResult | Promise<CreateMessageResult>
}

export interface SdkClient {
  client: Client
  /** `streamable-http:<id>` / `sse:<id>`: the Durable Object McpAgent uses for this session. */
  objectName(): string
  sessionId(): string
  text(name: string, args?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

export interface ParityContext {
  readonly target: Target
  readonly baseUrl: URL
  /** Labels the exchanges that follow (shown in the diff). */
  step(label: string): void
  request(path: string | URL, options?: RequestOptions): Promise<Reply>
  openSession(path?: string): Promise<RawSession>
  openSseSession(path?: string): Promise<RawSseSession>
  /** `partial`: the scenario stops reading early on purpose, so only status and headers are compared. */
  openStream(session: RawSession, init: { method: 'POST' | 'GET'; body?: unknown; lastEventId?: string; partial?: boolean }): Promise<OpenStream>
  connect(options: SdkClientOptions): Promise<SdkClient>
  connectModern(path: string, mode?: 'auto' | { pin: string }): Promise<ModernClient>
  /**
   * Lets the session's Durable Object hibernate: `evict()` on the emulator, a real idle wait past
   * workerd's 10 s eviction elsewhere (no request may run meanwhile).
   */
  hibernate(objectName: string): Promise<void>
}

export function initializeRequest(id: string | number = 0, protocolVersion = PROTOCOL_VERSION): RpcMessage {
  return initializeMessage(id, protocolVersion, 'mcp-harness-parity')
}

/** The per-request `_meta` envelope of a 2026-07-28 request. */
export function modernEnvelope(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'mcp-harness-parity', version: '0.1.0' },
  }
}

/** The first text content of a JSON-RPC tool result. */
export function textOf(message: RpcMessage | undefined): string | undefined {
  return (message?.result?.content as { text?: string }[] | undefined)?.[0]?.text
}


export interface ContextOptions {
  target: Target
  capture: Capture
  /** How long `hibernate()` waits on targets without on-demand eviction (default 12 s: workerd evicts after 10 s idle). */
  idleWaitMs?: number
  /** Closers of clients and streams the scenario opened. */
  cleanup: (() => unknown)[]
}

/** Builds the context of one scenario run on one target. */
export function createContext({ target, capture, idleWaitMs = 12_000, cleanup }: ContextOptions): ParityContext {
  const base = target.baseUrl
  const fetchC = capture.fetch

  async function request(path: string | URL, options: RequestOptions = {}): Promise<Reply> {
    const method = options.method ?? (options.body === undefined ? 'GET' : 'POST')
    const headers: Record<string, string> = { accept: options.accept ?? ACCEPT_BOTH }
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    if (options.sessionId) headers['mcp-session-id'] = options.sessionId
    if (options.protocolVersion) headers['mcp-protocol-version'] = options.protocolVersion
    Object.assign(headers, options.headers)
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    const response = await fetchC(new URL(path, base), { method, headers, body, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) })
    return readReply(response)
  }

  const ctx: ParityContext = {
    target,
    baseUrl: base,
    step: (label) => capture.step(label),
    request,

    async openSession(path = '/mcp') {
      const url = new URL(path, base)
      const reply = await request(url, { body: initializeRequest(0) })
      const sessionId = reply.headers.get('mcp-session-id')
      const init = reply.messages.find((message) => message.id === 0)
      if (reply.status !== 200 || !sessionId || !init?.result) throw new Error(`initialize on ${url.pathname} answered ${reply.status} without a session: ${reply.text.slice(0, 200)}`)
      const protocolVersion = String(init.result.protocolVersion ?? PROTOCOL_VERSION)
      let nextId = 1
      const session: RawSession = {
        url,
        sessionId,
        protocolVersion,
        post: (body, options = {}) => request(url, { sessionId, protocolVersion, ...options, body }),
        async text(name, args = {}) {
          const id = nextId++ + 1000
          const answer = await session.post(rpc(id, 'tools/call', { name, arguments: args }))
          const message = answer.messages.find((m) => m.id === id)
          if (!message || message.error) throw new Error(`tools/call ${name} answered ${answer.status}: ${message?.error?.message ?? answer.text.slice(0, 200)}`)
          return textOf(message) ?? ''
        },
      }
      const initialized = await session.post(notification('notifications/initialized'))
      if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`)
      return session
    },

    async openSseSession(path = '/sse') {
      const abort = new AbortController()
      const response = await fetchC(new URL(path, base), { headers: { accept: 'text/event-stream' }, signal: abort.signal })
      if (response.status !== 200 || !response.body) throw new Error(`GET ${path} answered ${response.status}`)
      const queue: EventSourceMessage[] = []
      const waiters = new Set<() => void>()
      const parser = createParser({ onEvent: (event) => (queue.push(event), waiters.forEach((wake) => wake())) })
      void (async () => {
        try {
          const decoder = new TextDecoder()
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
        } catch {
          // Closed on purpose.
        }
      })()
      cleanup.push(() => abort.abort())
      const take = async <T>(pick: (event: EventSourceMessage) => T | undefined, timeoutMs: number, what: string): Promise<T> => {
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const index = queue.findIndex((event) => pick(event) !== undefined)
          if (index >= 0) return pick(queue.splice(index, 1)[0]!) as T
          const left = deadline - Date.now()
          if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} on ${path}`)
          await new Promise<void>((resolve) => {
            const wake = () => (waiters.delete(wake), clearTimeout(timer), resolve())
            const timer = setTimeout(wake, left)
            waiters.add(wake)
          })
        }
      }
      const endpoint = new URL(await take((event) => (event.event === 'endpoint' ? event.data : undefined), STEP_TIMEOUT_MS, 'the endpoint event'), base)
      return {
        endpoint,
        sessionId: endpoint.searchParams.get('sessionId') ?? '',
        post: (body) => request(endpoint, { body }),
        next: (match, timeoutMs = STEP_TIMEOUT_MS) =>
          take((event) => {
            const message = asMessages(tryJson(event.data))[0]
            return message && match(message) ? message : undefined
          }, timeoutMs, 'a matching message'),
        close: () => abort.abort(),
      }
    },

    async openStream(session, init) {
      const abort = new AbortController()
      const headers: Record<string, string> = { accept: init.method === 'GET' ? 'text/event-stream' : ACCEPT_BOTH, 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.protocolVersion }
      if (init.body) headers['content-type'] = 'application/json'
      if (init.lastEventId) headers['last-event-id'] = init.lastEventId
      if (init.partial) headers[PARTIAL_HEADER] = '1'
      const response = await fetchC(session.url, { method: init.method, headers, body: init.body ? JSON.stringify(init.body) : undefined, signal: abort.signal })
      cleanup.push(() => abort.abort())
      const events: EventSourceMessage[] = []
      let done = false
      const listeners = new Set<() => void>()
      const notify = () => listeners.forEach((listener) => listener())
      const parser = createParser({ onEvent: (event) => (events.push(event), notify()) })
      void (async () => {
        try {
          const decoder = new TextDecoder()
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
        } catch {
          // Aborted on purpose.
        }
        done = true
        notify()
      })()
      return {
        status: response.status,
        events,
        waitFor: (count, timeoutMs) =>
          new Promise((resolve) => {
            const check = () => {
              if (events.length < count && !done) return
              listeners.delete(check)
              clearTimeout(timer)
              resolve(events)
            }
            const timer = setTimeout(() => (listeners.delete(check), resolve(events)), timeoutMs)
            listeners.add(check)
            check()
          }),
        abort: () => abort.abort(),
      }
    },

    async connect(options) {
      const url = new URL(TRANSPORT_PATHS[options.transport], base)
      const transport = options.transport === 'sse' ? new SSEClientTransport(url, { fetch: fetchC }) : new StreamableHTTPClientTransport(url, { fetch: fetchC })
      const capabilities: Record<string, object> = {}
      if (options.onElicit) capabilities.elicitation = { form: {} }
      if (options.onSample) capabilities.sampling = {}
      const client = new Client({ name: 'mcp-harness-parity', version: '0.1.0' }, { capabilities })
      if (options.onElicit) client.setRequestHandler(ElicitRequestSchema, (r) => options.onElicit!(r))
      if (options.onSample) client.setRequestHandler(CreateMessageRequestSchema, (r) => options.onSample!(r))
      await client.connect(transport)
      cleanup.push(() => client.close().catch(() => {}))
      const sessionId = () =>
        transport instanceof StreamableHTTPClientTransport ? (transport.sessionId ?? '') : ((transport as unknown as { _endpoint?: URL })._endpoint?.searchParams.get('sessionId') ?? '')
      return {
        client,
        sessionId,
        objectName: () => `${options.transport}:${sessionId()}`,
        async text(name, args) {
          const result = await client.callTool({ name, arguments: args ?? {} })
          return (result.content as { type: string; text?: string }[] | undefined)?.find((c) => c.type === 'text')?.text ?? ''
        },
        close: () => client.close(),
      }
    },

    async connectModern(path, mode = { pin: MODERN_PROTOCOL_VERSION }) {
      const client = new ModernClient({ name: 'mcp-harness-parity', version: '0.1.0' }, { versionNegotiation: { mode } })
      await client.connect(new ModernTransport(new URL(path, base), { fetch: fetchC }))
      cleanup.push(() => client.close().catch(() => {}))
      return client
    },

    async hibernate(objectName) {
      if (target.emulator) {
        // workerd evicts only once the object's last request has ended: while one still runs, the
        // emulator refuses (ERR_EVICT_BLOCKED), so try again until it is idle, as the runtime would.
        const deadline = Date.now() + idleWaitMs
        for (;;) {
          try {
            await target.emulator.evict({ session: objectName, webSockets: 'hibernate' })
            return
          } catch (error) {
            if (!isHarnessError(error, 'ERR_EVICT_BLOCKED') || Date.now() > deadline) throw error
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
        }
      }
      // workerd evicts a Durable Object 10 s after its last event (DESIGN.md, measured): wait past it.
      await new Promise((resolve) => setTimeout(resolve, idleWaitMs))
    },
  }
  return ctx
}
