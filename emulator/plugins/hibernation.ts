import { z } from 'zod'
import { HarnessError, isHarnessError } from '../../core/errors.ts'
import { parseOptions } from '../../core/zod-error.ts'
import type { Transcript } from '../../core/transcript.ts'
import { hopTapFor, parseObjectName, type HopTap, type SessionInfo } from './hop.ts'
import type { EmulatorPlugin, PluginContext, PluginInstance } from './types.ts'

/** The plugin name; its options live under `options.hibernation`. */
export const HIBERNATION = 'hibernation'

/** How long production keeps an idle Durable Object in memory before it hibernates. */
export const PRODUCTION_IDLE_MS = 10_000

/**
 * Idle policy: `off` (only explicit `evict()`), `production` (evict a DO 10 s after its last event),
 * or `{ idleMs }` (the same, sooner). Eviction goes through on-demand eviction, never a real wait.
 */
export const HibernationOptionsSchema = z
  .union([z.literal('off'), z.literal('production'), z.object({ idleMs: z.number().int().positive().max(600_000) }).strict()])
  .default('off')
export type HibernationOptions = z.input<typeof HibernationOptionsSchema>

export const EvictOptionsSchema = z
  .object({
    /** A session id or a DO name (`streamable-http:<id>`, `sse:<id>`); every known session when omitted. */
    session: z.string().min(1).optional(),
    /**
     * Any object of any of the Worker's own Durable Object classes, also without the hop tap: the
     * class (or its binding) and the object's name (`idFromName`) or id in hex (`newUniqueId`, `idFromString`).
     */
    object: z
      .object({ className: z.string().min(1).optional(), binding: z.string().min(1).optional(), name: z.string().min(1).optional(), id: z.string().regex(/^[0-9a-f]{64}$/, 'expected a 64-digit hex id').optional() })
      .strict()
      .refine((o) => (o.className ?? o.binding) !== undefined, 'name the class ("className") or its binding ("binding")')
      .refine((o) => (o.name === undefined) !== (o.id === undefined), 'give exactly one of "name" and "id"')
      .optional(),
    /** `hibernate` keeps the hop's WebSockets open (production hibernation); `close` closes them. */
    webSockets: z.enum(['hibernate', 'close']).default('hibernate'),
  })
  .strict()
export type EvictOptions = z.input<typeof EvictOptionsSchema>

/** Why a DO could not hibernate (KI-32); `inferred` tells what the harness saw versus concluded. */
export interface HibernationBlocker {
  cause: 'running-request' | 'pending-timer' | 'pending-waitUntil' | 'plain-websocket' | 'active-reference' | 'node-request'
  detail: string
  /**
   * `observed`: seen on this DO's hop or answered by workerd for it; `object`: seen in this DO's own
   * context; `isolate`: seen in the isolate that runs the Worker and all its DOs; `inferred`: not seen,
   * concluded because workerd refused and nothing seen explains it.
   */
  scope: 'observed' | 'object' | 'isolate' | 'inferred'
}

