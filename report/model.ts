/**
 * Turns what a report can be drawn from (a transcript, a cassette, a cassette plus replay mismatches,
 * a parity result) into one list of drawn events: who sent what to whom, or a mark on one lane.
 * Everything a drawn event carries is redacted here, before any HTML is written.
 */
import { applyHeaderRedactors, applyJsonRedactors, defaultRedactors, type Redactor } from '../core/redact/index.ts'
import { HarnessError } from '../core/errors.ts'
import type { TranscriptEvent } from '../core/transcript.ts'
import { migrate } from '../recordings/format/migrate.ts'
import { CassetteSchema, type Cassette } from '../recordings/format/schema.ts'

/** The lanes of the sequence diagram, left to right. */
export const LANES = ['client', 'front', 'worker', 'hop', 'do', 'upstream'] as const
export type Lane = (typeof LANES)[number]
export const LANE_TITLES: Record<Lane, string> = { client: 'client', front: 'front door', worker: 'Worker', hop: 'hop', do: 'Durable Object', upstream: 'upstream' }

/** What kind of mark a drawn event is, for its colour and its legend entry. */
export type EventKind = 'message' | 'sse' | 'end' | 'eviction' | 'wake' | 'crash' | 'fault' | 'timeout' | 'cors' | 'error' | 'note' | 'mismatch'

/** A replay mismatch as `replay()` reports it (structurally: the report reads only these fields). */
export interface ReportMismatch {
  interaction: number
  request?: string
  where: string
  difference: { path: string; matcher: string; expected: unknown; received: unknown }
}

/** A parity result as `mcp-harness parity --json` prints it (the fields the report reads). */
export interface ParityResultInput {
  reference: string
  worker?: string
  targets: { name: string; status: string; reason?: string }[]
  scenarios: { id: string; suite?: string; cells: Record<string, { state: string; reason?: string; difference?: { exchange: string; fields: string[]; left: unknown; right: unknown; outcomes?: [string, string] } }> }[]
}

export interface DrawnEvent {
  seq: number
  t: number
  /** The transcript layer (client, hop, lifecycle, upstream, harness): what the layer filter uses. */
  layer: string
  type: string
  kind: EventKind
  /** An arrow from one lane to another, or a mark on `from` when `to` is absent. */
  from: Lane
  to?: Lane
  label: string
  session?: string
  /** Headers and body and every other field, redacted: shown when the event is clicked. */
  detail: Record<string, unknown>
  /** Recorded vs received, shown side by side. */
  mismatch?: { title: string; recorded: unknown; received: unknown }
}

export interface ReportModel {
  source: 'transcript' | 'cassette' | 'parity'
  title: string
  events: DrawnEvent[]
  sessions: string[]
  /** A few lines about the input (cassette meta, parity targets). */
  summary: string[]
}

const redactors: Redactor[] = defaultRedactors

/** Redacts every header map and JSON value of an event's fields. */
function redactDetail(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'headers' && value && typeof value === 'object') out[key] = applyHeaderRedactors(value as Record<string, string>, redactors)
    else out[key] = applyJsonRedactors(value, redactors, `$.${key}`, key)
  }
  return out
}

function rpcList(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter((m) => m && typeof m === 'object') as Record<string, unknown>[]
  return value && typeof value === 'object' ? [value as Record<string, unknown>] : []
}

/** `tools/call #3`, `result #3`, `error #3` for a JSON-RPC message or batch. */
function rpcLabel(value: unknown): string {
  const parts = rpcList(value).map((m) => {
    const id = m.id !== undefined && m.id !== null ? ` #${String(m.id)}` : ''
    if (typeof m.method === 'string') return `${m.method}${id}`
    if ('error' in m) return `error${id}`
    if ('result' in m) return `result${id}`
    return '?'
  })
  return parts.length > 3 ? `${parts.slice(0, 3).join(', ')} +${parts.length - 3}` : parts.join(', ')
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined)

