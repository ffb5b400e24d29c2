import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createParser } from 'eventsource-parser'
import { z } from 'zod'
import type { Transcript } from '../../core/transcript.ts'
import { defaultRedactors } from '../../core/redact/index.ts'
import { redactCredentialKeys } from '../../core/redact/event.ts'
import { HopFaults, type HopStep } from './hop-faults.ts'
import type { EmulatorPlugin, PluginContext } from './types.ts'

/** The plugin name; its options live under `options.hop`. */
export const HOP = 'hop'

/** Request header the front door stamps so hop steps can name the client exchange that caused them. */
export const HOP_STAMP_HEADER = 'x-mcp-harness-hop'

export const HopOptionsSchema = z.object({
  /** Taps the Worker→DO hop (transcript layer `hop`, faults, session tracking); false binds the DO directly. */
  tap: z.boolean().default(true),
})
export type HopOptions = z.input<typeof HopOptionsSchema>

/** What the emulator knows of one MCP session, from the hop. */
export interface SessionInfo {
  /** The session id (`mcp-session-id`, or the SSE `sessionId` query parameter). */
  id: string
  transport: 'streamable-http' | 'sse' | 'other'
  /** The Durable Object name, e.g. `streamable-http:<id>` (its id in hex when the object has no name). */
  name: string
  /** The Worker's binding of the object's namespace, e.g. `MCP_OBJECT`. */
  binding?: string
  /** The object's id (hex), for eviction and `idFromString`. */
  objectId?: string
  /** `active` until a lifecycle control or the idle policy changes it; `active` again on the next event. */
  state: 'active' | 'hibernated' | 'evicted' | 'crashed'
  /** Transcript time of the last hop event for this DO. */
  lastEventAt: number
  /** Hop steps still running: RPC calls without result, POST streams the DO has not closed. */
  running: number
  /** WebSockets open between the Worker and this DO. */
  openSockets: number
}

/** A timer the tap saw pending in the isolate that runs the Worker and its DOs (KI-32). */
export interface PendingTimer {
  kind: 'setInterval' | 'setTimeout'
  ms: number
  /** Where it was created (the first stack frames outside the tap). */
  site: string
}

/** A `ctx.waitUntil` promise still pending in a Durable Object (KI-32). */
export interface PendingWaitUntil {
  /** The name of the Durable Object that called it (its id when unnamed). */
  object: string
  /** Where it was called (the first stack frames outside the tap). */
  site: string
}

/** A WebSocket accepted with `accept()` (not hibernatable) and still open in the isolate (KI-32). */
export interface PlainSocket {
  /** Where `accept()` was called. */
  site: string
}

interface TapEvent {
  kind: 'fetch' | 'fetch-result' | 'upgrade' | 'upgrade-result' | 'frame' | 'close' | 'error' | 'tap-error' | 'rpc' | 'rpc-result'
  name: string
  id?: string
  conn?: string
  exchange?: number
  [key: string]: unknown
}

/** One report from the tap: its steps, and (when they changed) what pends in the isolate. */
interface TapReport {
  events: TapEvent[]
  timers?: PendingTimer[]
  waitUntil?: PendingWaitUntil[]
  sockets?: PlainSocket[]
}

/** The tap's answer to a pull: its buffered reports and the last sequence number it gave out (`p` names the isolate). */
export interface PullAnswer extends TapReport {
  p: string
  s: number
}

interface ConnInfo {
  name: string
  exchange?: number
  mcpMethod?: string
  open: boolean
  /** A POST stream is a running request until the DO sends `close: true` or the socket closes. */
  running: boolean
  /** When the upgrade was reported, and whether its answer was. */
  at: number
  answered: boolean
}

