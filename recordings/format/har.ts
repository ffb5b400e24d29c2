import { createParser } from 'eventsource-parser'
import { z } from 'zod'
import { HarnessError } from '../../core/errors.ts'
import type { Redactor } from '../../core/redact/index.ts'
import type { CapturedExchange, CapturedPlatformEvent, CapturedSession, CapturedSseEvent, CapturedWsFrame } from '../capture/types.ts'
import { buildCassette } from './normalize.ts'
import { CassetteMetaSchema, PlatformEventSchema, type Cassette, type CassetteMeta, type Interaction } from './schema.ts'
import { detectTransport } from './transport.ts'

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) in and out. Standard fields carry what
 * browser devtools and HAR viewers show; three documented extensions carry the rest:
 * - `entry._sseEvents`: every SSE event of a `text/event-stream` response, `{ time, event, id?, retry?, data }`
 *   (`time` in seconds since the epoch, like Chrome's `_webSocketMessages`); `response.content.text` also
 *   holds the stream as it was sent, for viewers that know no extension.
 * - `entry._webSocketMessages`: WebSocket messages in Chrome's shape `{ type: 'send' | 'receive', time, opcode, data }`
 *   (opcode 1 text, 2 binary in base64, 8 close with `data` = `code reason`).
 * - `entry._mcpHarness` `{ id, t, end }` and `log._mcpHarness` `{ meta, events }`: what makes a round trip exact.
 */
export const HAR_EXTENSIONS = ['_sseEvents', '_webSocketMessages', '_mcpHarness'] as const

/** The fixed start of exported timelines: cassette times are relative, and a file must be the same each export. */
const EPOCH = Date.UTC(2026, 0, 1)

const NameValue = z.object({ name: z.string(), value: z.string() }).passthrough()
const HarEntrySchema = z
  .object({
    startedDateTime: z.string(),
    time: z.number().optional(),
    request: z
      .object({
        method: z.string(),
        url: z.string(),
        headers: z.array(NameValue).default([]),
        postData: z.object({ mimeType: z.string().optional(), text: z.string().optional() }).passthrough().optional(),
      })
      .passthrough(),
    response: z
      .object({
        status: z.number(),
        headers: z.array(NameValue).default([]),
        content: z.object({ mimeType: z.string().optional(), text: z.string().optional(), encoding: z.string().optional() }).passthrough().optional(),
      })
      .passthrough(),
    _sseEvents: z.array(z.object({ time: z.number(), event: z.string().optional(), id: z.string().optional(), retry: z.number().optional(), data: z.string().default('') }).passthrough()).optional(),
    _webSocketMessages: z.array(z.object({ type: z.enum(['send', 'receive']), time: z.number(), opcode: z.number(), data: z.string().default('') }).passthrough()).optional(),
    _mcpHarness: z.object({ id: z.number().optional(), t: z.number().optional(), end: z.object({ t: z.number(), reason: z.string() }).optional() }).passthrough().optional(),
  })
  .passthrough()
/** The part of a HAR file `import` reads. */
export const HarSchema = z
  .object({
    log: z
      .object({
        entries: z.array(HarEntrySchema),
        _mcpHarness: z.object({ meta: z.unknown().optional(), events: z.array(z.unknown()).optional() }).passthrough().optional(),
      })
      .passthrough(),
  })
  .passthrough()
export type Har = z.input<typeof HarSchema>

const seconds = (t: number) => (EPOCH + t) / 1000
const pairs = (record: Record<string, string>) => Object.entries(record).map(([name, value]) => ({ name, value }))

function bodyText(body: unknown, text: string | undefined): string | undefined {
  return body !== undefined ? JSON.stringify(body) : text
}

function sseText(interaction: Interaction): string {
  return (interaction.response?.sse ?? [])
    .map((e) => {
      if (e.event === 'retry' && e.retry !== undefined) return `retry: ${e.retry}\n\n`
      const data = e.data !== undefined ? JSON.stringify(e.data) : (e.dataText ?? '')
      return `${e.event !== 'message' ? `event: ${e.event}\n` : ''}${e.id !== undefined ? `id: ${e.id}\n` : ''}${data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`
    })
    .join('')
}

/**
 * A cassette as a HAR 1.2 log, for browser devtools and HAR viewers; `<origin>` becomes `origin`.
 * @example await writeFile('session.har', JSON.stringify(cassetteToHar(cassette), null, 2))
 */
export function cassetteToHar(cassette: Cassette, options: { origin?: string; creator?: string } = {}): Record<string, unknown> {
  const origin = (options.origin ?? 'http://127.0.0.1:8788').replace(/\/$/, '')
  const fill = (s: string) => s.split('<origin>').join(origin).split(encodeURIComponent('<origin>')).join(encodeURIComponent(origin))
  const entries = cassette.interactions.map((interaction) => {
    const { request, response } = interaction
    const url = new URL(fill(request.path), origin)
    for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, fill(value))
    const postText = bodyText(request.body, request.bodyText)
    const firstByte = response?.sse?.[0]?.t ?? response?.ws?.[0]?.t ?? response?.end.t ?? interaction.t
    const end = response?.end.t ?? interaction.t
    const contentType = response?.headers['content-type'] ?? ''
    const text = response?.sse ? sseText(interaction) : response ? (bodyText(response.body, response.bodyText) ?? '') : ''
    const entry: Record<string, unknown> = {
      startedDateTime: new Date(EPOCH + interaction.t).toISOString(),
      time: Math.max(0, end - interaction.t),
      request: {
        method: request.method,
        url: url.href,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: pairs(request.headers).map((h) => ({ ...h, value: fill(h.value) })),
        queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
        headersSize: -1,
        bodySize: postText === undefined ? 0 : Buffer.byteLength(fill(postText)),
        ...(postText !== undefined ? { postData: { mimeType: request.headers['content-type'] ?? 'application/json', text: fill(postText) } } : {}),
      },
      response: {
        status: response?.status ?? 0,
        statusText: '',
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: pairs(response?.headers ?? {}).map((h) => ({ ...h, value: fill(h.value) })),
        content: { size: Buffer.byteLength(text), mimeType: contentType || 'x-unknown', text: fill(text) },
        redirectURL: response?.headers.location ? fill(response.headers.location) : '',
        headersSize: -1,
        bodySize: -1,
      },
      cache: {},
      timings: { send: 0, wait: Math.max(0, firstByte - interaction.t), receive: Math.max(0, end - firstByte) },
      _mcpHarness: { id: interaction.id, t: interaction.t, ...(response ? { end: response.end } : {}) },
    }
    if (response?.sse) {
      entry._sseEvents = response.sse.map((e) => ({
        time: seconds(e.t),
        event: e.event,
        ...(e.id !== undefined ? { id: e.id } : {}),
        ...(e.retry !== undefined ? { retry: e.retry } : {}),
        data: fill(e.data !== undefined ? JSON.stringify(e.data) : (e.dataText ?? '')),
      }))
    }
    if (response?.ws) {
      entry._webSocketMessages = response.ws.map((f) => ({
        type: f.from === 'client' ? 'send' : 'receive',
        time: seconds(f.t),
        opcode: f.close ? 8 : f.binary !== undefined ? 2 : 1,
        data: f.close ? `${f.close.code} ${f.close.reason}` : (f.binary ?? fill(f.data !== undefined ? JSON.stringify(f.data) : (f.dataText ?? ''))),
      }))
    }
    return entry
  })
  return {
    log: {
      version: '1.2',
      creator: { name: options.creator ?? 'mcp-harness', version: '1' },
      pages: [],
      entries,
      _mcpHarness: { meta: cassette.meta, events: cassette.events },
    },
  }
}