/** Which lane a harness or lifecycle mark belongs on, and how it is drawn. */
function markOf(event: { layer: string; type: string }): { lane: Lane; kind: EventKind } {
  const { layer, type } = event
  if (layer === 'lifecycle') {
    if (type === 'evicted') return { lane: 'do', kind: 'eviction' }
    if (type === 'woke') return { lane: 'do', kind: 'wake' }
    if (type === 'crashed' || type === 'restarted') return { lane: 'do', kind: 'crash' }
    return { lane: 'do', kind: 'note' }
  }
  if (type.startsWith('cors:')) return { lane: 'front', kind: 'cors' }
  if (type.startsWith('timeout:')) return { lane: 'worker', kind: 'timeout' }
  if (type === 'fault') return { lane: 'hop', kind: 'fault' }
  if (type === 'uncaught-exception') return { lane: 'worker', kind: 'error' }
  if (type.startsWith('session:')) return { lane: 'do', kind: 'note' }
  if (layer === 'upstream') return { lane: 'upstream', kind: 'note' }
  if (layer === 'hop') return { lane: 'hop', kind: 'note' }
  return { lane: 'worker', kind: 'note' }
}

function markLabel(event: Record<string, unknown>): string {
  const type = String(event.type)
  const extra = str(event.why) ?? str(event.reason) ?? str(event.action) ?? str(event.stage) ?? str(event.level) ?? str(event.message)
  const cors = type === 'cors:preflight' ? (event.ok === false ? 'blocked' : 'ok') : undefined
  const text = [type, cors, extra].filter(Boolean).join(' · ')
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

/** One transcript event as drawn. `sessions` maps a client exchange to its MCP session id. */
function drawTranscriptEvent(event: TranscriptEvent, sessions: Map<number, string>): Omit<DrawnEvent, 'seq'> {
  const { seq: _seq, t, layer, type, ...rest } = event
  const detail = redactDetail({ type, ...rest })
  const session = str(event.session) ?? (event.exchange !== undefined ? sessions.get(event.exchange) : undefined)
  const base = { t, layer, type, detail, ...(session ? { session } : {}) }
  if (layer === 'client') {
    if (type === 'request') return { ...base, kind: 'message', from: 'client', to: 'front', label: `${String(event.method)} ${String(event.path)}${rpcLabel(event.body) ? ` ${rpcLabel(event.body)}` : ''}` }
    if (type === 'response') {
      const status = Number(event.status)
      return { ...base, kind: status >= 400 ? 'error' : 'message', from: 'front', to: 'client', label: `${status}${str((event.headers as Record<string, string> | undefined)?.['content-type']) ? ` ${String((event.headers as Record<string, string>)['content-type']).split(';')[0]}` : ''}` }
    }
    if (type === 'sse') return { ...base, kind: 'sse', from: 'front', to: 'client', label: `SSE ${String(event.event ?? 'message')}${rpcLabel(event.data) ? ` ${rpcLabel(event.data)}` : ''}` }
    if (type === 'ws-message') return { ...base, kind: 'message', from: event.direction === 'server->client' ? 'front' : 'client', to: event.direction === 'server->client' ? 'client' : 'front', label: `WS ${rpcLabel(event.data) || 'message'}` }
    if (type === 'end') return { ...base, kind: 'end', from: 'front', label: `end · ${String(event.reason ?? '')}` }
    return { ...base, kind: 'note', from: 'front', label: type }
  }
  if (layer === 'hop') {
    const methods = Array.isArray(event.methods) ? (event.methods as string[]).join(', ') : ''
    const toDo = event.direction === 'worker->do' || type === 'upgrade' || type === 'rpc'
    if (type === 'upgrade' || type === 'frame' || type === 'rpc' || type === 'upgrade-result' || type === 'rpc-result' || type === 'close') {
      const label = type === 'upgrade-result' ? `upgrade ${String(event.status)}` : type === 'rpc' ? `rpc ${String(event.method)}` : `${type}${methods ? ` ${methods}` : ''}`
      const kind: EventKind = event.fault ? 'fault' : type === 'upgrade-result' && Number(event.status) !== 101 ? 'error' : 'message'
      return { ...base, kind, from: toDo ? 'worker' : 'do', to: toDo ? 'do' : 'worker', label }
    }
  }
  if (layer === 'upstream' && (type === 'request' || type === 'response')) {
    const status = Number(event.status)
    if (type === 'request') return { ...base, kind: 'message', from: 'worker', to: 'upstream', label: `${String(event.method)} ${String(event.url ?? '').split('?')[0]}` }
    return { ...base, kind: status >= 400 ? 'error' : 'message', from: 'upstream', to: 'worker', label: `${status}${event.provider ? ` ${String(event.provider)}` : ''}` }
  }
  const mark = markOf(event)
  return { ...base, kind: mark.kind, from: mark.lane, label: markLabel(event) }
}

/** MCP session per client exchange: the `mcp-session-id` its request sent or its response assigned. */
function sessionsOf(events: readonly TranscriptEvent[]): Map<number, string> {
  const out = new Map<number, string>()
  for (const event of events) {
    if (event.layer !== 'client' || event.exchange === undefined) continue
    const id = (event.headers as Record<string, string> | undefined)?.['mcp-session-id']
    if (id && !out.has(event.exchange)) out.set(event.exchange, id)
  }
  // Legacy SSE: the session id travels in the query (`?sessionId=`).
  for (const event of events) {
    if (event.layer !== 'client' || event.type !== 'request' || event.exchange === undefined || out.has(event.exchange)) continue
    const match = /[?&]sessionId=([^&]+)/.exec(String(event.query ?? ''))
    if (match) out.set(event.exchange, decodeURIComponent(match[1]!))
  }
  return out
}

/** A transcript as `emulator.transcript.events` holds it (or `/v1/transcript` returns it). */
export function transcriptModel(events: readonly TranscriptEvent[], title = 'transcript'): ReportModel {
  const sessions = sessionsOf(events)
  const drawn = events.map((event, index) => ({ seq: typeof event.seq === 'number' ? event.seq : index, ...drawTranscriptEvent(event, sessions) }))
  return { source: 'transcript', title, events: drawn, sessions: [...new Set(drawn.map((e) => e.session).filter((s): s is string => Boolean(s)))], summary: [`${events.length} transcript events`] }
}

/**
 * A cassette as transcript events: per interaction a request, a response, each SSE event and the end;
 * then its platform events, all ordered by time.
 */
export function cassetteEvents(cassette: Cassette): TranscriptEvent[] {
  const items: { t: number; layer: string; type: string; [key: string]: unknown }[] = []
  for (const interaction of cassette.interactions) {
    const { request, response } = interaction
    const exchange = interaction.id
    const query = new URLSearchParams(request.query).toString()
    items.push({ t: interaction.t, layer: 'client', type: 'request', exchange, method: request.method, path: request.path, query: query ? `?${query}` : '', headers: request.headers, ...(request.body !== undefined ? { body: request.body } : {}), ...(request.bodyText !== undefined ? { bodyText: request.bodyText } : {}) })
    if (!response) continue
    const firstSse = response.sse?.[0]?.t
    items.push({ t: Math.min(firstSse ?? response.end.t, response.end.t), layer: 'client', type: 'response', exchange, status: response.status, headers: response.headers, ...(response.body !== undefined ? { body: response.body } : {}), ...(response.bodyText !== undefined ? { bodyText: response.bodyText } : {}) })
    for (const sse of response.sse ?? []) items.push({ layer: 'client', type: 'sse', exchange, ...sse })
    items.push({ t: response.end.t, layer: 'client', type: 'end', exchange, reason: response.end.reason })
  }
  for (const event of cassette.events) items.push({ t: event.t, layer: event.layer, type: event.type, ...event.detail })
  // Stable sort: events of one exchange keep their order when their times tie.
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => a.item.t - b.item.t || a.index - b.index)
    .map(({ item }, seq) => ({ ...item, seq }) as TranscriptEvent)
}

