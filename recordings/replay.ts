import { createHash, randomBytes } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import { createParser } from 'eventsource-parser'
import { CookieJar } from 'tough-cookie'
import { Agent } from 'undici'
import { z } from 'zod'
import { HarnessError } from '../core/errors.ts'
import { parseOptions } from '../core/zod-error.ts'
import { headerValueScrubber } from '../core/redact/index.ts'
import { loadCassette } from './persist/fs.ts'
import type { Cassette, Interaction, PlatformEvent } from './format/schema.ts'
import { Bindings } from './match/bindings.ts'
import { Matcher, show, type Difference, type Matchers } from './match/compare.ts'
import { rerecordCommand } from './rerecord.ts'

/** A replay target that can also perform the cassette's platform events (e.g. an emulator evicting a Durable Object). */
export interface ReplayTarget {
  url: URL | string
  /** Performs a recorded platform event (placeholders already bound), e.g. `lifecycle/evict`. */
  onPlatformEvent?(event: PlatformEvent): Promise<void> | void
  /**
   * Waits until the target is quiet; called before each request of a cassette that re-enacts platform events.
   * @fixme Needed on the emulator: a stream's Worker→DO upgrade that races the next request can keep the
   * Durable Object referenced, and a later eviction then waits 30 s in workerd.
   */
  settle?(): Promise<void>
}

export interface ReplayOptions {
  /** Base URL of the server to replay against, or a target object. */
  target: URL | string | ReplayTarget
  /** How answers are compared. */
  matchers?: Matchers
  /** Keep the recorded gaps between requests instead of sending each as soon as its causes arrived. */
  realtime?: boolean
  /** Recorded timing: 0 (default) as fast as causality allows, 1 the recorded gaps, 2 twice as fast; `realtime: true` is speed 1. */
  speed?: number
  /** How long to wait for each recorded answer before calling it missing, ms (default 5000). */
  waitMs?: number
  /**
   * Request headers to add or override on every request, e.g. a fresh Authorization for a redacted one.
   * Their values are credentials as far as the replay knows: never in its report or mismatches, even
   * when the server echoes them.
   */
  headers?: Record<string, string>
  /** Shown in reports; defaults to the cassette path when one was given. */
  source?: string
  /** The command that re-records this cassette, for reports; defaults to `meta.rerecord`. */
  rerecord?: string
  /** Throw `ERR_REPLAY_MISMATCH` with the report when answers differ (default true). */
  throwOnMismatch?: boolean
}

/** One answer that differed from the recording. */
export interface ReplayMismatch {
  interaction: number
  /** JSON-RPC method (and id) of the request whose answer differed, e.g. `tools/call (id 3)`. */
  request: string
  /** Where in the answer: `status`, `body`, `sse event 2`, … */
  where: string
  difference: Difference
  /** The recorded message closest to the live one, when the live one was not where it was expected. */
  closest?: { interaction: number; where: string; difference?: Difference }
}

export interface ReplayResult {
  ok: boolean
  source: string
  /** How many recorded answers differ (an answer = one body, or one SSE event, or a status). */
  differing: number
  /** The first difference, in recorded order: what the report leads with. */
  first?: ReplayMismatch
  /** Set when the target could not be reached at all: `could not connect to http://…: connection refused`. */
  connectionError?: string
  /** The command that re-records the cassette file that was replayed. */
  rerecord: string
  /** JSON-RPC messages sent plus received. */
  messages: number
  durationMs: number
  mismatches: ReplayMismatch[]
  /** The human-readable mismatch report (empty when ok). */
  report: string
}

interface LiveExchange {
  status?: number
  headers?: Record<string, string>
  body?: string
  /** Differences of the answer, found as it arrived (so its placeholders bind before the next request). */
  differences?: Difference[][]
  sse: { event: string; id?: string; retry?: number; data: string }[]
  ended: boolean
  endReason?: string
  abort: AbortController
  done: Promise<void>
  error?: string
  /** `could not connect to …` when the connection itself failed. */
  connectError?: string
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
}

/** `could not connect to http://127.0.0.1:9/: connection refused` for a fetch that never reached the server. */
function connectFailure(error: unknown, url: URL): string | undefined {
  const own = error as { code?: string; errors?: { code?: string }[]; cause?: { code?: string; errors?: { code?: string }[] } }
  const code = own?.code ?? own?.errors?.[0]?.code ?? own?.cause?.code ?? own?.cause?.errors?.[0]?.code
  if (!code || !CONNECT_ERRORS[code]) return undefined
  return `could not connect to ${url.origin}/: ${CONNECT_ERRORS[code]}`
}