export interface HarImportOptions {
  /** Overrides of the cassette's meta (client, scenario, …). */
  meta?: Partial<CassetteMeta>
  /** Extra redactors, after the defaults. */
  redactors?: Redactor[]
  /** Where the HAR came from, for errors. */
  source?: string
}

/**
 * A HAR file (from browser devtools, or `export --har`) as a cassette: redacted and normalized like
 * any recording, SSE events from `_sseEvents` or parsed from the response text, WebSocket messages from
 * `_webSocketMessages`. Entries of every origin in the file become `<origin>`.
 * @example const cassette = harToCassette(JSON.parse(await readFile('session.har', 'utf8')), { meta: { client: 'browser' } })
 */
export function harToCassette(har: unknown, options: HarImportOptions = {}): Cassette {
  const source = options.source ?? 'the HAR file'
  const parsed = HarSchema.safeParse(har)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new HarnessError('ERR_CASSETTE', `Failed to import ${source}: "${issue.path.join('.') || '(root)'}" ${issue.message}. Expected a HAR 1.2 file ({"log":{"entries":[…]}}), e.g. saved from the browser's network panel.`)
  }
  const log = parsed.data.log
  const started = log.entries.map((e) => Date.parse(e.startedDateTime))
  const t0 = Math.min(...started.filter(Number.isFinite), Infinity)
  const rel = (ms: number) => (Number.isFinite(ms) && Number.isFinite(t0) ? ms - t0 : 0)
  const origins = new Set<string>()
  const exchanges: CapturedExchange[] = log.entries.map((entry, index) => {
    const url = new URL(entry.request.url)
    origins.add(url.origin)
    const t = entry._mcpHarness?.t ?? rel(started[index]!)
    const headers = (list: { name: string; value: string }[]) => Object.fromEntries(list.filter((h) => !h.name.startsWith(':')).map((h) => [h.name.toLowerCase(), h.value]))
    const responseHeaders = headers(entry.response.headers)
    const content = entry.response.content
    const text = content?.text !== undefined ? (content.encoding === 'base64' ? Buffer.from(content.text, 'base64').toString('utf8') : content.text) : undefined
    const isSse = (content?.mimeType ?? responseHeaders['content-type'] ?? '').includes('text/event-stream')
    let sse: CapturedSseEvent[] | undefined
    if (entry._sseEvents) sse = entry._sseEvents.map((e) => ({ t: rel(e.time * 1000), ...(e.event ? { event: e.event } : {}), ...(e.id !== undefined ? { id: e.id } : {}), ...(e.retry !== undefined ? { retry: e.retry } : {}), data: e.data }))
    else if (isSse) {
      // A browser's HAR has the stream text only: each event gets the time the response ended.
      sse = []
      const at = t + (entry.time ?? 0)
      const parser = createParser({ onEvent: (e) => sse!.push({ t: at, ...(e.event ? { event: e.event } : {}), ...(e.id !== undefined ? { id: e.id } : {}), data: e.data }), onRetry: (retry) => sse!.push({ t: at, event: 'retry', retry, data: '' }) })
      parser.feed(text ?? '')
    }
    const ws: CapturedWsFrame[] | undefined = entry._webSocketMessages?.map((m) => {
      const from = m.type === 'send' ? 'client' : 'server'
      const at = rel(m.time * 1000)
      if (m.opcode === 8) {
        const [code, ...reason] = m.data.split(' ')
        return { t: at, from, close: { code: Number(code) || 1005, reason: reason.join(' ') } }
      }
      return m.opcode === 2 ? { t: at, from, binary: m.data } : { t: at, from, data: m.data }
    })
    const status = entry.response.status
    return {
      id: entry._mcpHarness?.id ?? index + 1,
      t,
      request: { method: entry.request.method, path: url.pathname, query: url.search, headers: headers(entry.request.headers), ...(entry.request.postData?.text !== undefined ? { bodyText: entry.request.postData.text } : {}) },
      ...(status > 0
        ? {
            response: {
              t: t + (entry.timings && typeof (entry.timings as { wait?: unknown }).wait === 'number' ? (entry.timings as { wait: number }).wait : 0),
              status,
              headers: responseHeaders,
              ...(sse ? { sse } : ws ? { ws } : text ? { bodyText: text } : {}),
              end: entry._mcpHarness?.end ?? { t: t + (entry.time ?? 0), reason: 'complete' },
            },
          }
        : {}),
    }
  })
  const events = (log._mcpHarness?.events ?? []).flatMap((e) => {
    const event = PlatformEventSchema.safeParse(e)
    return event.success ? [event.data as CapturedPlatformEvent] : []
  })
  const session: CapturedSession = { exchanges, events, origins: [...origins] }
  const recordedMeta = CassetteMetaSchema.partial().safeParse(log._mcpHarness?.meta ?? {})
  const meta: CassetteMeta = CassetteMetaSchema.parse({
    client: 'browser',
    scenario: 'har-import',
    transport: 'other',
    recordedWith: 'har',
    ...(recordedMeta.success ? recordedMeta.data : {}),
    ...options.meta,
  })
  const cassette = buildCassette(session, meta, { redactors: options.redactors })
  if (!options.meta?.transport && !(recordedMeta.success && recordedMeta.data.transport)) cassette.meta.transport = detectTransport(cassette.interactions)
  return cassette
}