/** A cassette, optionally with the mismatches a replay of it found. */
export function cassetteModel(cassette: Cassette, mismatches: ReportMismatch[] = []): ReportModel {
  const events = cassetteEvents(cassette)
  const model = transcriptModel(events, `${cassette.meta.client} · ${cassette.meta.scenario}`)
  for (const mismatch of mismatches) {
    // The drawn event the mismatch is about: the nth SSE event, else the response of that interaction.
    const sseIndex = /sse event (\d+)/.exec(mismatch.where)
    const ofExchange = model.events.filter((e) => e.layer === 'client' && e.detail.exchange === mismatch.interaction)
    const target = (sseIndex ? ofExchange.filter((e) => e.type === 'sse')[Number(sseIndex[1]) - 1] : undefined) ?? ofExchange.find((e) => e.type === 'response') ?? ofExchange[0]
    if (!target) continue
    target.kind = 'mismatch'
    target.mismatch = {
      title: `#${mismatch.interaction} ${mismatch.request ?? ''} · ${mismatch.where} · ${mismatch.difference.path} (${mismatch.difference.matcher})`,
      recorded: applyJsonRedactors(mismatch.difference.expected, redactors),
      received: applyJsonRedactors(mismatch.difference.received, redactors),
    }
  }
  model.source = 'cassette'
  model.summary = [
    `client ${cassette.meta.client}, scenario ${cassette.meta.scenario}, ${cassette.meta.transport}, recorded with ${cassette.meta.recordedWith}`,
    `${cassette.interactions.length} interactions, ${cassette.events.length} platform events`,
    ...(mismatches.length ? [`${mismatches.length} replay mismatch(es)`] : []),
    ...(cassette.meta.notes ? [cassette.meta.notes] : []),
  ]
  return model
}

