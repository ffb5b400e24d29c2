import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { HarnessError } from '../core/errors.ts'
import { leaveIdleConnectionsToClients } from '../core/http-server.ts'
import { Transcript } from '../core/transcript.ts'
import type { Cassette, Interaction } from './format/schema.ts'
import { Bindings } from './match/bindings.ts'
import { describeDifference, parseMatchOptions, RequestMatcher, rpcMessages, type LiveRequest, type RequestDifference, type RequestMatchOptions } from './match/request.ts'
import { loadCassette } from './persist/fs.ts'
import { describeRequest, recordedJson } from './replay.ts'
import { rerecordCommand } from './rerecord.ts'

export interface MockServerOptions {
  host?: string
  /** 0 takes a free port. */
  port?: number
  /**
   * Recorded timing: 1 keeps the recorded gaps between a request and each part of its answer, 2 halves
   * them, 0 (the default) sends each part as soon as the client requests it depends on have arrived.
   */
  speed?: number
  /** How requests are matched to recorded ones; extends the cassette's own `meta.match`. */
  match?: RequestMatchOptions
  /** How long an SSE event waits for the client request recorded before it, ms (default 5000). */
  waitMs?: number
  /** Shown in miss reports; defaults to the cassette path when one was given. */
  source?: string
  /** Called at once for each request the cassette cannot answer (the CLI prints it on stderr). */
  onMiss?: (error: HarnessError) => void
}

/** A running mock of the server side of a cassette. */
export interface MockServer {
  url: URL
  /** Requests the cassette could not answer, with the explanation sent to the client. */
  errors: HarnessError[]
  /** What the mock did: `harness/serve` per answer and `harness/miss` per unanswered request. */
  transcript: Transcript
  /** Interactions answered so far (a recorded one served to two clients counts twice). */
  served(): number
  /** Client sessions opened so far. */
  sessions(): number
  close(): Promise<void>
}

/** The recorded sessions of a cassette: interactions grouped by the session placeholder they carry. */
interface SessionTemplate {
  placeholder: string
  interactions: Interaction[]
  /** Interactions by `RequestMatcher.key` (method, path, JSON-RPC method), in recorded order. */
  byKey: Map<string, Interaction[]>
  /** The interactions carrying JSON-RPC messages, in recorded order (what `--order strict` walks). */
  rpc: Interaction[]
  /** Interactions by recorded time, to know quickly whether everything before t has arrived (shared by its playbacks). */
  byTime: Interaction[]
}

/** One client session being served from a template, with its own cursor and its own session ids. */
interface Playback {
  template: SessionTemplate
  bindings: Bindings
  used: Set<number>
  arrived: Set<number>
  waiters: Set<() => void>
  /** Per match key, the first recorded request not served yet. */
  cursor: Map<string, number>
  /** With `--order strict`, the first JSON-RPC interaction of `template.rpc` not served yet. */
  strictCursor: number
}

const SESSION = /<session-\d+>/