const CONTROL_WORKER = 'mcp-harness-control'
/** How long an eviction may wait for the object's references to drop (workerd itself waits 30 s). */
const EVICT_TIMEOUT_MS = 3_000
/** The idle policy asks more briefly: an evictable object goes in milliseconds, and it will ask again. */
const IDLE_EVICT_TIMEOUT_MS = 500
/** After a refusal the idle policy asks again later and later, up to this. */
const MAX_IDLE_RETRY_MS = 30_000
/** The host of the control Worker's URLs (a reserved TLD); it is reached by name, never routed. */
const CONTROL_HOST = 'mcp-harness-control.invalid'
// Evictions and crashes run inside workerd through workerd's unsafe module, reached with a plain
// async fetch. Miniflare's own unsafeEvictDurableObject() blocks Node's main thread while workerd
// waits for the object's references to drop; a Worker request that is waiting on the hop tap (which
// answers from Node) then never ends, and the eviction fails after 30 s.
const CONTROL_SOURCE = `import unsafe from 'workerd:unsafe'
export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    try {
      if (url.pathname === '/crash') {
        await unsafe.abortAllDurableObjects()
        return new Response('aborted')
      }
      if (url.pathname === '/wipe') {
        await unsafe.deleteAllDurableObjects()
        return new Response('deleted')
      }
      if (url.pathname === '/evict') {
        const ns = env['NS_' + url.searchParams.get('binding')]
        if (!ns) return new Response('no Durable Object binding ' + url.searchParams.get('binding'), { status: 404 })
        const id = url.searchParams.get('id') ? ns.idFromString(url.searchParams.get('id')) : ns.idFromName(url.searchParams.get('name'))
        const stub = ns.get(id)
        const limit = Number(url.searchParams.get('timeoutMs')) || 3000
        let timer
        const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), limit)))
        const outcome = await Promise.race([unsafe.evict(stub, { webSockets: url.searchParams.get('webSockets') || 'hibernate' }).then(() => 'evicted'), timedOut])
        clearTimeout(timer)
        if (outcome === 'timeout') return new Response('still has active references after ' + limit + ' ms', { status: 423 })
        return new Response('evicted')
      }
    } catch (error) {
      return new Response(String(error && error.message || error), { status: 409 })
    }
    return new Response('not found', { status: 404 })
  },
}
`

/** The lifecycle controls of one emulator: evict, crash and the idle policy. */
export class Lifecycle {
  readonly #ctx: PluginContext
  readonly #transcript: Transcript
  readonly #idleMs: number | undefined
  /** The Worker's own Durable Object classes, by binding. */
  readonly #local: Map<string, string>
  readonly #evictedAt = new Map<string, { t: number; why: string }>()
  readonly #idleTimers = new Map<string, NodeJS.Timeout>()
  readonly #lastBlockers = new Map<string, string>()
  /** Refused idle evictions in a row, per object: the next attempt backs off. */
  readonly #refusals = new Map<string, number>()
  #tap: HopTap | undefined
  #off?: () => void

  constructor(ctx: PluginContext, idleMs: number | undefined) {
    this.#ctx = ctx
    this.#transcript = ctx.transcript
    this.#idleMs = idleMs
    this.#local = new Map(ctx.worker.durableObjects.filter((binding) => !binding.scriptName).map((binding) => [binding.binding, binding.className]))
  }

