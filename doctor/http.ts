import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** The `Accept` value MCP Streamable HTTP requires on POST. */
export const ACCEPT_BOTH = 'application/json, text/event-stream'
/** The 2025-era protocol version the doctor's sessions ask for. */
export const DOCTOR_PROTOCOL_VERSION = '2025-06-18'

/** A JSON-RPC message as read from a body or an SSE event. */
export interface RpcMessage {
  jsonrpc: '2.0'
  id?: string | number | null
  method?: string
  result?: Record<string, unknown>
  error?: { code: number; message: string }
}

/** One answer as the doctor keeps it: status, headers, body text, JSON-RPC messages in it. */
export interface Probe {
  method: string
  path: string
  status: number
  headers: Headers
  text: string
  messages: RpcMessage[]
  /** The network error, when there was no answer. */
  error?: string
}

function asMessages(text: string): RpcMessage[] {
  try {
    const value = JSON.parse(text) as unknown
    const list = Array.isArray(value) ? value : [value]
    return list.filter((item): item is RpcMessage => !!item && typeof item === 'object' && (item as RpcMessage).jsonrpc === '2.0')
  } catch {
    return []
  }
}

/** Every JSON-RPC message of a body: JSON (one or a batch) or each SSE event's data. */
export function messagesOf(contentType: string, text: string): RpcMessage[] {
  if (!contentType.includes('text/event-stream')) return asMessages(text)
  const events: EventSourceMessage[] = []
  createParser({ onEvent: (event) => events.push(event) }).feed(text)
  return events.flatMap((event) => asMessages(event.data))
}

/** One line of evidence for a probe: `POST /mcp → 400 text/plain {"error":...}`. */
export function describe(probe: Probe, note = ''): string {
  if (probe.error) return `${probe.method} ${probe.path} → no answer (${probe.error})${note ? ` ${note}` : ''}`
  const type = probe.headers.get('content-type')?.split(';')[0] ?? 'no content-type'
  const body = probe.text.replace(/\s+/g, ' ').trim().slice(0, 140)
  return `${probe.method} ${probe.path} → ${probe.status} ${type}${body ? ` ${body}` : ''}${note ? ` ${note}` : ''}`
}

/** Sends one request and reads the whole answer, bounded in time; a network error becomes `error`. */
export async function probe(base: URL, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}, timeoutMs = 5_000): Promise<Probe> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST')
  const url = new URL(path, base)
  const shown = url.pathname + url.search.replace(/sessionId=[^&]+/, 'sessionId=…')
  try {
    const response = await fetch(url, { method, headers: init.headers, body: init.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    return { method, path: shown, status: response.status, headers: response.headers, text, messages: messagesOf(response.headers.get('content-type') ?? '', text) }
  } catch (error) {
    return { method, path: shown, status: 0, headers: new Headers(), text: '', messages: [], error: (error as Error).message }
  }
}

/** An `initialize` request body of a 2025-era client. */
export function initializeBody(id = 0): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: DOCTOR_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-harness-doctor', version: '0.1.0' } } })
}

/** A legacy SSE stream held open: the announced message endpoint, the events seen, and close(). */
export interface SseStream {
  status: number
  headers: Headers
  /** The `endpoint` event's URL, when one arrived. */
  endpoint?: URL
  /** Waits for a JSON-RPC message with this id on the stream. */
  next(id: number, timeoutMs: number): Promise<RpcMessage | undefined>
  close(): void
}

/** Opens `GET <path>` as a legacy SSE client does and waits (bounded) for the `endpoint` event. */
export async function openSse(base: URL, path: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<SseStream | Probe> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  let response: Response
  try {
    response = await fetch(new URL(path, base), { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal })
  } catch (error) {
    clearTimeout(timer)
    return { method: 'GET', path, status: 0, headers: new Headers(), text: '', messages: [], error: (error as Error).message }
  }
  clearTimeout(timer)
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('text/event-stream') || !response.body) {
    const text = await response.text().catch(() => '')
    return { method: 'GET', path, status: response.status, headers: response.headers, text, messages: messagesOf(response.headers.get('content-type') ?? '', text) }
  }
  const events: EventSourceMessage[] = []
  const wakers = new Set<() => void>()
  const parser = createParser({
    onEvent: (event) => {
      events.push(event)
      for (const wake of wakers) wake()
    },
  })
  const decoder = new TextDecoder()
  void (async () => {
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
    } catch {
      // Closed by close().
    }
  })()
  const wait = async <T>(pick: () => T | undefined, ms: number): Promise<T | undefined> => {
    const deadline = Date.now() + ms
    for (;;) {
      const found = pick()
      if (found !== undefined || Date.now() >= deadline) return found
      await new Promise<void>((resolve) => {
        const wake = () => {
          wakers.delete(wake)
          clearTimeout(t)
          resolve()
        }
        const t = setTimeout(wake, deadline - Date.now())
        wakers.add(wake)
      })
    }
  }
  const data = await wait(() => events.find((event) => event.event === 'endpoint')?.data, timeoutMs)
  return {
    status: response.status,
    headers: response.headers,
    endpoint: data === undefined ? undefined : new URL(data, new URL(path, base)),
    next: (id, ms) => wait(() => events.flatMap((event) => asMessages(event.data)).find((message) => message.id === id), ms),
    close: () => abort.abort(),
  }
}

/** True when `value` is an open SSE stream rather than a failed probe. */
export function isStream(value: SseStream | Probe): value is SseStream {
  return 'close' in value
}