/** The session placeholder an interaction belongs to, if any (header, legacy query, or the SSE endpoint event). */
function sessionOf(interaction: Interaction): string | undefined {
  const r = interaction.request
  const found =
    r.headers['mcp-session-id'] ??
    r.query.sessionId ??
    interaction.response?.headers['mcp-session-id'] ??
    interaction.response?.sse?.find((e) => e.event === 'endpoint' && typeof e.dataText === 'string' && SESSION.test(e.dataText))?.dataText
  return found ? SESSION.exec(found)?.[0] : undefined
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
 * Serves the server side of a cassette so clients can be tested against it. A request is answered
 * only when it matches a recorded one: method, path, JSON-RPC method and params equal after
 * normalization (ids, session ids, progress tokens and timestamps are placeholders; see
 * recordings/match/request.ts). Every client session gets its own playback of a recorded session,
 * with fresh session ids, so any number of clients can run, one after another or at once. A request
 * that matches nothing gets an immediate `ERR_REPLAY_MISS` (a JSON-RPC error, or HTTP 404 for
 * anything else) that names the nearest recorded request and the field that differs.
 * @example
 * const mock = await createMockServer('recordings/cassettes/sdk/streamable-http.json')
 * await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', mock.url)))
 */
export async function createMockServer(cassetteOrPath: Cassette | string, options: MockServerOptions = {}): Promise<MockServer> {
  const cassette = typeof cassetteOrPath === 'string' ? await loadCassette(cassetteOrPath) : cassetteOrPath
  const source = options.source ?? (typeof cassetteOrPath === 'string' ? cassetteOrPath : `cassette ${cassette.meta.client}/${cassette.meta.scenario}`)
  const matchOptions = parseMatchOptions(cassette.meta.match, options.match)
  const matcher = new RequestMatcher(matchOptions)
  const speed = options.speed ?? 0
  if (!(speed >= 0) || !Number.isFinite(speed)) throw new HarnessError('ERR_OPTIONS', `Invalid option "speed": expected a number >= 0 (0 as fast as possible, 1 recorded timing, 2 double), received ${String(options.speed)}.`)
  const waitMs = options.waitMs ?? 5000
  const transcript = new Transcript()
  const errors: HarnessError[] = []
  const sockets = new Set<Socket>()
  let served = 0

  // 1. Split the cassette into recorded sessions and session-less interactions (discovery, OAuth, health).
  const templates = new Map<string, SessionTemplate>()
  const shared: Interaction[] = []
  for (const interaction of cassette.interactions) {
    const placeholder = sessionOf(interaction)
    if (!placeholder) {
      shared.push(interaction)
      continue
    }
    let template = templates.get(placeholder)
    if (!template) templates.set(placeholder, (template = { placeholder, interactions: [], byKey: new Map(), rpc: [], byTime: [] }))
    template.interactions.push(interaction)
    pushTo(template.byKey, RequestMatcher.keyOf(interaction), interaction)
    if (rpcMessages(interaction.request.body).length > 0) template.rpc.push(interaction)
  }
  for (const template of templates.values()) template.byTime = [...template.interactions].sort((a, b) => a.t - b.t)
  // Session-less requests and the requests that open a session, indexed the same way: a live request
  // is compared field by field only with recorded ones of its method, path and JSON-RPC method.
  const sharedByKey = new Map<string, Interaction[]>()
  for (const interaction of shared) pushTo(sharedByKey, RequestMatcher.keyOf(interaction), interaction)
  const openers = new Map<string, { template: SessionTemplate; interaction: Interaction }[]>()
  for (const template of templates.values()) {
    const first = template.interactions[0]!
    if (first.request.headers['mcp-session-id'] !== undefined || first.request.query.sessionId !== undefined) continue
    pushTo(openers, RequestMatcher.keyOf(first), { template, interaction: first })
  }
  const started = new Map<SessionTemplate, number>()
  const sharedServed = new Map<number, number>()
  /** Live session id → the playback serving it. */
  const playbacks = new Map<string, Playback>()
  let sessionCount = 0

  let origin = ''
  /** Fresh values for a session's placeholders; event ids stay readable; `<origin>` is the mock's own. */
  /**
   * Values a live request may carry back, per bindings, as [placeholder, value] pairs (plain and
   * percent-encoded): session ids, client ids, the origin. Event ids are left out: a session binds
   * one per SSE event, and walking them all for every request made a long session O(n²).
   */
  const unbindable = new WeakMap<Bindings, (readonly [string, string])[]>()
  const freshBindings = () => {
    const pairs: (readonly [string, string])[] = []
    const add = (placeholder: string, value: string) => {
      pairs.push([placeholder, value])
      if (encodeURIComponent(value) !== value) pairs.push([encodeURIComponent(placeholder), encodeURIComponent(value)])
    }
    const bindings = new Bindings((placeholder) => {
      if (placeholder.startsWith('<event-')) return placeholder.slice(1, -1)
      // 32 hex digits like a recorded server's session id; randomUUID draws from a cached pool (cheap per session).
      const value = randomUUID().replaceAll('-', '')
      add(placeholder, value)
      return value
    })
    bindings.values.set('<origin>', origin)
    add('<origin>', origin)
    unbindable.set(bindings, pairs)
    return bindings
  }
  let sharedBindings: Bindings | undefined
  const newPlayback = (template: SessionTemplate): Playback => ({
    template,
    bindings: freshBindings(),
    used: new Set(),
    arrived: new Set(),
    waiters: new Set(),
    cursor: new Map(),
    strictCursor: 0,
  })

  // An event of a stream waits for what the client sent while that stream was open and before the
  // event (an elicitation's answer, say): causality, not clocks. Requests the client never sends are waited for once, up to waitMs.
  const causesArrived = (playback: Playback, from: number, t: number) => {
    const list = playback.template.byTime
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid]!.t <= from) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < list.length && list[i]!.t < t; i++) if (!playback.arrived.has(list[i]!.id)) return false
    return true
  }
  const waitForCauses = (playback: Playback, from: number, t: number) =>
    new Promise<void>((resolve) => {
      if (causesArrived(playback, from, t)) return resolve()
      const timer = setTimeout(done, waitMs)
      function check() {
        if (causesArrived(playback, from, t)) done()
      }
      function done() {
        clearTimeout(timer)
        playback.waiters.delete(check)
        resolve()
      }
      playback.waiters.add(check)
    })

  /** Candidates for a live request, by the ordering rule. */
  const pick = (live: LiveRequest, key: string, playback: Playback | undefined): Interaction | undefined => {
    if (playback) {
      if (matchOptions.order === 'strict' && rpcMessages(live.body).length > 0) {
        // Strict: JSON-RPC traffic in recorded order; stream opens (GET) and session ends (DELETE) at any time.
        // The cursor skips the served prefix once, so a long session is not walked from its start per request.
        const rpc = playback.template.rpc
        while (playback.strictCursor < rpc.length && playback.used.has(rpc[playback.strictCursor]!.id)) playback.strictCursor++
        const next = rpc[playback.strictCursor]
        return next && matcher.matches(live, next) ? next : undefined
      }
      // Only recorded requests with the same method, path and JSON-RPC method are compared field by field.
      const same = playback.template.byKey.get(key) ?? []
      // Skip the served prefix once (a session usually asks in recorded order), then compare field by field.
      let from = playback.cursor.get(key) ?? 0
      while (from < same.length && playback.used.has(same[from]!.id)) from++
      playback.cursor.set(key, from)
      for (let i = from; i < same.length; i++) if (!playback.used.has(same[i]!.id) && matcher.matches(live, same[i]!)) return same[i]
      return undefined
    }
    // Session-less requests can repeat (each client discovers and signs in again): the least served match wins.
    let best: Interaction | undefined
    for (const i of sharedByKey.get(key) ?? []) {
      if (!matcher.matches(live, i)) continue
      if (!best || (sharedServed.get(i.id) ?? 0) < (sharedServed.get(best.id) ?? 0)) best = i
    }
    return best
  }

  /** A new client session: the recorded session whose opening request matches, the least used first. */
  const open = (live: LiveRequest, key: string): { playback: Playback; interaction: Interaction } | undefined => {
    let chosen: { template: SessionTemplate; interaction: Interaction } | undefined
    for (const opener of openers.get(key) ?? []) {
      if (!matcher.matches(live, opener.interaction)) continue
      if (!chosen || (started.get(opener.template) ?? 0) < (started.get(chosen.template) ?? 0)) chosen = opener
    }
    if (!chosen) return undefined
    started.set(chosen.template, (started.get(chosen.template) ?? 0) + 1)
    sessionCount++
    return { playback: newPlayback(chosen.template), interaction: chosen.interaction }
  }

  const rerecord = () => rerecordCommand(cassette.meta.rerecord, source)

  const miss = (live: LiveRequest, playback: Playback | undefined, liveSession: string | undefined): { error: HarnessError; nearest?: Interaction; differences: RequestDifference[] } => {
    const described = describeLive(live)
    if (liveSession && !playback) {
      return {
        differences: [],
        error: new HarnessError('ERR_REPLAY_MISS', `Failed to serve ${described} from ${source} (mode: replay): session "${liveSession}" was not opened by this mock (it issues fresh session ids on initialize).\n  Re-record: ${rerecord()}`),
      }
    }
    // The nearest recorded request: same session first, then the fewest differing fields.
    const pool = playback ? playback.template.interactions : [...shared, ...[...templates.values()].map((t) => t.interactions[0]!)]
    let nearest: Interaction | undefined
    let nearestDiffs: RequestDifference[] = []
    let score = Infinity
    for (const i of pool) {
      const differences = matcher.differences(live, i)
      const s = (differences.some((d) => d.field === 'method' || d.field === 'path') ? 1000 : 0) + (differences.some((d) => d.field === 'jsonrpc method') ? 100 : 0) + differences.length + (playback?.used.has(i.id) ? 0.5 : 0)
      if (s < score) {
        score = s
        nearest = i
        nearestDiffs = differences
      }
    }
    const why = !nearest
      ? 'the cassette records no such request'
      : nearestDiffs.length === 0
        ? `it was already served (the client sent more than was recorded${matchOptions.order === 'strict' ? ', or out of the recorded order' : ''})`
        : `differs at ${nearestDiffs.slice(0, 3).map(describeDifference).join('; ')}${nearestDiffs.length > 3 ? ` and ${nearestDiffs.length - 3} more` : ''}`
    return {
      nearest,
      differences: nearestDiffs,
      error: new HarnessError(
        'ERR_REPLAY_MISS',
        `Failed to serve ${described} from ${source} (mode: replay): no recorded request matches.\n  Nearest: ${nearest ? `#${nearest.id} ${describeRequest(nearest)}` : 'none'}: ${why}\n  Re-record: ${rerecord()}`,
      ),
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => void respond(req, res, Buffer.concat(chunks).toString('utf8')))
  })

  async function respond(req: http.IncomingMessage, res: http.ServerResponse, text: string): Promise<void> {
    const rawUrl = req.url ?? '/'
    // A plain path (`/mcp`) needs no URL parser; anything else (a query, escapes, dot segments) gets the real one.
    const url = PLAIN_PATH.test(rawUrl) ? undefined : new URL(rawUrl, 'http://mock')
    const pathname = url ? url.pathname : rawUrl
    const sessionHeader = req.headers['mcp-session-id']
    const liveSession = (Array.isArray(sessionHeader) ? sessionHeader.join(', ') : sessionHeader) ?? (url?.search ? url.searchParams.get('sessionId') : null) ?? undefined
    let playback = liveSession ? playbacks.get(liveSession) : undefined
    sharedBindings ??= freshBindings()
    // Live values back to placeholders: session ids, client ids and the origin anywhere, event ids only where a client echoes one.
    // Inside URLs and form bodies the same values arrive percent-encoded (`redirect_uri=http%3A%2F%2F…`).
    const own = playback ? unbindable.get(playback.bindings)! : undefined
    const common = unbindable.get(sharedBindings)!
    const unbind = (s: string) => {
      let out = s
      if (own) for (const [placeholder, value] of own) if (out.includes(value)) out = out.split(value).join(placeholder)
      for (const [placeholder, value] of common) if (out.includes(value)) out = out.split(value).join(placeholder)
      return out
    }
    // Headers in one pass: joined, and live values put back.
    const headers: Record<string, string> = {}
    for (const name in req.headers) {
      const value = req.headers[name]
      if (value !== undefined) headers[name] = unbind(Array.isArray(value) ? value.join(', ') : value)
    }
    if (headers['last-event-id'] && playback) headers['last-event-id'] = playback.bindings.unsubstitute(headers['last-event-id'])
    const parsed = parseMaybe(text)
    const unbound = parsed !== undefined ? unbind(text) : text
    const query: Record<string, string> = {}
    if (url?.search) for (const [name, value] of url.searchParams) query[name] = unbind(value)
    const live: LiveRequest = {
      method: req.method ?? 'GET',
      path: unbind(pathname),
      query,
      headers,
      // The body is parsed once; only when a live id was in it is the unbound text parsed again.
      ...(parsed !== undefined ? { body: unbound === text ? parsed : JSON.parse(unbound) } : text ? { bodyText: unbind(text) } : {}),
    }
    const key = RequestMatcher.key(live.method, live.path, live.body)
    let interaction = liveSession && !playback ? undefined : pick(live, key, playback)
    if (!interaction && !liveSession) {
      const opened = open(live, key)
      if (opened) ({ playback, interaction } = opened)
    }
    if (!interaction || !interaction.response) {
      const { error, nearest, differences } = interaction
        ? { error: new HarnessError('ERR_REPLAY_MISS', `Failed to serve ${describeLive(live)} from ${source}: the recorded request #${interaction.id} never got an answer.`), nearest: interaction, differences: [] }
        : miss(live, playback, liveSession)
      if (interaction && playback) playback.used.add(interaction.id)
      errors.push(error)
      transcript.record({ layer: 'harness', type: 'miss', method: live.method, path: pathname, request: describeLive(live), nearest: nearest?.id, differences, message: error.message })
      options.onMiss?.(error)
      const messages = rpcMessages(parsed)
      const id = messages.length === 1 && messages[0]!.id !== undefined && typeof messages[0]!.method === 'string' ? messages[0]!.id : undefined
      // Legacy SSE answers arrive on the stream, so its POSTs get the error as an HTTP failure the client surfaces.
      if (id !== undefined && url?.searchParams.get('sessionId') == null) {
        // A JSON-RPC request gets its answer: an error the client surfaces for that call.
        sendWhole(res, 200, { 'content-type': 'application/json', 'x-mcp-harness-error': error.code }, JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: error.message, data: { harness: error.code, nearest: nearest?.id, differences } } }))
      } else {
        sendWhole(res, 404, { 'content-type': 'application/json', 'x-mcp-harness-error': error.code }, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: error.message } }))
      }
      return
    }
    const received = performance.now()
    served++
    if (!playback) sharedServed.set(interaction.id, (sharedServed.get(interaction.id) ?? 0) + 1)
    else {
      playback.used.add(interaction.id)
      playback.arrived.add(interaction.id)
      for (const fn of playback.waiters) fn()
    }
    transcript.record({ layer: 'harness', type: 'serve', method: live.method, path: pathname, interaction: interaction.id })
    const bindings = playback?.bindings ?? sharedBindings
    const recorded = interaction.response
    // Answers carry the live request's JSON-RPC ids: ids are the client's to choose, not part of the match.
    const ids = liveIds(interaction, live.body)
    const answer = (value: unknown) => bindings.substituteJsonText(ids ? JSON.stringify(reId(value, ids)) : recordedJson(value))
    const out = answerHeaders(recorded.headers, bindings)
    const due = async (t: number) => {
      if (speed <= 0) return
      const wait = received + (t - interaction!.t) / speed - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
    if (!recorded.sse) {
      if (speed > 0) await due(recorded.end.t)
      if (res.destroyed) return
      registerSessions(playback)
      sendWhole(res, recorded.status, out, recorded.body !== undefined ? answer(recorded.body) : recorded.bodyText !== undefined ? bindings.substitute(recorded.bodyText) : '')
      return
    }
    registerSessions(playback)
    // Frames that need not wait are gathered; a stream the server closed and that never had to wait
    // goes out whole (status line, headers, events) in one write with a content-length. Before any
    // wait, what is ready is flushed, so the client sees each event when it is due and never later.
    let ready = ''
    let started = false
    const flush = () => {
      if (!started) res.writeHead(recorded.status, out)
      if (ready) res.write(ready)
      else if (!started) res.flushHeaders()
      ready = ''
      started = true
    }
    for (const event of recorded.sse) {
      if (speed > 0 || (playback && !causesArrived(playback, interaction.t, event.t))) {
        flush()
        if (playback) await waitForCauses(playback, interaction.t, event.t)
        await due(event.t)
        if (res.destroyed) return
      }
      if (event.event === 'retry' && event.retry !== undefined) {
        ready += `retry: ${event.retry}\n\n`
        continue
      }
      const data = event.data !== undefined ? answer(event.data) : bindings.substitute(event.dataText ?? '')
      if (event.event !== 'message') ready += `event: ${event.event}\n`
      if (event.id !== undefined) ready += `id: ${bindings.substitute(event.id)}\n`
      ready += data.includes('\n') ? `${data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n` : `data: ${data}\n\n`
      registerSessions(playback)
    }
    // A stream the server closed is closed; one the client closed stays open until the client goes.
    if (recorded.end.reason !== 'complete') flush()
    else if (started) res.end(ready)
    else sendWhole(res, recorded.status, out, ready)
  }

  /** Makes the live session ids a playback just issued find their way back to it. */
  function registerSessions(playback: Playback | undefined): void {
    const value = playback?.bindings.values.get(playback.template.placeholder)
    if (value && !playbacks.has(value)) playbacks.set(value, playback!)
  }

  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  leaveIdleConnectionsToClients(server)
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new HarnessError('ERR_PORT_IN_USE', `Failed to listen on ${host}:${port}: the port is in use. Pass another --listen port.`) : error),
    )
    server.listen(port, host, () => resolve())
  })
  origin = `http://${host}:${(server.address() as AddressInfo).port}`
  return {
    url: new URL(origin),
    errors,
    transcript,
    served: () => served,
    sessions: () => sessionCount,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A path the mock takes as is, without a URL parser: no query, no escapes, no dot segments. */
const PLAIN_PATH = /^(?:\/[\w-]+)*\/?$/

/** Appends to a list in a map of lists. */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/**
 * A whole answer in one write: with a content-length, Node puts the status line, the headers and the
 * body in one buffer (without one, chunked encoding costs a writev of three pieces per answer).
 */
function sendWhole(res: http.ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  // RFC 9110: no content-length on a 1xx, 204 or 304 (they have no body).
  if (status >= 200 && status !== 204 && status !== 304) headers['content-length'] = String(Buffer.byteLength(body))
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * The live JSON-RPC ids to put in a recorded answer, by recorded id (JSON text); undefined when the
 * client chose the recorded ids (a replay, a client that counts from the same start): the answer's
 * serialized text is then used as it is.
 */
function liveIds(interaction: Interaction, liveBody: unknown): Map<string, unknown> | undefined {
  const recordedMessages = rpcMessages(interaction.request.body)
  const liveMessages = rpcMessages(liveBody)
  let ids: Map<string, unknown> | undefined
  let same = true
  for (let index = 0; index < recordedMessages.length; index++) {
    const recordedId = recordedMessages[index]!.id
    const liveId = liveMessages[index]?.id
    if (recordedId === undefined || liveId === undefined) continue
    const key = JSON.stringify(recordedId)
    ;(ids ??= new Map()).set(key, liveId)
    if (liveId !== recordedId && JSON.stringify(liveId) !== key) same = false
  }
  return same ? undefined : ids
}

/** The recorded headers an answer sends, split once into fixed ones and ones with placeholders. */
const headerTemplates = new WeakMap<Record<string, string>, { fixed: Record<string, string>; filled: [string, string][] }>()
function answerHeaders(recorded: Record<string, string>, bindings: Bindings): Record<string, string> {
  let template = headerTemplates.get(recorded)
  if (!template) {
    template = { fixed: {}, filled: [] }
    for (const [name, value] of Object.entries(recorded)) {
      // The framing is this answer's own (a whole answer gets a content-length), not the recorded one's.
      if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection' || name === 'keep-alive' || value.includes('<redacted:')) continue
      if (Bindings.has(value)) template.filled.push([name, value])
      else template.fixed[name] = value
    }
    headerTemplates.set(recorded, template)
  }
  const out = { ...template.fixed }
  for (const [name, value] of template.filled) out[name] = bindings.substitute(value)
  return out
}

/** A recorded answer (message or batch) with the ids of responses mapped to the live request's ids. */
function reId(value: unknown, ids: Map<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => reId(item, ids))
  if (value === null || typeof value !== 'object') return value
  const message = value as Record<string, unknown>
  if (!('result' in message || 'error' in message) || message.id === undefined) return value
  const key = JSON.stringify(message.id)
  return ids.has(key) ? { ...message, id: ids.get(key) } : value
}

/** `tools/call "whoami" (id 3) on POST /mcp` */
function describeLive(live: LiveRequest): string {
  const first = rpcMessages(live.body)[0]
  const where = `${live.method} ${live.path}`
  if (!first) return where
  const name = first.params && typeof first.params === 'object' && typeof (first.params as { name?: unknown }).name === 'string' ? ` "${(first.params as { name: string }).name}"` : ''
  if (typeof first.method === 'string') return `${first.method}${name}${first.id !== undefined ? ` (id ${JSON.stringify(first.id)})` : ''} on ${where}`
  return `a response to server request ${JSON.stringify(first.id)} on ${where}`
}