  /** Subscribes to the hop tap (after all plugins set up). */
  attach(): void {
    this.#tap = hopTapFor(this.#transcript)
    if (!this.#tap || this.#off) return
    this.#off = this.#tap.onActivity((session, event) => this.#onActivity(session, event))
  }

  detach(): void {
    this.#off?.()
    this.#off = undefined
    for (const timer of this.#idleTimers.values()) clearTimeout(timer)
    this.#idleTimers.clear()
  }

  /** Sessions seen on the hop (empty when the tap is off). */
  sessions(): SessionInfo[] {
    return this.#tap?.sessions() ?? []
  }

  /**
   * Evicts one session's DO (or every known one) through workerd's on-demand eviction: the next event
   * re-runs the constructor; storage is kept.
   */
  async evict(input: EvictOptions = {}, why: 'manual' | 'idle' = 'manual'): Promise<string[]> {
    const options = parseOptions(EvictOptionsSchema, input, 'evict options')
    this.#requireClass('evict')
    // Which sessions exist and which is active comes from the tap's reports: have them all first.
    await this.#tap?.settled()
    const targets = options.object
      ? [this.#objectTarget(options.object)]
      : options.session
        ? [this.#target(this.#resolve(options.session))]
        : this.#allActive()
    const names = targets.map((target) => target.name)
    for (const { name, binding, id } of targets) {
      const started = performance.now()
      if (!(await this.#quiesce(name))) {
        const blockers = this.blockers(name).filter((blocker) => blocker.cause === 'running-request')
        this.#transcript.record({ layer: 'lifecycle', type: 'not-hibernated', name, session: parseObjectName(name).id, why, blockers })
        // workerd would wait 30 s for the stub in use and then fail: say why at once instead.
        throw new HarnessError(
          'ERR_EVICT_BLOCKED',
          `Failed to evict ${name}: ${blockers.map((b) => b.detail).join('; ') || 'a request to it is still running'} (KI-32: production does not hibernate it either). Let the request finish first, or use crash() to model a hard abort.`,
        )
      }
      const timeoutMs = why === 'idle' ? IDLE_EVICT_TIMEOUT_MS : EVICT_TIMEOUT_MS
      const answer = await this.#control(`/evict?${new URLSearchParams({ binding, ...(id ? { id } : { name }), webSockets: options.webSockets, timeoutMs: String(timeoutMs) })}`, `evict ${name}`)
      if (answer.status === 423) {
        // workerd answers this for a pending timer, a pending waitUntil, a WebSocket accepted with
        // accept(), a stub in use by the Worker, and a request from Node still running (all measured).
        const seen = this.blockers(name).filter((blocker) => blocker.cause !== 'running-request')
        const blockers: HibernationBlocker[] = [
          { cause: 'active-reference', detail: `workerd refused to evict ${name} for ${timeoutMs} ms: it still has active references`, scope: 'observed' },
          ...seen,
        ]
        if (seen.length === 0) {
          // Requests made from Node straight to the object bypass the Worker and its hop tap; with the
          // tap off, the in-isolate causes are not visible either.
          const unseen =
            this.#tap && this.#ctx.diagnose.hibernation
              ? ''
              : `, or a pending timer, a pending ctx.waitUntil() or a WebSocket accepted with accept() (not watched: create the emulator with ${this.#tap ? '' : 'the hop tap on and '}diagnose: { hibernation: true } to have them reported with where they were created)`
          blockers.push({
            cause: 'node-request',
            detail: `nothing the harness sees explains it: possibly a request from Node through a stub (emulator.miniflare.getDurableObjectNamespace(…).get(id)) still running, e.g. an unread response body or an open WebSocket (a stub merely held does not block)${unseen}`,
            scope: 'inferred',
          })
        }
        if (why === 'idle') this.#notHibernated(name, parseObjectName(name).id, blockers)
        else this.#transcript.record({ layer: 'lifecycle', type: 'not-hibernated', name, session: parseObjectName(name).id, why, blockers })
        throw new HarnessError(
          'ERR_EVICT_BLOCKED',
          `Failed to evict ${name}: ${blockers.map((b) => b.detail).join('; ')} (KI-32: production cannot hibernate it either). Clear the timer, settle the waitUntil work, accept sockets with ctx.acceptWebSocket() or finish the request, or use crash() to model a hard abort.`,
        )
      }
      const ms = Math.round((performance.now() - started) * 10) / 10
      this.#tap?.setState(name, options.webSockets === 'hibernate' ? 'hibernated' : 'evicted')
      const already = answer.status === 204 ? { alreadyOutOfMemory: true } : {}
      const event = this.#transcript.record({ layer: 'lifecycle', type: 'evicted', name, session: parseObjectName(name).id, why, webSockets: options.webSockets, ms, ...already })
      this.#evictedAt.set(name, { t: event.t, why: `evicted:${why}` })
      this.#clearIdle(name)
    }
    return names
  }

  /**
   * Waits (bounded) until no hop step to this DO is running: workerd refuses to evict an object whose
   * stub is in use, and waits up to 30 s for it.
   */
  async #quiesce(name: string, timeoutMs = 2_500): Promise<boolean> {
    // evict() has the tap's reports of every step so far (settled()): what is running is known.
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const session = this.#tap?.session(name)
      if (!session || session.running === 0) return true
      if (performance.now() >= deadline) return false
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /** Aborts every Durable Object like a crash: sockets close 1006, storage is kept. */
  async crash(): Promise<void> {
    // The sessions it marks crashed come from the tap's reports: have them all first.
    await this.#tap?.settled()
    const started = performance.now()
    await this.#control('/crash', 'crash the Durable Objects')
    const ms = Math.round((performance.now() - started) * 10) / 10
    const event = this.#transcript.record({ layer: 'lifecycle', type: 'crashed', sessions: this.sessions().map((s) => s.name), ms })
    for (const session of this.sessions()) {
      this.#tap?.setState(session.name, 'crashed')
      this.#evictedAt.set(session.name, { t: event.t, why: 'crashed' })
      this.#clearIdle(session.name)
    }
  }

  /**
   * Deletes the storage of every Durable Object in workerd, Miniflare's own included (KV, R2, D1 and
   * the cache are Durable Objects inside Miniflare), and drops the running instances: the runtime
   * stays up. Miniflare's internal objects that must not be evicted (queues, workflows) keep theirs.
   */
  async deleteAllDurableObjects(): Promise<void> {
    await this.#control('/wipe', 'wipe storage')
  }

  /** Marks every session as restarted with the runtime (its DOs start anew on the next event). */
  restarted(): void {
    const t = this.#transcript.events.at(-1)?.t ?? 0
    for (const session of this.sessions()) {
      this.#tap?.setState(session.name, 'evicted')
      this.#evictedAt.set(session.name, { t, why: 'restarted' })
      this.#clearIdle(session.name)
    }
    this.#tap?.resetConnections()
  }

  /** Why this DO could not hibernate right now, from what the hop and the isolate show (KI-32). */
  blockers(name: string): HibernationBlocker[] {
    const session = this.#tap?.session(name)
    const blockers: HibernationBlocker[] = []
    if (session && session.running > 0) {
      blockers.push({ cause: 'running-request', detail: `${session.running} request(s) or RPC call(s) to ${name} have not finished`, scope: 'observed' })
    }
    for (const timer of this.#tap?.pendingTimers() ?? []) {
      blockers.push({ cause: 'pending-timer', detail: `${timer.kind}(${timer.ms} ms) pending, created at ${timer.site || 'an unknown site'}`, scope: 'isolate' })
    }
    for (const wait of this.#tap?.pendingWaitUntil() ?? []) {
      if (wait.object !== name) continue
      blockers.push({ cause: 'pending-waitUntil', detail: `ctx.waitUntil() promise pending in ${name}, called at ${wait.site || 'an unknown site'}`, scope: 'object' })
    }
    for (const socket of this.#tap?.plainSockets() ?? []) {
      blockers.push({ cause: 'plain-websocket', detail: `WebSocket accepted with accept() instead of ctx.acceptWebSocket() still open, accepted at ${socket.site || 'an unknown site'}`, scope: 'isolate' })
    }
    return blockers
  }

  async #control(pathAndQuery: string, what: string): Promise<{ status: number; text: string }> {
    // Reached by name from Node: the control Worker has no route, so no client request can reach it.
    const control = await this.#ctx.miniflare().getWorker(CONTROL_WORKER)
    const response = (await control.fetch(`http://${CONTROL_HOST}${pathAndQuery}`)) as unknown as Response
    const text = await response.text()
    // 409 "not currently running": the object is already out of memory (e.g. the idle policy got there first).
    if (response.status === 409 && /not currently running/.test(text)) return { status: 204, text }
    if (response.status !== 200 && response.status !== 423) throw new HarnessError('ERR_UNSUPPORTED', `Failed to ${what}: workerd answered ${response.status}: ${text}`)
    return { status: response.status, text }
  }

  #requireClass(what: string): void {
    if (this.#local.size === 0) {
      throw new HarnessError('ERR_UNSUPPORTED', `Failed to ${what}: the Worker "${this.#ctx.worker.name}" binds no Durable Object class of its own.`)
    }
  }

  /** Every object the hop saw active; without the tap the emulator sees none, and says so. */
  #allActive(): { name: string; binding: string; id?: string }[] {
    if (!this.#tap) {
      throw new HarnessError(
        'ERR_UNSUPPORTED',
        'Failed to evict every active object: with the hop tap off the emulator does not see which objects exist. Name one with evict({ object: { className, name } }) (or { id }), or turn the tap on (hop: { tap: true }).',
      )
    }
    return this.sessions()
      .filter((s) => s.state === 'active')
      .map((s) => this.#target(s.name))
  }

  /** Where to evict a DO the hop saw: its binding and id (an MCP session's object is named). */
  #target(name: string): { name: string; binding: string; id?: string } {
    const session = this.#tap?.session(name)
    const binding = session?.binding ?? this.#local.keys().next().value!
    // The id reaches named and unique objects alike (idFromString of a named id is that object).
    return { name, binding, ...(session?.objectId ? { id: session.objectId } : {}) }
  }

  #objectTarget(object: NonNullable<z.output<typeof EvictOptionsSchema>['object']>): { name: string; binding: string; id?: string } {
    const binding = object.binding ?? [...this.#local].find(([, className]) => className === object.className)?.[0]
    if (!binding || !this.#local.has(binding)) {
      throw new HarnessError(
        'ERR_UNKNOWN_SESSION',
        `Failed to evict: the Worker has no Durable Object class of its own named ${object.className ?? object.binding}. Its classes: ${[...this.#local].map(([b, c]) => `${c} (binding ${b})`).join(', ')}.`,
      )
    }
    return { name: object.name ?? object.id!, binding, ...(object.id ? { id: object.id } : {}) }
  }

  #resolve(session: string): string {
    const known = this.#tap?.session(session)
    if (known) return known.name
    if (/^(streamable-http|sse):/.test(session)) return session
    const seen = this.sessions().map((s) => s.id)
    throw new HarnessError(
      'ERR_UNKNOWN_SESSION',
      `Failed to find session "${session}": the emulator has not seen it on the Worker→DO hop. Known sessions: ${seen.length ? seen.join(', ') : '(none)'}. Pass a session id the client received, or a DO name like "streamable-http:<id>".`,
    )
  }

  #onActivity(session: SessionInfo, event: Record<string, unknown>): void {
    const evicted = this.#evictedAt.get(session.name)
    // Only steps that reach the DO wake it; closes of sockets the eviction dropped do not.
    const reachesObject = event.type === 'rpc' || event.type === 'upgrade' || event.type === 'fetch' || (event.type === 'frame' && event.direction === 'worker->do')
    if (evicted && reachesObject) {
      this.#evictedAt.delete(session.name)
      const now = this.#transcript.events.at(-1)?.t ?? evicted.t
      // The constructor re-runs on the first event after an eviction: the hop sees that event.
      this.#transcript.record({ layer: 'lifecycle', type: 'woke', name: session.name, session: session.id, after: evicted.why, sinceMs: Math.round((now - evicted.t) * 10) / 10, by: event.type, detectedBy: 'hop' })
    }
    if (this.#idleMs !== undefined) this.#armIdle(session.name)
  }

  #armIdle(name: string, delayMs = this.#idleMs): void {
    this.#clearIdle(name)
    const timer = setTimeout(() => {
      this.#idleTimers.delete(name)
      this.#onIdle(name).catch((error) => {
        this.#transcript.record({ layer: 'lifecycle', type: 'idle-evict-failed', name, error: String((error as Error).message ?? error) })
      })
    }, delayMs)
    timer.unref()
    this.#idleTimers.set(name, timer)
  }

  #clearIdle(name: string): void {
    const timer = this.#idleTimers.get(name)
    if (timer) clearTimeout(timer)
    this.#idleTimers.delete(name)
    this.#lastBlockers.delete(name)
  }

  /**
   * The idle rule of production (https://developers.cloudflare.com/durable-objects/concepts/durable-object-lifecycle/):
   * an object with no incoming event for 10 s leaves memory: it hibernates when its only connections
   * are hibernatable WebSockets, and is evicted when it has none; one with a non-hibernatable
   * connection or pending work stays (workerd refuses, and the refusal is reported, KI-32). The rule
   * is applied per object: what pends in one object never holds another back.
   */
  async #onIdle(name: string): Promise<void> {
    const session = this.#tap?.session(name)
    if (!session || session.state !== 'active') return
    // Only what belongs to this object holds it back before workerd is asked.
    const blockers = this.blockers(name).filter((blocker) => blocker.scope !== 'isolate')
    if (blockers.length > 0) {
      this.#notHibernated(name, session.id, blockers)
      return
    }
    try {
      await this.evict({ session: name, webSockets: 'hibernate' }, 'idle')
      this.#refusals.delete(name)
    } catch (error) {
      if (!isHarnessError(error, 'ERR_EVICT_BLOCKED')) throw error
      // workerd refused (the refusal and its causes are in the transcript): ask again, later each time.
      const refusals = (this.#refusals.get(name) ?? 0) + 1
      this.#refusals.set(name, refusals)
      this.#armIdle(name, Math.min(MAX_IDLE_RETRY_MS, Math.max(this.#idleMs ?? 0, 1_000) * 2 ** (refusals - 1)))
    }
  }

  /** Production would keep this DO in memory (and bill it): say so once per distinct cause set. */
  #notHibernated(name: string, session: string, blockers: HibernationBlocker[]): void {
    const key = JSON.stringify(blockers)
    if (this.#lastBlockers.get(name) !== key) {
      this.#transcript.record({ layer: 'lifecycle', type: 'not-hibernated', name, session, idleMs: this.#idleMs, blockers })
    }
    this.#armIdle(name)
    this.#lastBlockers.set(name, key)
  }
}

