/**
 * Normalizes a captured run so that two targets serving the same Worker compare equal: ids become
 * placeholders in order of first appearance, the target's origin becomes `<origin>`, timing is not
 * captured at all, only the headers a client acts on are kept, stack frames are dropped, and
 * JSON-RPC responses that arrive together (a batch) are compared as a set.
 */
import type { CapturedExchange } from './capture.ts'

/** Response headers a client acts on; everything else (date, server, hop-by-hop, lengths) is ignored. */
export const COMPARED_RESPONSE_HEADERS = ['content-type', 'mcp-session-id', 'www-authenticate', 'location'] as const
/** Request headers worth showing (they carry what the step was about). */
const SHOWN_REQUEST_HEADERS = ['mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'mcp-method', 'mcp-name', 'content-type', 'accept', 'origin']

export interface NormalizedEvent {
  event?: string
  id?: string
  data: unknown
}

export interface NormalizedExchange {
  /** `POST /mcp tools/call`: how the diff names the exchange. */
  label: string
  step?: string
  request: { method: string; path: string; query?: string; headers: Record<string, string>; body?: unknown }
  response?: { status: number; headers: Record<string, string>; body?: unknown; events?: NormalizedEvent[]; ended?: 'end' | 'client-closed'; partial?: true }
  error?: string
}

export interface NormalizedRun {
  outcome: 'pass' | 'fail'
  error?: string
  exchanges: NormalizedExchange[]
  /** Wall time of the run: reported, never compared. */
  durationMs?: number
}

/** Replaces run-specific values by stable placeholders; one instance per run. */
export class Placeholders {
  readonly #ids = new Map<string, string>()
  readonly #streams = new Map<string, string>()
  readonly origin: string
  constructor(origin: string) {
    this.origin = origin
  }

  /** A session / object / token-like id: `<id-1>`, `<id-2>`, ... in order of first appearance. */
  id(value: string): string {
    let placeholder = this.#ids.get(value)
    if (!placeholder) this.#ids.set(value, (placeholder = `<id-${this.#ids.size + 1}>`))
    return placeholder
  }

  /** An SSE event id `<stream>:<seq>`: the stream part becomes `<stream-N>`, the sequence stays. */
  eventId(value: string): string {
    const match = /^(.*):(\d+)$/.exec(value)
    if (!match) return this.text(value)
    let stream = this.#streams.get(match[1]!)
    if (!stream) this.#streams.set(match[1]!, (stream = `<stream-${this.#streams.size + 1}>`))
    return `${stream}:${match[2]}`
  }

  /** Free text: origin, long hex ids, UUIDs, ISO times, and stack frames normalized. */
  text(value: string): string {
    let out = value
    if (this.origin) out = out.split(this.origin).join('<origin>')
    out = out
      .replace(/\b[0-9a-f]{32,}\b/gi, (hex) => this.id(hex.toLowerCase()))
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, (uuid) => this.id(uuid.toLowerCase()))
      .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g, '<time>')
      // Stack frames name bundle files and line numbers that differ between two builds of one Worker.
      .replace(/\n\s+at [^\n]*/g, '')
      .replace(/\(?(?:file|https?):\/\/[^\s)]+:\d+:\d+\)?/g, '<frame>')
    return out
  }

  /** Any JSON value, recursively. */
  json(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value)
    if (Array.isArray(value)) return value.map((item) => this.json(item))
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, this.json((value as Record<string, unknown>)[key])]),
      )
    }
    return value
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const isResponse = (value: unknown): value is { id: string | number } =>
  !!value && typeof value === 'object' && 'id' in value && ('result' in value || 'error' in value) && !('method' in value)

/** Sorts each run of consecutive JSON-RPC responses by id: independent answers compare as a set. */
export function responsesAsSets<T>(items: T[], message: (item: T) => unknown): T[] {
  const out: T[] = []
  let run: T[] = []
  const flush = () => {
    run.sort((a, b) => String((message(a) as { id: unknown }).id).localeCompare(String((message(b) as { id: unknown }).id)))
    out.push(...run)
    run = []
  }
  for (const item of items) {
    if (isResponse(message(item))) run.push(item)
    else {
      flush()
      out.push(item)
    }
  }
  flush()
  return out
}

function body(text: string | undefined, p: Placeholders): unknown {
  if (text === undefined || text === '') return undefined
  const json = parseJson(text)
  if (json === undefined) return p.text(text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text)
  return p.json(Array.isArray(json) ? responsesAsSets(json, (item) => item) : json)
}

function rpcLabel(text: string | undefined): string {
  const json = parseJson(text ?? '')
  const list = Array.isArray(json) ? json : [json]
  const methods = list.map((item) => (item && typeof item === 'object' && 'method' in item ? String((item as { method: unknown }).method) : undefined)).filter(Boolean)
  if (Array.isArray(json)) return ` [${methods.join(', ')}]`
  return methods.length ? ` ${methods[0]}` : ''
}

/** Normalizes one exchange with the run's placeholders. */
export function normalizeExchange(exchange: CapturedExchange, p: Placeholders): NormalizedExchange {
  const { request, response } = exchange
  const headers: Record<string, string> = {}
  for (const name of SHOWN_REQUEST_HEADERS) {
    const value = request.headers[name]
    if (value === undefined) continue
    headers[name] = name === 'mcp-session-id' ? p.id(value) : name === 'last-event-id' ? p.eventId(value) : p.text(value)
  }
  const query = request.query ? p.text(request.query) : undefined
  const out: NormalizedExchange = {
    label: `${request.method} ${request.path}${rpcLabel(request.body)}`,
    ...(exchange.step ? { step: exchange.step } : {}),
    request: { method: request.method, path: request.path, ...(query ? { query } : {}), headers, ...(request.body ? { body: body(request.body, p) } : {}) },
  }
  if (response) {
    const kept: Record<string, string> = {}
    for (const [name, value] of Object.entries(response.headers)) {
      if (!(COMPARED_RESPONSE_HEADERS as readonly string[]).includes(name) && !name.startsWith('access-control-')) continue
      kept[name] = name === 'mcp-session-id' ? p.id(value) : name === 'content-type' ? value.toLowerCase().replace(/\s+/g, '') : p.text(value)
    }
    const events = response.events?.map((event) => {
      const data = parseJson(event.data)
      return { ...(event.event ? { event: event.event } : {}), ...(event.id ? { id: p.eventId(event.id) } : {}), data: data === undefined ? p.text(event.data) : p.json(data) } as NormalizedEvent
    })
    out.response = {
      status: response.status,
      headers: Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b))),
      ...(response.body !== undefined && response.body !== '' ? { body: body(response.body, p) } : {}),
      // A stream read only in part: how many events arrived before the client stopped is timing.
      ...(events && !exchange.partial ? { events: responsesAsSets(events, (event) => event.data), ended: response.ended === 'end' ? 'end' : 'client-closed' } : {}),
      ...(exchange.partial ? { partial: true } : {}),
    }
  }
  if (exchange.error) out.error = p.text(exchange.error)
  return out
}

/** Normalizes a whole run: outcome, error text and every exchange. */
export function normalizeRun(run: { outcome: 'pass' | 'fail'; error?: string; exchanges: CapturedExchange[] }, origin: string): NormalizedRun {
  const p = new Placeholders(origin.replace(/\/$/, ''))
  // Exchanges first: ids get their placeholders in wire order, so the error text reuses them.
  const exchanges = run.exchanges.map((exchange) => normalizeExchange(exchange, p))
  return { outcome: run.outcome, ...(run.error ? { error: p.text(run.error) } : {}), exchanges }
}