/** Request header of the pull Node sends the tap (see `HopTap.pull`); the front door strips it from clients. */
export const HOP_FLUSH_HEADER = 'x-mcp-harness-hop-flush'
/** How often Node pulls the tap's reports while there is traffic, and when there is none. */
const PULL_BUSY_MS = 200
const PULL_IDLE_MS = 1_000
/** How long a verdict waits for a pull already on its way (it may carry earlier steps). */
const PULL_WAIT_MS = 1_000
/** Waits for `promise`, but no longer than `ms` (the timer keeps no process alive). */
const atMost = (promise: Promise<unknown>, ms: number) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())])
/** How long `settled()` waits for reports the isolate numbered but Node has not received. */
const SETTLE_TIMEOUT_MS = 2_000
/** After this long without its answer, a hop call is taken as lost, not running. */
const STALE_MS = 2_000
/** Props and RPC values carry credentials under names a Worker picks (`accessToken`): the defaults plus those. */
const HOP_REDACTORS = [...defaultRedactors, redactCredentialKeys()]
const TAP_SOURCE = new URL('../workers/hop-tap.worker.js', import.meta.url)

/** Splits a DO name into the session it serves. */
export function parseObjectName(name: string): { id: string; transport: SessionInfo['transport'] } {
  const match = /^(streamable-http|sse):(.+)$/.exec(name)
  return match ? { id: match[2]!, transport: match[1] as 'streamable-http' | 'sse' } : { id: name, transport: 'other' }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** An RPC call's arguments or result as the tap sends them: JSON text, encoded when the call was made. */
function decodeValue(text: unknown): unknown {
  return typeof text === 'string' ? parseJson(text) : undefined
}

/** Decodes an SSE text block (what a `cf_mcp_agent_event` frame carries) into its events. */
function decodeSse(text: string): { event: string; id?: string; data: unknown }[] {
  const events: { event: string; id?: string; data: unknown }[] = []
  const parser = createParser({
    onEvent: (event) => events.push({ event: event.event ?? 'message', ...(event.id ? { id: event.id } : {}), data: parseJson(event.data) ?? event.data }),
  })
  parser.feed(text.endsWith('\n\n') ? text : `${text}\n\n`)
  return events
}

type RpcMessage = { jsonrpc?: string; id?: string | number; method?: string; result?: unknown; error?: unknown }

/**
 * The Node half of the hop tap: turns the tap's reports into transcript events, tracks sessions and
 * answers verdicts for faults.
 */
export class HopTap {
  readonly faults: HopFaults
  readonly #transcript: Transcript
  readonly #sessions = new Map<string, SessionInfo>()
  readonly #conns = new Map<string, ConnInfo>()
  /** Calls (RPC, plain fetch) without a result yet: id → DO name and start time. */
  readonly #calls = new Map<string, { name: string; at: number }>()
  /** JSON-RPC request id → method, per DO, so a response frame can be matched by its request's method. */
  readonly #methods = new Map<string, Map<string | number, string>>()
  readonly #listeners = new Set<(session: SessionInfo, event: Record<string, unknown>) => void>()
  #timers: PendingTimer[] = []
  #waitUntil: PendingWaitUntil[] = []
  #sockets: PlainSocket[] = []
  readonly #pending = new Map<string, TapEvent>()
  readonly #expected = new Map<string, number>()
  #gapTimer?: NodeJS.Timeout

  #pull?: () => Promise<PullAnswer>
  /** The pull on its way, and the one queued behind it (pulls go one at a time, in order). */
  #pulling?: Promise<PullAnswer | undefined>
  #queuedPull?: Promise<PullAnswer | undefined>
  #pollTimer?: NodeJS.Timeout
  #polling = false
  /** Client requests came in since the last pull: poll at the busy pace. */
  #busy = false

  constructor(transcript: Transcript) {
    this.#transcript = transcript
    // A pull carries the fault state to the isolate: a socket already open sees a new fault without
    // waiting for a client request.
    this.faults = new HopFaults(transcript, () => void this.pull())
  }

  /** How to fetch the isolate's buffered reports (set once; it fails while the runtime is down). */
  bindPull(pull: () => Promise<PullAnswer>): void {
    this.#pull = pull
  }

  /** A client request went in: the next poll comes at the busy pace (sooner than an idle one already due). */
  touch(): void {
    if (this.#busy) return
    this.#busy = true
    if (this.#pollTimer && this.#polling) {
      clearTimeout(this.#pollTimer)
      this.#schedule()
    }
  }

  /**
   * Fetches and records the reports buffered in the isolate; resolves with the answer's mark
   * (undefined when the runtime did not answer). A pull asked for while one is on its way starts
   * after it, so it sees every step taken before it was asked for; callers asking meanwhile share it.
   */
  pull(): Promise<PullAnswer | undefined> {
    if (this.#queuedPull) return this.#queuedPull
    const start = (): Promise<PullAnswer | undefined> => {
      this.#queuedPull = undefined
      const pulling = this.#pullOnce()
      this.#pulling = pulling
      void pulling.then(() => {
        if (this.#pulling === pulling) this.#pulling = undefined
      })
      return pulling
    }
    if (!this.#pulling) return start()
    this.#queuedPull = this.#pulling.then(start)
    return this.#queuedPull
  }

  async #pullOnce(): Promise<PullAnswer | undefined> {
    this.#busy = false
    let answer: PullAnswer
    try {
      if (!this.#pull) return undefined
      answer = await this.#pull()
    } catch {
      // The runtime is down or restarting: its reports went with it, or the next pull has them.
      return undefined
    }
    try {
      if (answer.events.length > 0) this.#busy = true
      this.#report('/events', answer)
    } catch (error) {
      this.#transcript.record({ layer: 'harness', type: 'hop-tap-error', message: String((error as Error)?.stack ?? error) })
    }
    return answer
  }

  /** Pulls on a timer (busy pace while there is traffic) until `stopPolling`; the timer keeps no process alive. */
  startPolling(): void {
    if (this.#polling) return
    this.#polling = true
    this.#schedule()
  }

  #schedule(): void {
    if (!this.#polling) return
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined
      void this.pull().then(() => this.#schedule())
    }, this.#busy ? PULL_BUSY_MS : PULL_IDLE_MS)
    this.#pollTimer.unref()
  }

  stopPolling(): void {
    this.#polling = false
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    this.#pollTimer = undefined
  }

  /**
   * Resolves once every hop step the Worker took so far is in the transcript and in `sessions()`.
   * Reports wait in the isolate until pulled, so a client can hold its answer before Node has the
   * steps behind it: they are pulled now, with the number of the last one, which Node then waits for
   * (bounded: a verdict request may still carry some; one lost with a cancelled request is skipped,
   * as the gap timer would).
   */
  async settled(): Promise<void> {
    const mark = await this.pull()
    // No answer: the runtime is down (its reports went with it) or restarting.
    if (!mark) return
    const deadline = performance.now() + SETTLE_TIMEOUT_MS
    const behind = () => (this.#expected.get(mark.p) ?? 1) <= mark.s
    while (behind() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    // Still behind: what is missing was lost with its request; record what arrived, in order.
    if (behind()) this.#drain({ kind: 'tap-error', name: '', p: mark.p, s: mark.s })
  }

  /** Sessions seen on the hop, in order of first appearance. */
  sessions(): SessionInfo[] {
    return [...this.#sessions.values()].map((session) => ({ ...session, running: this.running(session.name) }))
  }

  /** Finds a session by its id or its DO name. */
  session(idOrName: string): SessionInfo | undefined {
    const session = this.#sessions.get(idOrName) ?? [...this.#sessions.values()].find((s) => s.id === idOrName)
    return session && { ...session, running: this.running(session.name) }
  }

  /** Changes a session's lifecycle state (lifecycle controls call this). */
  setState(name: string, state: SessionInfo['state']): void {
    const session = this.#sessions.get(name)
    if (session) session.state = state
  }

  /**
   * Hop steps to this DO still running: POST streams the DO has not closed, plus calls and upgrades
   * without an answer for less than STALE_MS (a report lost with a cancelled request must not pin it).
   */
  running(name: string): number {
    const now = performance.now()
    let count = 0
    for (const conn of this.#conns.values()) {
      if (conn.name !== name || !conn.open) continue
      if (conn.running || (!conn.answered && now - conn.at < STALE_MS)) count++
    }
    for (const call of this.#calls.values()) if (call.name === name && now - call.at < STALE_MS) count++
    return count
  }

  /** Timers pending in the Worker's isolate, as last reported by the tap. */
  pendingTimers(): PendingTimer[] {
    return [...this.#timers]
  }

  /** `ctx.waitUntil` promises pending in the Durable Objects, as last reported by the tap. */
  pendingWaitUntil(): PendingWaitUntil[] {
    return [...this.#waitUntil]
  }

  /** WebSockets accepted with `accept()` and still open in the isolate, as last reported by the tap. */
  plainSockets(): PlainSocket[] {
    return [...this.#sockets]
  }

  /** Subscribes to hop activity of any session (the idle policy uses it); returns the unsubscribe function. */
  onActivity(listener: (session: SessionInfo, event: Record<string, unknown>) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Marks every socket closed: after a restart or crash the runtime's sockets are gone. */
  resetConnections(): void {
    this.#conns.clear()
    this.#calls.clear()
    for (const session of this.#sessions.values()) {
      session.openSockets = 0
    }
  }

  /**
   * Handles one report from the tap (`/events` or `/verdict`), bound as a Node handler: no Fetch
   * Request or Response is built on the way (the tap reports on every call, so this path stays lean).
   */
  handleNode(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      // A pull on its way may carry steps before this verdict's (the isolate cannot wait for it):
      // let it land first, or the verdict would skip past them.
      if (this.#pulling) await atMost(this.#pulling, PULL_WAIT_MS)
      let answer: Record<string, unknown>
      try {
        answer = this.#report(req.url ?? '', JSON.parse(Buffer.concat(chunks).toString('utf8')) as TapReport)
      } catch (error) {
        this.#transcript.record({ layer: 'harness', type: 'hop-tap-error', message: String((error as Error)?.stack ?? error) })
        answer = { armed: this.faults.armed, generation: this.faults.generation }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    })
  }

  #report(path: string, body: TapReport): Record<string, unknown> {
    if (body.timers) this.#timers = body.timers
    if (body.waitUntil) this.#waitUntil = body.waitUntil
    if (body.sockets) this.#sockets = body.sockets
    const isVerdict = path.startsWith('/verdict')
    const last = body.events.at(-1)
    let step: HopStep | undefined
    for (const event of body.events) {
      const expected = this.#expected.get(event.p as string) ?? 1
      // A report that arrives after the gap it left was skipped is recorded late, never dropped.
      if ((event.s as number) < expected) this.#record(event)
      else if (event.s === expected && this.#pending.size === 0) {
        // The common case (a pull brings its events in order, nothing waits): recorded at once.
        this.#expected.set(event.p as string, expected + 1)
        const result = this.#record(event)
        if (event === last) step = result
      } else this.#pending.set(`${event.p}:${event.s}`, event)
    }
    // A verdict cannot wait for stragglers: everything up to its own step is recorded now.
    step ??= this.#drain(isVerdict && last ? last : undefined)
    const verdict = isVerdict && step ? this.faults.verdict(step) : undefined
    return { armed: this.faults.armed, generation: this.faults.generation, ...verdict }
  }

  /** Records buffered events in the tap's order; `upTo` forces progress past gaps up to that event. */
  #drain(upTo?: TapEvent): HopStep | undefined {
    let step: HopStep | undefined
    const prefixes = new Set<string>()
    for (const event of this.#pending.values()) prefixes.add(event.p as string)
    // Each prefix in one pass (a pull brings hundreds of events in order: no rescans).
    for (const prefix of prefixes) {
      let expected = this.#expected.get(prefix) ?? 1
      for (;;) {
        let event = this.#pending.get(`${prefix}:${expected}`)
        if (!event && upTo && upTo.p === prefix && (upTo.s as number) >= expected) {
          // Skip the gap: the missing reports are late (or lost with a cancelled request).
          expected = this.#minPending(prefix)
          event = this.#pending.get(`${prefix}:${expected}`)
        }
        if (!event) break
        this.#pending.delete(`${prefix}:${expected}`)
        this.#expected.set(prefix, ++expected)
        const result = this.#record(event)
        if (event === upTo) step = result
      }
    }
    if (this.#pending.size > 0 && !this.#gapTimer) {
      // A gap that lasts is a report lost with its request: move on rather than stall the transcript.
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = undefined
        for (const event of this.#pending.values()) {
          const expected = this.#expected.get(event.p as string) ?? 1
          if ((event.s as number) > expected) this.#expected.set(event.p as string, Math.min(event.s as number, this.#minPending(event.p as string)))
        }
        this.#drain()
      }, 50)
      this.#gapTimer.unref()
    }
    return step
  }

  #minPending(prefix: string): number {
    return Math.min(...[...this.#pending.values()].filter((e) => e.p === prefix).map((e) => e.s as number))
  }

  #session(name: string): SessionInfo {
    let session = this.#sessions.get(name)
    if (!session) {
      const { id, transport } = parseObjectName(name)
      session = { id, transport, name, state: 'active', lastEventAt: 0, running: 0, openSockets: 0 }
      this.#sessions.set(name, session)
    }
    return session
  }

  #rememberRequests(name: string, messages: unknown): void {
    const list = Array.isArray(messages) ? messages : [messages]
    let map = this.#methods.get(name)
    if (!map) this.#methods.set(name, (map = new Map()))
    for (const message of list as RpcMessage[]) {
      if (message && typeof message === 'object' && message.method && message.id !== undefined) map.set(message.id, message.method)
    }
  }

  /** The JSON-RPC methods a message list is about: request methods, or the methods of the requests answered. */
  #methodsOf(name: string, messages: unknown): string[] {
    const list = (Array.isArray(messages) ? messages : [messages]) as RpcMessage[]
    const map = this.#methods.get(name)
    const methods: string[] = []
    for (const message of list) {
      if (!message || typeof message !== 'object') continue
      if (message.method) methods.push(message.method)
      else if (message.id !== undefined && map?.has(message.id)) methods.push(map.get(message.id)!)
    }
    return methods
  }

  #record(event: TapEvent): HopStep | undefined {
    const session = this.#session(event.name)
    if (typeof event.b === 'string') session.binding = event.b
    if (typeof event.o === 'string') session.objectId = event.o
    const base = { layer: 'hop' as const, name: event.name, session: session.id, transport: session.transport }
    const exchange = event.exchange ?? (event.conn ? this.#conns.get(event.conn)?.exchange : undefined)
    const ex = exchange !== undefined ? { exchange } : {}
    let step: HopStep | undefined
    let recorded: Record<string, unknown> | undefined
    switch (event.kind) {
      case 'upgrade': {
        const messages = typeof event.mcpMessage === 'string' ? parseJson(Buffer.from(event.mcpMessage, 'base64').toString('utf8')) : undefined
        if (messages) this.#rememberRequests(event.name, messages)
        const mcpMethod = (event.mcpMethod as string | null) ?? undefined
        this.#conns.set(event.conn!, { name: event.name, exchange: event.exchange, mcpMethod, open: true, running: mcpMethod === 'POST', at: performance.now(), answered: false })
        session.openSockets++
        recorded = { ...base, type: 'upgrade', conn: event.conn, ...ex, mcpMethod, ...(messages ? { messages } : {}) }
        step = { step: 'upgrade', name: event.name, session: session.id, direction: 'worker->do', methods: this.#methodsOf(event.name, messages) }
        break
      }
      case 'upgrade-result': {
        const conn = this.#conns.get(event.conn!)
        if (conn) conn.answered = true
        if (event.status !== 101) this.#closeConn(event.conn!, session)
        recorded = { ...base, type: 'upgrade-result', conn: event.conn, ...ex, status: event.status, ...(event.fault ? { fault: event.fault } : {}) }
        break
      }
      case 'frame': {
        const text = String(event.data ?? '')
        const json = parseJson(text) as Record<string, unknown> | undefined
        const decoded: Record<string, unknown> = {}
        let messages: unknown[] = []
        if (json && json.type === 'cf_mcp_agent_event' && typeof json.event === 'string') {
          const sse = decodeSse(json.event)
          decoded.frame = 'cf_mcp_agent_event'
          decoded.close = Boolean(json.close)
          decoded.sse = sse
          messages = sse.map((item) => item.data)
          const conn = this.#conns.get(event.conn!)
          if (json.close && conn) conn.running = false
        } else if (json !== undefined) {
          decoded.message = json
          messages = [json]
        } else {
          decoded.text = text
        }
        if (event.direction === 'worker->do') this.#rememberRequests(event.name, messages)
        const methods = this.#methodsOf(event.name, messages)
        recorded = { ...base, type: 'frame', conn: event.conn, ...ex, direction: event.direction, nth: event.nth, ...(methods.length ? { methods } : {}), ...decoded }
        step = { step: 'frame', name: event.name, session: session.id, direction: event.direction as HopStep['direction'], methods }
        break
      }
      case 'close':
        this.#closeConn(event.conn!, session)
        recorded = { ...base, type: 'close', conn: event.conn, ...ex, direction: event.direction, code: event.code, reason: event.reason || undefined, wasClean: event.wasClean }
        break
      case 'tap-error':
        recorded = { layer: 'harness', type: 'hop-tap-error', name: event.name, message: event.message }
        break
      case 'error':
        recorded = { ...base, type: 'socket-error', conn: event.conn, ...ex, direction: event.direction, message: event.message }
        break
      case 'rpc': {
        const args = decodeValue(event.args)
        this.#calls.set(event.id!, { name: event.name, at: performance.now() })
        if (event.method === 'onSSEMcpMessage' && Array.isArray(args)) this.#rememberRequests(event.name, args[1])
        const methods = event.method === 'onSSEMcpMessage' && Array.isArray(args) ? this.#methodsOf(event.name, args[1]) : []
        recorded = { ...base, type: 'rpc', call: event.id, ...ex, method: event.method, args }
        step = { step: 'rpc', name: event.name, session: session.id, direction: 'worker->do', rpc: String(event.method), methods }
        break
      }
      case 'rpc-result':
        this.#calls.delete(event.id!)
        recorded = { ...base, type: 'rpc-result', call: event.id, method: event.method, ok: event.ok, ...(event.ok ? { value: decodeValue(event.value) } : { error: event.error }) }
        break
      case 'fetch':
        this.#calls.set(event.id!, { name: event.name, at: performance.now() })
        recorded = { ...base, type: 'fetch', call: event.id, ...ex, method: event.method, url: event.url }
        break
      case 'fetch-result':
        this.#calls.delete(event.id!)
        recorded = { ...base, type: 'fetch-result', call: event.id, status: event.status }
        break
    }
    if (!recorded) return step
    // Only steps that reach the DO make it live again; closes of sockets an eviction dropped do not.
    if (recorded.type === 'rpc' || recorded.type === 'upgrade' || recorded.type === 'fetch' || (recorded.type === 'frame' && recorded.direction === 'worker->do')) session.state = 'active'
    // RPC arguments and values (props often carry access tokens) get the wider rules; none of the
    // event's other keys match them, so one pass over the whole event does it.
    const transcriptEvent = this.#transcript.record(recorded, recorded.type === 'rpc' || recorded.type === 'rpc-result' ? HOP_REDACTORS : undefined)
    session.lastEventAt = transcriptEvent.t
    for (const listener of this.#listeners) listener(session, recorded)
    return step
  }

  #closeConn(connId: string, session: SessionInfo): void {
    const conn = this.#conns.get(connId)
    if (!conn?.open) return
    conn.open = false
    session.openSockets = Math.max(0, session.openSockets - 1)
    conn.running = false
  }
}

// One tap per emulator; the lifecycle controls find it through the emulator's transcript.
const TAPS = new WeakMap<Transcript, HopTap>()

/** The hop tap of the emulator that owns `transcript` (undefined when the tap is off). */
export function hopTapFor(transcript: Transcript): HopTap | undefined {
  return TAPS.get(transcript)
}

function setup(ctx: PluginContext, options: z.output<typeof HopOptionsSchema>) {
  const local = ctx.worker.durableObjects.filter((binding) => !binding.scriptName)
  if (!options.tap || local.length === 0) return
  const tap = new HopTap(ctx.transcript)
  TAPS.set(ctx.transcript, tap)
  // The tap runs in the Worker's own isolate, around its default export and its Durable Object
  // classes (their env, for object-to-object calls): the Worker's bindings and
  // Durable Object classes stay exactly as wrangler configured them (Miniflare's namespace API too).
  // The pull is answered by the tap only with this token (a client cannot send it anyway: the front door strips x-mcp-harness-* headers).
  const flushToken = randomBytes(16).toString('hex')
  const prelude = `const HOP_BINDINGS = ${JSON.stringify(local.map((binding) => binding.binding))}\nconst DIAGNOSE = ${ctx.diagnose.hibernation}\nconst HOP_FLUSH_TOKEN = ${JSON.stringify(flushToken)}\n`
  ctx.wrapEntry({ name: 'hop-tap', source: prelude + readFileSync(TAP_SOURCE, 'utf8'), exportName: 'wrapHop', durableObjectExportName: 'wrapHopObject' })
  const serviceBindings = { ...((ctx.worker.workerOptions.serviceBindings as Record<string, unknown> | undefined) ?? {}), MCP_HARNESS_HOP: { node: (req: IncomingMessage, res: ServerResponse) => tap.handleNode(req, res) } }
  ctx.patchAppWorker({ serviceBindings } as never)
  // Sent straight to workerd's entry socket, routed to the Worker by name: the request never crosses
  // the front door, and it takes one plain HTTP exchange on a kept-alive connection (Miniflare's
  // getWorker() proxy costs about twice the CPU, and Node pulls five times a second under traffic).
  let agent: import('undici').Agent | undefined
  // Loaded on the first pull, once: the pull runs five times a second under traffic.
  let undici: Promise<typeof import('undici')> | undefined
  tap.bindPull(async () => {
    const entry = await ctx.miniflare().ready
    const { Agent, request } = await (undici ??= import('undici'))
    agent ??= new Agent({ connections: 1 })
    // The pull also tells the isolate whether faults are set (the stamp client requests carry).
    const headers = { [HOP_FLUSH_HEADER]: flushToken, [HOP_STAMP_HEADER]: `g=${tap.faults.generation};f=${tap.faults.armed ? 1 : 0}`, 'mf-route-override': ctx.appWorkerName }
    const response = await request(new URL('/', entry), { dispatcher: agent, headers })
    const answer = (await response.body.json().catch(() => ({}))) as Partial<PullAnswer>
    if (typeof answer.p !== 'string' || typeof answer.s !== 'number' || !Array.isArray(answer.events)) throw new Error(`the hop tap did not answer the pull (status ${response.statusCode})`)
    return answer as PullAnswer
  })
  ctx.addMiddleware({
    name: HOP,
    onRequest({ headers, exchange }) {
      tap.touch()
      headers.set(HOP_STAMP_HEADER, `e=${exchange};g=${tap.faults.generation};f=${tap.faults.armed ? 1 : 0}`)
      return undefined
    },
  })
  return {
    afterStart: () => tap.startPolling(),
    beforeStop: async () => {
      tap.stopPolling()
      // What the isolate still buffers goes with it: take it first (bounded: it may hang).
      await atMost(tap.pull(), PULL_WAIT_MS)
      tap.resetConnections()
      // Its connection was to the runtime that stops; the next runtime gets a new socket.
      await agent?.destroy().catch(() => {})
      agent = undefined
    },
  }
}

/**
 * Taps the Worker→DO hop: every RPC call, WebSocket upgrade, frame and close becomes a `hop`
 * transcript event with the DO name, and faults can be injected on it.
 * @example createEmulator({ config, hop: { tap: true } })
 */
export const hopPlugin: EmulatorPlugin<typeof HopOptionsSchema> = { name: HOP, options: HopOptionsSchema, setup }
