import type { CapturedSession } from '../capture/types.ts'
import { applyFieldRedactors, applyHeaderRedactors, applyJsonRedactors, defaultRedactors, redactFields, type Redactor } from '../../core/redact/index.ts'
import { CASSETTE_VERSION, CassetteSchema, type Cassette, type CassetteMeta, type Interaction, type SseEvent, type WsFrame } from './schema.ts'

/** Request headers that say nothing about the session and change run to run. */
const DROPPED_REQUEST_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'accept-encoding', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'cf-connecting-ip', 'cf-ray'])
/** Response headers that change run to run or describe the connection, not the answer (plus Miniflare's internal `mf-*`). */
const DROPPED_RESPONSE_HEADERS = new Set(['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'cf-ray', 'server', 'x-powered-by'])

/**
 * OAuth flow values that are single-use or derived from a secret (the PKCE challenge, consent
 * handles and CSRF tokens of approval forms): not credentials by spec, but nothing a cassette needs.
 */
const FLOW_REDACTOR = redactFields(['code_challenge', 'handle', 'csrf_token', 'csrf', '_csrf', 'nonce'])
/** Header values that are URLs, whose query may carry OAuth values (`Location: …/callback?code=…&state=…`). */
const URL_VALUED_HEADERS = new Set(['location', 'content-location', 'referer', 'refresh'])

/** Redacts the query of a URL (and of URLs nested in its query) by field name; other text is returned as is. */
function redactUrl(value: string, redactors: Redactor[], depth = 0): string {
  const q = value.indexOf('?')
  if (q < 0 || depth > 2 || !/^(?:[a-z][a-z0-9+.-]*:\/\/|\/)/i.test(value)) return value
  const hash = value.indexOf('#', q)
  const query = value.slice(q + 1, hash < 0 ? undefined : hash)
  const redactedQuery = new URLSearchParams()
  for (const [name, field] of applyFieldRedactors(new URLSearchParams(query), redactors)) redactedQuery.append(name, redactUrl(field, redactors, depth + 1))
  const text = redactedQuery.toString()
  return text === new URLSearchParams(query).toString() ? value : `${value.slice(0, q)}?${text}${hash < 0 ? '' : value.slice(hash)}`
}

/** Redacts URLs in HTML attributes and the values of hidden form fields with a redacted name. */
function redactHtml(text: string, redactors: Redactor[]): string {
  return text
    .replace(/\b(href|action|src|content)="([^"]*)"/gi, (all, attribute: string, url: string) => {
      const decoded = url.replace(/&amp;/g, '&')
      const out = redactUrl(decoded, redactors)
      return out === decoded ? all : `${attribute}="${out.replace(/&/g, '&amp;')}"`
    })
    .replace(/<input\b[^>]*>/gi, (tag) => {
      const name = /\bname="([^"]*)"/i.exec(tag)?.[1]
      const value = /\bvalue="([^"]*)"/i.exec(tag)?.[1]
      if (!name || value === undefined) return tag
      const [[, replaced] = ['', value]] = [...applyFieldRedactors(new URLSearchParams([[name, value]]), redactors)]
      return replaced === value ? tag : tag.replace(/\bvalue="[^"]*"/i, `value="${replaced}"`)
    })
}

export interface BuildCassetteOptions {
  /** Extra redactors, applied after the defaults. */
  redactors?: Redactor[]
}

/**
 * Placeholders for values that differ each run (session ids, SSE event ids): the same value always
 * gets the same placeholder, numbered in order of first appearance.
 */
export class Placeholders {
  readonly #byValue = new Map<string, string>()
  readonly #counts = new Map<string, number>()

  /** The placeholder for `value`, allocated on first use, e.g. `<session-1>`. */
  for(kind: string, value: string): string {
    let placeholder = this.#byValue.get(value)
    if (!placeholder) {
      const n = (this.#counts.get(kind) ?? 0) + 1
      this.#counts.set(kind, n)
      placeholder = `<${kind}-${n}>`
      this.#byValue.set(value, placeholder)
    }
    return placeholder
  }

  /** Replaces every known value of `kind` found anywhere inside `text`. */
  replaceIn(text: string, kinds: string[]): string {
    let out = text
    for (const [value, placeholder] of this.#byValue) {
      if (value.length >= 8 && kinds.some((kind) => placeholder.startsWith(`<${kind}-`))) out = out.split(value).join(placeholder)
    }
    return out
  }
}

const SESSION_IN_TEXT = /[?&]sessionId=([^&\s"'#]+)/g

/**
 * Pairs each secret value of a JSON answer with the redaction that replaced it (`abc…` → `access_token`),
 * by walking the value before and after redaction side by side.
 */
function learnRedactions(raw: unknown, redacted: unknown, out: Map<string, string>): void {
  if (typeof raw === 'string' && typeof redacted === 'string') {
    const name = /^<redacted:([^>]+)>$/.exec(redacted)?.[1]
    if (name && raw !== redacted && raw.length >= 8) out.set(raw, name)
    return
  }
  if (Array.isArray(raw) && Array.isArray(redacted)) raw.forEach((item, index) => learnRedactions(item, redacted[index], out))
  else if (raw !== null && typeof raw === 'object' && redacted !== null && typeof redacted === 'object') {
    for (const [key, value] of Object.entries(raw)) learnRedactions(value, (redacted as Record<string, unknown>)[key], out)
  }
}

/** Client ids a dynamic registration issued (RFC 7591 `client_id` of a JSON answer): they change every run. */
function learnClientIds(text: string | undefined, ids: Placeholders): void {
  if (!text || !text.includes('"client_id"')) return
  try {
    const body = JSON.parse(text) as { client_id?: unknown }
    if (typeof body?.client_id === 'string' && body.client_id.length >= 8 && !/^https?:/.test(body.client_id)) ids.for('client', body.client_id)
  } catch {
    // Not JSON: nothing to learn.
  }
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value)
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn))
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]))
  return value
}