type Step =
  | { t: number; kind: 'request'; interaction: Interaction }
  | { t: number; kind: 'abort'; interaction: Interaction }
  | { t: number; kind: 'platform'; event: PlatformEvent }

/** Headers the connection owns (undici refuses the hop-by-hop ones), not the recording. */
const SKIP_REQUEST_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'accept-encoding'])
/** `headers` option: RFC 9110 token names, string values. */
const HeadersSchema = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name (RFC 9110 token)'), z.string())

/** Answer fields that differ every run by definition: RFC 7591's `client_id_issued_at` (a timestamp). */
const DEFAULT_IGNORED = ['client_id_issued_at']

/** The recorded headers that hold a placeholder or a redaction (the only ones that bind anything), found once. */
const tokenHeaders = new WeakMap<Record<string, string>, [string, string][]>()
function headersWithTokens(headers: Record<string, string>): [string, string][] {
  let found = tokenHeaders.get(headers)
  if (!found) tokenHeaders.set(headers, (found = Object.entries(headers).filter(([, value]) => Bindings.has(value))))
  return found
}

/** Each recorded body or answer serialized once, not once per replay or per mock client. */
const jsonTexts = new WeakMap<object, string>()
export function recordedJson(body: unknown): string {
  if (body === null || typeof body !== 'object') return JSON.stringify(body)
  let text = jsonTexts.get(body)
  if (text === undefined) jsonTexts.set(body, (text = JSON.stringify(body)))
  return text
}

const base64url = (bytes: Buffer) => bytes.toString('base64url')

/**
 * A value for a redaction no answer supplied: what a client makes up itself. The PKCE challenge is
 * derived from the verifier (RFC 7636 S256), so the server's check passes as it did when recorded.
 */
export function inventSecret(name: string, bindings: Bindings): string {
  if (name === 'code_challenge') {
    let verifier = bindings.secrets.get('code_verifier')
    if (verifier === undefined) bindings.secrets.set('code_verifier', (verifier = base64url(randomBytes(32))))
    return base64url(createHash('sha256').update(verifier).digest())
  }
  return base64url(randomBytes(32))
}
/**
 * One keep-alive pool per process: a replay reuses connections like a client does. undici's
 * `request()` costs less per call than `node:http` (one write per request, no ClientRequest and
 * IncomingMessage streams) and much less than `fetch` (no WHATWG streams and Response objects).
 */
const dispatcher = new Agent({ keepAliveTimeout: 30_000 })

/** The JSON-RPC messages of a value (a message or a batch). */
function rpcList(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter((m) => m && typeof m === 'object') as Record<string, unknown>[]
  return value && typeof value === 'object' ? [value as Record<string, unknown>] : []
}

/** `tools/call (id 3)` for a request body. */
export function describeRequest(interaction: Interaction): string {
  const message = rpcList(interaction.request.body)[0]
  if (!message) return `${interaction.request.method} ${interaction.request.path}`
  if (typeof message.method === 'string') return message.id !== undefined ? `${message.method} (id ${show(message.id)})` : message.method
  return message.id !== undefined ? `response to server request id ${show(message.id)}` : `${interaction.request.method} ${interaction.request.path}`
}

/** Everything the server said in an interaction, as comparable items. */
function recordedItems(interaction: Interaction): { where: string; value: unknown; text: boolean }[] {
  const response = interaction.response
  if (!response) return []
  if (response.sse) return response.sse.map((e, i) => ({ where: `sse event ${i + 1} (${e.event})`, value: e.data !== undefined ? e.data : (e.dataText ?? ''), text: e.data === undefined }))
  if (response.body !== undefined) return [{ where: 'body', value: response.body, text: false }]
  if (response.bodyText !== undefined) return [{ where: 'body', value: response.bodyText, text: true }]
  return []
}

function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Re-sends the client side of a cassette against a target and compares the server's answers with
 * the recording, after normalization. Throws `ERR_REPLAY_MISMATCH` with a report that names the
 * cassette, the message, the closest recorded one, the failed matcher and the re-record command.
 * @example const result = await replay('recordings/cassettes/sdk/streamable-http.json', { target: emulator.url })
 */