// One lifecycle per emulator, found through the emulator's transcript.
const LIFECYCLES = new WeakMap<Transcript, Lifecycle>()

/** The lifecycle controls of the emulator that owns `transcript`. */
export function lifecycleFor(transcript: Transcript): Lifecycle | undefined {
  return LIFECYCLES.get(transcript)
}

function setup(ctx: PluginContext, options: z.output<typeof HibernationOptionsSchema>): PluginInstance {
  const idleMs = options === 'off' ? undefined : options === 'production' ? PRODUCTION_IDLE_MS : options.idleMs
  const lifecycle = new Lifecycle(ctx, idleMs)
  LIFECYCLES.set(ctx.transcript, lifecycle)
  const local = ctx.worker.durableObjects.filter((binding) => !binding.scriptName)
  ctx.addWorker({
    name: CONTROL_WORKER,
    modules: [{ type: 'ESModule', path: 'control.worker.js', contents: CONTROL_SOURCE }],
    compatibilityDate: ctx.worker.compatibilityDate,
    compatibilityFlags: ['unsafe_module'],
    durableObjects: Object.fromEntries(local.map((binding) => [`NS_${binding.binding}`, { className: binding.className, scriptName: ctx.appWorkerName, useSQLite: binding.useSQLite }])),
  } as never)
  return {
    afterStart: () => {
      lifecycle.attach()
      // After restart() every DO starts anew; on the first start there are no sessions yet.
      lifecycle.restarted()
    },
    beforeStop: () => lifecycle.detach(),
  }
}

/**
 * Evicts idle Durable Objects like production hibernation, and provides evict / crash controls.
 * @example createEmulator({ config, hibernation: { idleMs: 50 } })
 */
export const hibernationPlugin: EmulatorPlugin<typeof HibernationOptionsSchema> = { name: HIBERNATION, options: HibernationOptionsSchema, setup }