function parseBody(text: string | undefined, contentType: string | undefined, redactors: Redactor[], fix: (s: string) => string): { body?: unknown; bodyText?: string } {
  if (text === undefined || text === '') return {}
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return { body: mapStrings(applyJsonRedactors(JSON.parse(text), redactors), fix) }
    } catch {
      // Not JSON after all: kept verbatim below (malformed bodies are often the point of a test).
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) return { bodyText: fix(applyFieldRedactors(new URLSearchParams(text), redactors).toString()) }
  if (contentType?.includes('html')) return { bodyText: fix(redactHtml(text, redactors)) }
  return { bodyText: fix(text) }
}

/**
 * Orders exchanges by start time, except that requests a client sent concurrently (no answer from
 * the server arrived between them) are ordered by content, so that re-recording gives the same file
 * whichever of them won the race.
 */
function canonicalOrder(exchanges: CapturedSession['exchanges']): CapturedSession['exchanges'] {
  const byTime = [...exchanges].sort((a, b) => a.t - b.t || a.id - b.id)
  const observations = byTime.flatMap((x) => (x.response ? [x.response.t, ...(x.response.sse ?? []).map((e) => e.t), ...(x.response.end ? [x.response.end.t] : [])] : []))
  const key = (x: CapturedSession['exchanges'][number]) => `${x.request.method} ${x.request.path} ${x.request.bodyText ?? ''}`
  const out: CapturedSession['exchanges'] = []
  let group: CapturedSession['exchanges'] = []
  const flush = () => out.push(...group.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.t - b.t)))
  for (const x of byTime) {
    const previous = group.at(-1)
    if (previous && observations.some((t) => t > previous.t && t <= x.t)) {
      flush()
      group = []
    }
    group.push(x)
  }
  flush()
  return out
}

const ms = (t: number) => Math.max(0, Math.round(t))

/**
 * Turns what a capture saw into a cassette: redacted, normalized (placeholders, relative times) and
 * validated. This is the only way captured traffic becomes a cassette, so nothing unredacted persists.
 * @example const cassette = buildCassette(proxy.snapshot(), { client: 'mcp-inspector-cli', scenario: 'tools-list', transport: 'streamable-http', recordedWith: 'proxy' })
 */