export async function replay(cassetteOrPath: Cassette | string, options: ReplayOptions): Promise<ReplayResult> {
  const cassette = typeof cassetteOrPath === 'string' ? await loadCassette(cassetteOrPath) : cassetteOrPath
  const source = options.source ?? (typeof cassetteOrPath === 'string' ? cassetteOrPath : `cassette ${cassette.meta.client}/${cassette.meta.scenario}`)
  const target: ReplayTarget = typeof options.target === 'string' || options.target instanceof URL ? { url: options.target } : options.target
  const base = new URL(target.url)
  const waitMs = options.waitMs ?? 5000
  const speed = options.speed ?? (options.realtime ? 1 : 0)
  if (!(speed >= 0) || !Number.isFinite(speed)) throw new HarnessError('ERR_OPTIONS', `Invalid option "speed": expected a number >= 0 (0 as fast as possible, 1 recorded timing, 2 double), received ${String(options.speed)}.`)
  const extraHeaders = Object.entries(parseOptions(HeadersSchema, options.headers ?? {}, 'replay option "headers"')).map(([name, value]) => [name.toLowerCase(), value] as const)
  const scrub = headerValueScrubber(Object.fromEntries(extraHeaders))
  const matcher = new Matcher({ ...options.matchers, ignore: [...DEFAULT_IGNORED, ...(options.matchers?.ignore ?? [])] })
  // The client's own values a recording redacted (OAuth `state`, the PKCE pair) are made afresh, as a client would.
  const bindings = new Bindings({ inventSecret })
  bindings.values.set('<origin>', base.origin)
  const basePath = base.pathname.replace(/\/$/, '')
  /** Cookies the live server set, sent back where the recording sent a (redacted) cookie. */
  const jar = new CookieJar()
  const live = new Map<number, LiveExchange>()
  /** Interactions sent and not ended yet: the only ones a step can still be waiting for. */
  const active = new Set<number>()
  const byId = new Map(cassette.interactions.map((interaction) => [interaction.id, interaction]))
  const started = performance.now()
  const changed = new Set<() => void>()
  const notify = () => {
    for (const fn of changed) fn()
  }
  const early: { interaction: number; where: string; difference: Difference }[] = []

  // 1. The timeline: requests, client aborts and platform events, in recorded order.
  const steps: Step[] = []
  for (const interaction of cassette.interactions) {
    steps.push({ t: interaction.t, kind: 'request', interaction })
    // Only streams are hung up on purpose; a client that left a short body unread (a 202) aborted
    // nothing the server cares about, and aborting it here would only race the Worker.
    if (interaction.response?.end.reason === 'client-aborted' && interaction.response.sse) steps.push({ t: interaction.response.end.t, kind: 'abort', interaction })
  }
  for (const event of cassette.events) if (event.layer === 'lifecycle' || event.layer === 'harness') steps.push({ t: event.t, kind: 'platform', event })
  steps.sort((a, b) => a.t - b.t || (a.kind === 'request' && b.kind === 'request' ? a.interaction.id - b.interaction.id : 0))

  // 2. Before each step, wait until every answer recorded before it has arrived live (causality, not clocks).
  // An answer that did not come within waitMs is given up on once, not waited for again at every later step.
  const givenUp = new Set<number>()
  // Steps run in recorded order, so every earlier request was sent already: only the active ones can be pending
  // (a handful of open streams and the request in flight, not the whole cassette at every step).
  const isPending = (interaction: Interaction, before: number) => {
    if (interaction.t >= before || !interaction.response || givenUp.has(interaction.id)) return false
    const x = live.get(interaction.id)
    if (!x) return true
    if (x.ended) return false
    let due = 0
    for (const e of interaction.response.sse ?? []) if (e.t < before) due++
    if (x.sse.length < due) return true
    if (interaction.response.end.reason === 'complete' && interaction.response.end.t < before) return true
    return x.status === undefined && (interaction.response.end.t < before || due > 0)
  }
  const anyPending = (before: number) => {
    for (const id of active) if (isPending(byId.get(id)!, before)) return true
    return false
  }
  const waitUntil = async (before: number) => {
    if (!(await waitFor(() => !anyPending(before)))) for (const id of [...active]) if (isPending(byId.get(id)!, before)) givenUp.add(id)
  }
  /** Resolves true when `condition` holds, false after waitMs. */
  const waitFor = (condition: () => boolean) =>
    new Promise<boolean>((resolve) => {
      if (condition()) return resolve(true)
      const timer = setTimeout(() => done(false), waitMs)
      function check() {
        if (condition()) done(true)
      }
      function done(ok: boolean) {
        clearTimeout(timer)
        changed.delete(check)
        resolve(ok)
      }
      changed.add(check)
    })

  const send = (interaction: Interaction): LiveExchange => {
    const request = interaction.request
    // Requests carry the live values of the placeholders and redactions bound so far (secrets = true).
    let path = `${basePath}${bindings.substitute(request.path, true)}`
    const query = Object.entries(request.query)
    if (query.length) path += `?${new URLSearchParams(query.map(([name, value]) => [name, bindings.substitute(value, true)])).toString()}`
    const outgoing: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (SKIP_REQUEST_HEADERS.has(name)) continue
      // A recorded cookie is the jar's live cookies; another redacted header is sent only once its value is known.
      if (name === 'cookie') {
        const cookies = jar.getCookieStringSync(new URL(path, base).href)
        if (cookies) outgoing.cookie = cookies
        continue
      }
      if (value.includes('<redacted:') && !bindings.knows(value)) continue
      outgoing[name] = bindings.substitute(value, true)
    }
    for (const [name, value] of extraHeaders) outgoing[name] = value
    const body = request.body !== undefined ? bindings.substituteJsonText(recordedJson(request.body), true) : request.bodyText !== undefined ? bindings.substitute(request.bodyText, true) : undefined
    const x: LiveExchange = { sse: [], ended: false, abort: new AbortController(), done: Promise.resolve() }
    live.set(interaction.id, x)
    active.add(interaction.id)
    const recorded = interaction.response
    const items = recordedItems(interaction)
    // Compared as it arrives: placeholders in the answer (a client id, a token) bind before the next request needs them.
    const check = (index: number, value: unknown) => {
      const want = items[index]
      if (!want) return
      ;(x.differences ??= [])[index] = matcher.compare(want.value, value, bindings)
    }
    x.done = new Promise<void>((resolve) => {
      let settled = false
      const finish = (reason: string, error?: unknown) => {
        if (settled) return
        settled = true
        x.endReason = x.abort.signal.aborted ? 'client-aborted' : reason
        if (error !== undefined && !x.abort.signal.aborted) {
          x.error = (error as Error).message
          x.connectError = x.status === undefined ? connectFailure(error, base) : undefined
        }
        x.ended = true
        active.delete(interaction.id)
        notify()
        resolve()
      }
      dispatcher.request({ origin: base.origin, path, method: request.method as 'GET', headers: outgoing, body, signal: x.abort.signal }).then(
        (res) => {
          x.status = res.statusCode
          const got: Record<string, string> = {}
          for (const name in res.headers) {
            const value = res.headers[name]
            if (value !== undefined) got[name] = Array.isArray(value) ? value.join(', ') : value
          }
          x.headers = got
          const setCookie = res.headers['set-cookie']
          for (const cookie of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
            try {
              jar.setCookieSync(cookie, new URL(path, base).href)
            } catch {
              // A cookie the jar refuses (wrong domain) is one a browser would refuse too.
            }
          }
          // Bind placeholders in headers as soon as they arrive: the next request may need them.
          for (const [name, value] of recorded ? headersWithTokens(recorded.headers) : []) {
            const live1 = got[name]
            if (live1 !== undefined && !bindings.match(value, live1)) early.push({ interaction: interaction.id, where: `header ${name}`, difference: { path: name, matcher: 'placeholder', expected: value, received: live1 } })
          }
          notify()
          const stream = res.body
          // undici's body ignores setEncoding: chunks are Buffers, decoded here (a character may span two chunks).
          const decoder = new StringDecoder('utf8')
          if ((got['content-type'] ?? '').includes('text/event-stream')) {
            const recordedSse = recorded?.sse ?? []
            const parser = createParser({
              onEvent: (event) => {
                const index = x.sse.length
                x.sse.push({ event: event.event ?? 'message', id: event.id, data: event.data })
                const want = recordedSse[index]
                if (want?.id !== undefined && event.id !== undefined) bindings.match(want.id, event.id)
                if (recorded?.sse) check(index, parseMaybe(event.data))
                notify()
              },
              onRetry: (retry) => {
                x.sse.push({ event: 'retry', retry, data: '' })
                if (recorded?.sse) check(x.sse.length - 1, '')
                notify()
              },
            })
            stream.on('data', (chunk: Buffer) => parser.feed(decoder.write(chunk)))
          } else {
            let text = ''
            stream.on('data', (chunk: Buffer) => (text += decoder.write(chunk)))
            stream.on('end', () => {
              text += decoder.end()
              x.body = text
              if (!recorded?.sse && text !== '') check(0, parseMaybe(text))
            })
          }
          stream.on('end', () => finish('complete'))
          stream.on('error', (error) => finish(`error: ${error.message}`, error))
          stream.on('close', () => finish(x.abort.signal.aborted ? 'client-aborted' : 'complete'))
        },
        (error: unknown) => finish(`error: ${(error as Error).message}`, error),
      )
    })
    return x
  }

  // 3. Run the timeline.
  const reenacts = steps.some((step) => step.kind === 'platform')
  let messages = 0
  for (const step of steps) {
    await waitUntil(step.t)
    if (speed > 0) {
      const due = started + step.t / speed - performance.now()
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
    }
    if (step.kind === 'request') {
      if (reenacts) await target.settle?.()
      messages += rpcList(step.interaction.request.body).length
      send(step.interaction)
    } else if (step.kind === 'abort') {
      // The client hung up after it had what the recording shows it got, never before.
      const x = live.get(step.interaction.id)
      const due = step.interaction.response?.sse?.length ?? 0
      if (x && !givenUp.has(step.interaction.id) && !(await waitFor(() => x.ended || (x.status !== undefined && x.sse.length >= due)))) givenUp.add(step.interaction.id)
      x?.abort.abort()
    } else {
      const event = { ...step.event, detail: bindings.substituteJson(step.event.detail) as Record<string, unknown> }
      await target.onPlatformEvent?.(event)
    }
  }
  await waitUntil(Infinity)
  // Streams the client left open at the end of the recording are closed now, like the client did.
  for (const x of live.values()) if (!x.ended) x.abort.abort()
  await Promise.all([...live.values()].map((x) => x.done))

  // 4. Compare.
  const mismatches: ReplayMismatch[] = []
  const allRecorded = cassette.interactions.flatMap((interaction) => recordedItems(interaction).map((item) => ({ ...item, interaction: interaction.id })))
  const closest = (value: unknown, exclude: string) => {
    let best: ReplayMismatch['closest'] | undefined
    let bestScore = Infinity
    for (const item of allRecorded) {
      if (`${item.interaction}/${item.where}` === exclude) continue
      const differences = matcher.compare(item.value, value, cloneBindings(bindings))
      if (differences.length < bestScore) {
        bestScore = differences.length
        best = { interaction: item.interaction, where: item.where, difference: differences[0] }
      }
    }
    return best
  }
  for (const early1 of early) {
    const interaction = cassette.interactions.find((i) => i.id === early1.interaction)!
    mismatches.push({ interaction: interaction.id, request: describeRequest(interaction), where: early1.where, difference: early1.difference })
  }
  for (const interaction of cassette.interactions) {
    const x = live.get(interaction.id)
    const recorded = interaction.response
    const request = describeRequest(interaction)
    if (!recorded || !x) continue
    if (x.status === undefined) {
      const received = x.connectError ?? x.error ?? `no answer within ${waitMs} ms`
      mismatches.push({ interaction: interaction.id, request, where: 'connection', difference: { path: '(response)', matcher: 'answered', expected: recorded.status, received } })
      continue
    }
    if (x.status !== recorded.status) mismatches.push({ interaction: interaction.id, request, where: 'status', difference: { path: 'status', matcher: 'equal', expected: recorded.status, received: x.status } })
    const recordedList = recordedItems(interaction)
    const liveList = recorded.sse
      ? x.sse.map((e) => (e.data === '' && e.event === 'retry' ? '' : parseMaybe(e.data)))
      : x.body !== undefined && x.body !== ''
        ? [parseMaybe(x.body)]
        : []
    messages += liveList.length
    for (let i = 0; i < Math.max(recordedList.length, liveList.length); i++) {
      const want = recordedList[i]
      const got = liveList[i]
      const where = want?.where ?? (recorded.sse ? `sse event ${i + 1}` : 'body')
      if (!want) {
        mismatches.push({ interaction: interaction.id, request, where, difference: { path: '(message)', matcher: 'unexpected', expected: undefined, received: got }, closest: closest(got, '') })
        continue
      }
      if (i >= liveList.length) {
        mismatches.push({ interaction: interaction.id, request, where, difference: { path: '(message)', matcher: 'missing', expected: want.value, received: undefined } })
        continue
      }
      const differences = x.differences?.[i] ?? matcher.compare(want.value, got, bindings)
      if (differences.length) mismatches.push({ interaction: interaction.id, request, where, difference: differences[0]! })
    }
  }
  // The first difference first: recorded order of the interactions, then position in the answer.
  const position = (m: ReplayMismatch) => {
    const n = /(\d+)/.exec(m.where)?.[1]
    return m.where === 'status' ? -1 : m.where.startsWith('header') ? -0.5 : n ? Number(n) : 0
  }
  mismatches.sort((a, b) => a.interaction - b.interaction || position(a) - position(b))
  // A server that echoes a header given on the command line (whoami, a debug endpoint) must not put it in the report.
  if (scrub) mismatches.splice(0, mismatches.length, ...mismatches.map((m) => scrub(m)))
  const connectionError = [...live.values()].find((x) => x.connectError)?.connectError
  const rerecord = options.rerecord ?? rerecordCommand(cassette.meta.rerecord, source, typeof options.target === 'string' || options.target instanceof URL ? String(options.target) : String(target.url))
  const result: ReplayResult = {
    ok: mismatches.length === 0,
    source,
    differing: new Set(mismatches.map((m) => `${m.interaction}/${m.where}`)).size,
    ...(mismatches[0] ? { first: mismatches[0] } : {}),
    ...(connectionError ? { connectionError } : {}),
    rerecord,
    messages,
    durationMs: Math.round(performance.now() - started),
    mismatches,
    report: '',
  }
  result.report = mismatches.length ? formatReport(result, cassette) : ''
  if (scrub) result.report = scrub(result.report)
  if (!result.ok && options.throwOnMismatch !== false) throw new HarnessError('ERR_REPLAY_MISMATCH', result.report)
  return result
}

