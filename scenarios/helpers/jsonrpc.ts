// JSON-RPC messages and whole HTTP answers, as the raw steps of scenarios and parity runs build and
// read them. Free of vitest, so the CLI (parity) can load it.
import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** The `Accept` value MCP Streamable HTTP requires on POST. */
export const ACCEPT_BOTH = 'application/json, text/event-stream'

/** A JSON-RPC message as it travels (request, notification, result or error). */
export type RpcMessage = {
  jsonrpc: '2.0'
  id?: string | number | null
  method?: string
  params?: Record<string, unknown>
  result?: Record<string, unknown>
  error?: { code: number; message: string; data?: unknown }
}

/** How a raw request is sent: method, headers, session id, protocol version, Accept and body. */
export interface RawRequestOptions {
  method?: string
  headers?: Record<string, string>
  /** Sets `mcp-session-id`. */
  sessionId?: string
  /** Sets `mcp-protocol-version`; `null` leaves it out (overriding a session's). */
  protocolVersion?: string | null
  /** `Accept` (default: JSON and event-stream). */
  accept?: string
  /** A body to send: a string goes verbatim (malformed JSON tests), anything else as JSON. */
  body?: unknown
}

/** One HTTP answer to a raw step: status, headers, the body, and the JSON-RPC messages in it. */
export interface RawReply {
  status: number
  headers: Headers
  contentType: string
  text: string
  /** SSE events, in order, when the answer was an event stream. */
  events: EventSourceMessage[]
  /** Every JSON-RPC message of the body: the JSON body (one or a batch) or each SSE event's data. */
  messages: RpcMessage[]
}

/** Reads a whole answer (JSON or a finite SSE stream) into a RawReply. */
export async function readReply(response: Response): Promise<RawReply> {
  const text = await response.text()
  const contentType = response.headers.get('content-type') ?? ''
  const events: EventSourceMessage[] = []
  let messages: RpcMessage[] = []
  if (contentType.includes('text/event-stream')) {
    const parser = createParser({ onEvent: (event) => events.push(event) })
    parser.feed(text)
    messages = events.flatMap((event) => asMessages(tryJson(event.data)))
  } else {
    // McpAgent labels some JSON-RPC error bodies text/plain: parse by content, not by label.
    messages = asMessages(tryJson(text))
  }
  return { status: response.status, headers: response.headers, contentType, text, events, messages }
}

export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The JSON-RPC messages in a parsed body (one message or a batch); anything else is dropped. */
export function asMessages(value: unknown): RpcMessage[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value]
  return list.filter((item): item is RpcMessage => !!item && typeof item === 'object' && (item as RpcMessage).jsonrpc === '2.0')
}

/** Builds a JSON-RPC request. */
export function rpc(id: string | number, method: string, params?: Record<string, unknown>): RpcMessage {
  return { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }
}

/** Builds a JSON-RPC notification. */
export function notification(method: string, params?: Record<string, unknown>): RpcMessage {
  return { jsonrpc: '2.0', method, ...(params ? { params } : {}) }
}

/** An `initialize` request as a 2025-era client sends it. */
export function initializeRequest(id: string | number, protocolVersion: string, clientName: string): RpcMessage {
  return rpc(id, 'initialize', { protocolVersion, capabilities: {}, clientInfo: { name: clientName, version: '0.1.0' } })
}