export function buildCassette(session: CapturedSession, meta: CassetteMeta, options: BuildCassetteOptions = {}): Cassette {
  const redactors = [...defaultRedactors, FLOW_REDACTOR, ...(options.redactors ?? [])]
  const exchanges = canonicalOrder(session.exchanges)
  const t0 = exchanges[0]?.t ?? 0
  const ids = new Placeholders()
  // 1. Learn session ids (header, legacy query, SSE endpoint event) before rewriting anything.
  for (const x of exchanges) {
    const fromQuery = new URLSearchParams(x.request.query).get('sessionId')
    if (fromQuery) ids.for('session', fromQuery)
    const header = x.request.headers['mcp-session-id'] ?? x.response?.headers['mcp-session-id']
    if (header) ids.for('session', header)
    for (const event of x.response?.sse ?? []) for (const m of event.data.matchAll(SESSION_IN_TEXT)) ids.for('session', decodeURIComponent(m[1]!))
    learnClientIds(x.response?.bodyText, ids)
  }
  // Secrets an answer carried (an access token), so that a header carrying the same secret later is
  // redacted under the same name (`Bearer <redacted:access_token>`): a replay then sends the live token it got.
  const secrets = new Map<string, string>()
  for (const x of exchanges) {
    const text = x.response?.bodyText
    if (!text || !/^\s*[[{]/.test(text)) continue
    try {
      const raw = JSON.parse(text) as unknown
      learnRedactions(raw, applyJsonRedactors(raw, redactors), secrets)
    } catch {
      // Not JSON.
    }
  }
  /** A redacted header whose raw value is `[scheme ]<a known secret>` names that secret's redaction. */
  const linkSecret = (raw: string, redactedValue: string) => {
    if (!/^(?:\S+ )?<redacted:[^>]+>$/.test(redactedValue)) return redactedValue
    const found = /^(\S+ )?(\S+)$/.exec(raw)
    const name = found ? secrets.get(found[2]!) : undefined
    return name ? `${found![1] ?? ''}<redacted:${name}>` : redactedValue
  }
  for (const event of session.events) {
    if (typeof event.detail.session === 'string' && event.detail.session) ids.for('session', event.detail.session)
    const name = event.detail.name
    if (typeof name === 'string' && /^(?:streamable-http|sse):/.test(name)) ids.for('session', name.slice(name.indexOf(':') + 1))
  }
  // The recorded server's origin becomes `<origin>`: a replay or a mock puts its own in its place.
  const origins = (session.origins ?? []).filter(Boolean)
  const fix = (s: string) => {
    let out = ids.replaceIn(s, ['session', 'client'])
    for (const origin of origins) if (out.includes(origin) || out.includes(encodeURIComponent(origin))) out = out.split(origin).join('<origin>').split(encodeURIComponent(origin)).join(encodeURIComponent('<origin>'))
    return out
  }
  // 2. Rewrite each exchange: redact, then placeholders, then relative times.
  const interactions: Interaction[] = exchanges.map((x, index) => {
    const reqHeaders: Record<string, string> = {}
    for (const [name, value] of Object.entries(applyHeaderRedactors(x.request.headers, redactors))) {
      if (DROPPED_REQUEST_HEADERS.has(name)) continue
      const raw = x.request.headers[name]
      const linked = raw !== undefined && raw !== value ? linkSecret(raw, value) : value
      reqHeaders[name] = name === 'last-event-id' ? ids.for('event', linked) : fix(URL_VALUED_HEADERS.has(name) ? redactUrl(linked, redactors) : linked)
    }
    const query: Record<string, string> = {}
    for (const [name, value] of applyFieldRedactors(new URLSearchParams(x.request.query), redactors)) query[name] = fix(redactUrl(value, redactors))
    const interaction: Interaction = {
      id: index + 1,
      t: ms(x.t - t0),
      request: { method: x.request.method, path: fix(x.request.path), query, headers: reqHeaders, ...parseBody(x.request.bodyText, x.request.headers['content-type'], redactors, fix) },
    }
    const r = x.response
    if (r) {
      const resHeaders: Record<string, string> = {}
      for (const [name, value] of Object.entries(applyHeaderRedactors(r.headers, redactors))) if (!DROPPED_RESPONSE_HEADERS.has(name) && !name.startsWith('mf-')) resHeaders[name] = fix(URL_VALUED_HEADERS.has(name) ? redactUrl(value, redactors) : value)
      const sse: SseEvent[] | undefined = r.sse?.map((event) => {
        const parsed = parseBody(event.data, 'application/json', redactors, fix)
        return {
          t: ms(event.t - t0),
          event: event.event ?? 'message',
          ...(event.id !== undefined && event.id !== '' ? { id: ids.for('event', event.id) } : {}),
          ...(event.retry !== undefined ? { retry: event.retry } : {}),
          ...(parsed.body !== undefined ? { data: parsed.body } : { dataText: parsed.bodyText ?? '' }),
        }
      })
      const ws: WsFrame[] | undefined = r.ws?.map((frame) => {
        const parsed = frame.data !== undefined ? parseBody(frame.data, 'application/json', redactors, fix) : {}
        return {
          t: ms(frame.t - t0),
          from: frame.from,
          ...(parsed.body !== undefined ? { data: parsed.body } : frame.data !== undefined ? { dataText: parsed.bodyText ?? '' } : {}),
          ...(frame.binary !== undefined ? { binary: frame.binary } : {}),
          ...(frame.close ? { close: frame.close } : {}),
        }
      })
      interaction.response = {
        status: r.status,
        headers: resHeaders,
        ...(sse ? { sse } : ws ? { ws } : parseBody(r.bodyText, r.headers['content-type'], redactors, fix)),
        end: r.end ? { t: ms(r.end.t - t0), reason: r.end.reason } : { t: ms((r.sse?.at(-1)?.t ?? r.ws?.at(-1)?.t ?? r.t) - t0), reason: 'open' },
      }
    }
    return interaction
  })
  const events = session.events.map((event) => ({
    t: ms(event.t - t0),
    layer: event.layer,
    type: event.type,
    detail: mapStrings(applyJsonRedactors(event.detail, redactors), fix) as Record<string, unknown>,
  }))
  return CassetteSchema.parse({ version: CASSETTE_VERSION, meta, interactions, events })
}