/** A parity result: one drawn event per difference between the reference and another target. */
export function parityModel(result: ParityResultInput): ReportModel {
  const events: DrawnEvent[] = []
  for (const scenario of result.scenarios) {
    for (const [target, cell] of Object.entries(scenario.cells)) {
      if (!cell.difference) continue
      const d = cell.difference
      events.push({
        seq: events.length,
        t: events.length,
        layer: 'client',
        type: 'parity-difference',
        kind: 'mismatch',
        from: 'front',
        to: 'client',
        label: `${scenario.id} · ${target} · ${d.exchange} (${d.fields.join(', ')})${cell.state === 'baselined' ? ' · baselined' : ''}`,
        session: scenario.id,
        detail: redactDetail({ scenario: scenario.id, target, state: cell.state, reason: cell.reason, outcomes: d.outcomes, fields: d.fields }),
        mismatch: { title: `${scenario.id}: ${result.reference} (recorded) vs ${target} (received) at ${d.exchange}`, recorded: applyJsonRedactors(d.left, redactors), received: applyJsonRedactors(d.right, redactors) },
      })
    }
  }
  const ran = result.targets.map((t) => `${t.name}: ${t.status}${t.reason ? ` (${t.reason})` : ''}`)
  return { source: 'parity', title: `parity · ${result.worker ?? ''} · reference ${result.reference}`, events, sessions: result.scenarios.filter((s) => Object.values(s.cells).some((c) => c.difference)).map((s) => s.id), summary: [`${result.scenarios.length} scenarios, ${events.length} difference(s)`, ...ran] }
}

/** What `renderReport` accepts; `toModel` tells them apart by shape. */
export type ReportInput = readonly TranscriptEvent[] | { events: readonly TranscriptEvent[] } | Cassette | { cassette: Cassette; mismatches: ReportMismatch[] } | ParityResultInput

const isObject = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value)

/** Recognizes the input and builds the model; anything else is a clear ERR_OPTIONS. */
export function toModel(input: unknown): ReportModel {
  if (Array.isArray(input)) return transcriptModel(checkEvents(input))
  if (isObject(input)) {
    if ('version' in input && 'interactions' in input) return cassetteModel(parseCassette(input))
    if ('cassette' in input && isObject(input.cassette)) return cassetteModel(parseCassette(input.cassette), Array.isArray(input.mismatches) ? (input.mismatches as ReportMismatch[]) : [])
    if (Array.isArray(input.scenarios) && Array.isArray(input.targets) && typeof input.reference === 'string') return parityModel(input as unknown as ParityResultInput)
    if (Array.isArray(input.events)) return transcriptModel(checkEvents(input.events))
  }
  throw new HarnessError('ERR_OPTIONS', 'Cannot draw a report from this input: expected a transcript (an array of events, or {"events": [...]} as /v1/transcript returns), a cassette (version 1), {"cassette", "mismatches"} or a parity result (`mcp-harness parity --json`).')
}

function checkEvents(events: unknown[]): TranscriptEvent[] {
  const bad = events.findIndex((e) => !isObject(e) || typeof e.layer !== 'string' || typeof e.type !== 'string' || typeof e.t !== 'number')
  if (bad >= 0) throw new HarnessError('ERR_OPTIONS', `Cannot draw a report: transcript event ${bad} lacks "t", "layer" or "type"; pass the events as emulator.transcript.events or /v1/transcript returns them.`)
  return events as TranscriptEvent[]
}

function parseCassette(value: unknown): Cassette {
  const parsed = CassetteSchema.safeParse(migrate(value, 'the report input'))
  if (!parsed.success) throw new HarnessError('ERR_OPTIONS', `Cannot draw a report: the cassette does not match format version 1 (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}).`)
  return parsed.data
}