function cloneBindings(bindings: Bindings): Bindings {
  const copy = new Bindings()
  for (const [k, v] of bindings.values) copy.values.set(k, v)
  return copy
}

/**
 * The mismatch report: the first difference first (its path, recorded vs received), how many answers
 * differ, the others, the nearest recorded message only for a message the recording does not have,
 * and the command that re-records the file that was replayed. A target that cannot be reached is one line.
 */
export function formatReport(result: Pick<ReplayResult, 'source' | 'mismatches' | 'differing' | 'rerecord' | 'connectionError'>, cassette: Cassette): string {
  const { source, mismatches } = result
  if (result.connectionError) return `Failed to replay ${source}: ${result.connectionError}. Start the server, or pass the right --target.`
  const lines: string[] = []
  const first = mismatches[0]!
  const count = `${result.differing} answer${result.differing === 1 ? ' differs' : 's differ'}`
  lines.push(`Failed to replay ${source} (mode: replay): ${count} from the recording. First: ${first.difference.path} in the answer to #${first.interaction} ${first.request}, ${first.where} (recorded ${show(first.difference.expected)} ≠ received ${show(first.difference.received)}).`)
  for (const m of mismatches.slice(0, 10)) {
    const interaction = cassette.interactions.find((i) => i.id === m.interaction)
    lines.push(`  #${m.interaction} ${interaction?.request.method} ${interaction?.request.path} ${m.request}, ${m.where}: ${m.difference.path} (recorded ${show(m.difference.expected)} ≠ received ${show(m.difference.received)}; matcher ${m.difference.matcher})`)
    if (m.closest) {
      const d = m.closest.difference
      lines.push(`    Nearest recorded message: #${m.closest.interaction} ${m.closest.where}${d ? `, differs at ${d.path} (${show(d.expected)} ≠ ${show(d.received)})` : ', identical'}`)
    }
  }
  if (mismatches.length > 10) lines.push(`  … and ${mismatches.length - 10} more`)
  lines.push(`  Re-record: ${result.rerecord}`)
  return lines.join('\n')
}
