// IoContext limits that standalone workerd does not enforce, modelled inside workerd. The emulator
// generates an entry module that re-exports the user's Worker, wraps its default export with
// `wrapDefault` and each local Durable Object class with `wrapDurableObject`. Every invocation (a
// fetch stamped by the front door, a scheduled or queue event, a Durable Object's fetch, RPC call,
// alarm or WebSocket event) gets a tracker that watches the handler, the response body and every
// `ctx.waitUntil` task, and cancels them the way production does. The limits themselves, and where
// production documents them, are in emulator/plugins/io-context.ts (PRODUCTION_LIMITS); the plugin
// prepends `const MODEL_LIMITS = {waitUntilMs, inactivityMs, wallMs}` (scaled) to this source.
// Cancelling a task settles the promise workerd waits on, so workerd ends the IoContext and drops
// the task's pending I/O, as production does. Reports go to Node through the outbound service.

/** Request header the front door stamps: `{"exchange":n,"waitUntilMs":n,"inactivityMs":n}`. */
const STAMP = 'x-mcp-harness-io'
/** Answered by the emulator's outbound handler; never reaches a network. */
const REPORT_URL = 'http://mcp-harness.internal/io-context'
const INACTIVITY_MESSAGE = 'IoContext timed out due to inactivity, waitUntil tasks were cancelled'
const WAIT_UNTIL_MESSAGE = 'waitUntil() tasks did not complete within the allowed time after invocation end and have been cancelled.'
/** Production logs no text of its own for these; the harness says what was cut and by which limit. */
const wallMessage = (what, ms) => `${what} ran past its wall-clock limit (${ms} ms here) and was cancelled`
/** Limits of invocations the front door cannot stamp (scheduled, queue, Durable Object events). */
const EVENT_LIMITS = typeof MODEL_LIMITS === 'undefined' ? undefined : MODEL_LIMITS

const platformFetch = globalThis.fetch.bind(globalThis)
/** Trackers of the requests in flight in this isolate. */
const live = new Set()
/** Durable Object events in flight in this isolate: a Worker awaiting one is waiting on I/O, not idle. */
let objectEventsInFlight = 0

// Outbound I/O of the isolate counts as activity for every request in flight: without an async
// context we cannot tell which request issued it, and erring towards "active" avoids false timeouts.
globalThis.fetch = function fetch(...args) {
  for (const tracker of live) tracker.touch()
  const result = platformFetch(...args)
  result.then(
    () => live.forEach((tracker) => tracker.touch()),
    () => live.forEach((tracker) => tracker.touch()),
  )
  return result
}

function deferred() {
  let resolve
  const promise = new Promise((r) => (resolve = r))
  return { promise, resolve }
}

/** This module's own file, read from a stack taken at load, so its frames can be skipped. */
const OWN_FILE = /\(?([^\s()]+):\d+:\d+\)?$/.exec(String(new Error().stack).split('\n')[1] ?? '')?.[1] ?? 'io-context'

/** Names the code that called `waitUntil`: the first stack frame outside this module. */
function callerOf(stack) {
  const frames = String(stack ?? '').split('\n').slice(1).map((line) => line.trim())
  const frame = frames.find((line) => line.startsWith('at ') && !line.includes(OWN_FILE))
  if (!frame) return 'anonymous task'
  // `at name (file:///…/index.js:12:3)` → `name (index.js:12:3)`: the function and where it called.
  return frame.slice(3).replace(/\(?[^\s()]*\/([^/\s()]+:\d+:\d+)\)?/, (_all, place) => `(${place})`)
}

class IoTracker {
  /** `entry`: the handler it runs (`fetch`, `scheduled`, `queue`). */
  constructor(ctx, limits, label, entry = 'fetch') {
    this.platformCtx = ctx
    this.limits = limits
    this.label = label
    this.entry = entry
    this.wallTimer = undefined
    this.tasks = new Map()
    this.nextTask = 1
    this.phase = 'handler'
    this.timer = undefined
    this.afterResponseTimer = undefined
    this.handlerCancel = deferred()
    this.bodyController = undefined
    this.done = false
    const waitUntil = (promise) => this.waitUntil(promise, callerOf(new Error().stack))
    this.ctx = new Proxy(ctx, {
      get(target, property) {
        if (property === 'waitUntil') return waitUntil
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    live.add(this)
    this.touch()
  }

  /** Pending work keeps the inactivity clock running; any progress restarts it. */
  touch() {
    if (this.done) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.onInactive(), this.limits.inactivityMs)
  }

  waitUntil(promise, label) {
    const id = this.nextTask++
    const cancel = deferred()
    const started = Date.now()
    this.tasks.set(id, { label, started, cancel })
    this.touch()
    const settled = Promise.resolve(promise).then(
      () => 'settled',
      () => 'settled',
    )
    this.platformCtx.waitUntil(
      Promise.race([settled, cancel.promise]).then(() => {
        if (!this.tasks.delete(id)) return
        this.touch()
        this.maybeFinish()
      }),
    )
  }

  async run(handler) {
    let response
    try {
      response = await Promise.race([handler(), this.handlerCancel.promise])
    } catch (error) {
      this.onResponded(false)
      throw error
    }
    if (response instanceof CancelledBy) return new Response(INACTIVITY_MESSAGE, { status: 500 })
    this.touch()
    if (!response.body || response.webSocket || response.status === 101) {
      this.onResponded(false)
      return response
    }
    this.phase = 'streaming'
    const reader = response.body.getReader()
    const body = new ReadableStream({
      start: (controller) => {
        this.bodyController = controller
      },
      pull: async (controller) => {
        const { done, value } = await reader.read()
        if (done) {
          controller.close()
          this.onResponded(true)
        } else {
          this.touch()
          controller.enqueue(value)
        }
      },
      cancel: (reason) => {
        this.onResponded(true)
        return reader.cancel(reason)
      },
    })
    return new Response(body, response)
  }

  /**
   * Runs an event handler (scheduled, queue): cancelled past its wall-clock limit or when inactive, it
   * rejects, so the caller sees the invocation fail (a queue batch is retried, as production does).
   */
  async runEvent(handler) {
    if (this.limits.wallMs) this.wallTimer = setTimeout(() => this.onWallLimit(), this.limits.wallMs)
    try {
      const result = await Promise.race([handler(), this.handlerCancel.promise])
      if (result instanceof CancelledBy) throw result.error
      return result
    } finally {
      clearTimeout(this.wallTimer)
      this.onResponded()
    }
  }

  onWallLimit() {
    if (this.done || this.phase !== 'handler') return
    const message = wallMessage(`The ${this.entry} handler for ${this.label}`, this.limits.wallMs)
    console.error(message)
    const reported = this.report('wall', message)
    this.cancelTasks()
    reported.then(() => this.handlerCancel.resolve(new CancelledBy(new Error(message))))
    this.finish()
  }

  /** The invocation ended (response sent or client gone): the waitUntil clock starts. */
  onResponded() {
    if (this.phase === 'after-response' || this.done) return
    this.phase = 'after-response'
    if (this.tasks.size > 0) this.afterResponseTimer = setTimeout(() => this.onWaitUntilLimit(), this.limits.waitUntilMs)
    this.maybeFinish()
  }

  maybeFinish() {
    if (this.phase !== 'after-response' || this.tasks.size > 0) return
    this.finish()
  }

  finish() {
    this.done = true
    clearTimeout(this.timer)
    clearTimeout(this.afterResponseTimer)
    clearTimeout(this.wallTimer)
    live.delete(this)
  }

  pendingWork() {
    const now = Date.now()
    const tasks = [...this.tasks.values()].map((task) => ({ kind: 'waitUntil', name: task.label, ageMs: now - task.started }))
    if (this.phase === 'handler') tasks.unshift({ kind: 'handler', name: `${this.entry} handler for ${this.label} (${this.entry === 'fetch' ? 'no response yet' : 'not finished'})` })
    return tasks
  }

  cancelTasks() {
    for (const task of this.tasks.values()) task.cancel.resolve('cancelled')
  }

  report(kind, message) {
    return sendReport(this.platformCtx, { kind, entry: this.entry, message, exchange: this.limits.exchange, request: this.label, phase: this.phase, pending: this.pendingWork(), limits: this.limits })
  }

  onWaitUntilLimit() {
    if (this.done || this.tasks.size === 0) return
    console.warn(WAIT_UNTIL_MESSAGE)
    this.report('waitUntil', WAIT_UNTIL_MESSAGE)
    this.cancelTasks()
    this.finish()
  }

  onInactive() {
    const pending = this.phase === 'handler' || this.tasks.size > 0
    if (this.done || !pending) return
    // Awaiting a Durable Object (a stub call in flight) is waiting on I/O: the object's own model
    // decides when that call ends.
    if (this.phase === 'handler' && objectEventsInFlight > 0) return this.touch()
    console.error(INACTIVITY_MESSAGE)
    // The harness cancels the client's exchange before the handler gives up, so no answer leaks out.
    const reported = this.report('inactivity', INACTIVITY_MESSAGE)
    this.cancelTasks()
    reported.then(() => {
      this.handlerCancel.resolve(new CancelledBy(new Error(INACTIVITY_MESSAGE)))
      try {
        this.bodyController?.error(new Error(INACTIVITY_MESSAGE))
      } catch {
        // The body already ended.
      }
    })
    this.finish()
  }
}

/** A handler's race lost to the model: the error its caller gets. */
class CancelledBy {
  constructor(error) {
    this.error = error
  }
}

/** Sends a report to Node, keeping the IoContext alive until it is out. */
function sendReport(platformCtx, report) {
  const sent = platformFetch(REPORT_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) }).then(
    (response) => response.arrayBuffer(),
    () => undefined,
  )
  try {
    platformCtx.waitUntil(sent)
  } catch {
    // A Durable Object event may have ended; the report still goes out.
  }
  return sent
}

/** Runs one stamped fetch under the model; an unstamped one (not from the front door) runs as it is. */
function modelled(request, ctx, call) {
  const stamp = request.headers.get(STAMP)
  if (!stamp) return call(request, ctx)
  const limits = JSON.parse(stamp)
  const headers = new Headers(request.headers)
  headers.delete(STAMP)
  const unstamped = new Request(request, { headers })
  const tracker = new IoTracker(ctx, limits, `${request.method} ${new URL(request.url).pathname}`)
  return tracker.run(() => call(unstamped, tracker.ctx))
}

/** Event handlers of a Worker that run under the model besides fetch, and how each is named. */
const EVENT_HANDLERS = {
  scheduled: (controller) => `cron ${controller?.cron ?? ''}`.trim(),
  queue: (batch) => `queue ${batch?.queue ?? ''} (${batch?.messages?.length ?? 0} messages)`,
}

/** Runs a scheduled or queue event under the model (limits from the plugin; none: as it is). */
function modelledEvent(kind, limits, event, ctx, call) {
  if (!limits || !ctx) return call(ctx)
  const tracker = new IoTracker(ctx, { waitUntilMs: limits.waitUntilMs, inactivityMs: limits.inactivityMs, wallMs: limits.wallMs }, EVENT_HANDLERS[kind](event), kind)
  return tracker.runEvent(() => call(tracker.ctx))
}

/**
 * Wraps a module Worker's default export so that its invocations run under the IoContext model:
 * stamped fetches, and scheduled and queue events. An object (own or prototype handlers; any other
 * handler passes through with `this` unchanged) or a WorkerEntrypoint class (its `this.ctx` is the
 * modelled context for the invocation).
 */
export function wrapDefault(handler, limits = EVENT_LIMITS) {
  if (typeof handler === 'function') {
    const proto = handler.prototype
    const fetch = proto?.fetch
    const events = Object.keys(EVENT_HANDLERS).filter((kind) => limits && typeof proto?.[kind] === 'function')
    if (typeof fetch !== 'function' && events.length === 0) return handler
    // The instance serves one invocation: its ctx is the modelled one while it runs.
    const useCtx = (instance, platformCtx, ctx) => {
      if (ctx !== platformCtx) Object.defineProperty(instance, 'ctx', { value: ctx, writable: true, configurable: true, enumerable: true })
    }
    const wrapped = class extends handler {}
    if (typeof fetch === 'function') {
      wrapped.prototype.fetch = function (request, ...rest) {
        const platformCtx = this.ctx
        return modelled(request, platformCtx, (req, ctx) => {
          useCtx(this, platformCtx, ctx)
          return fetch.call(this, req, ...rest)
        })
      }
    }
    for (const kind of events) {
      const original = proto[kind]
      wrapped.prototype[kind] = function (event, ...rest) {
        const platformCtx = this.ctx
        return modelledEvent(kind, limits, event, platformCtx, (ctx) => {
          useCtx(this, platformCtx, ctx)
          return original.call(this, event, ...rest)
        })
      }
    }
    return wrapped
  }
  if (!handler || typeof handler !== 'object') return handler
  const events = Object.keys(EVENT_HANDLERS).filter((kind) => limits && typeof handler[kind] === 'function')
  if (typeof handler.fetch !== 'function' && events.length === 0) return handler
  const wrapped = Object.create(handler)
  if (typeof handler.fetch === 'function') wrapped.fetch = (request, env, ctx) => modelled(request, ctx, (req, modelledCtx) => handler.fetch(req, env, modelledCtx))
  for (const kind of events) {
    wrapped[kind] = (event, env, ctx) => modelledEvent(kind, limits, event, ctx, (modelledCtx) => handler[kind](event, env, modelledCtx ?? ctx))
  }
  return wrapped
}

/**
 * One Durable Object's invocations under the model. Production keeps an object with pending work
 * alive "at least 70 seconds after the last client disconnects" (see PRODUCTION_LIMITS), so:
 *  - an event in flight (fetch, RPC call, alarm, WebSocket event) with no activity for
 *    `inactivityMs` is cancelled: its caller's call rejects with production's inactivity error;
 *  - once no event is in flight, the object's pending `waitUntil` tasks are cancelled
 *    `inactivityMs` after the last event ended, however busy they are; a new event postpones it;
 *  - an alarm running past `wallMs` is cancelled (its caller, the alarm scheduler, retries it).
 */
class ObjectTracker {
  constructor(platformCtx, limits, label) {
    this.platformCtx = platformCtx
    this.limits = limits
    this.label = label
    this.events = new Map()
    this.tasks = new Map()
    this.next = 1
    this.timer = undefined
  }

  /** Activity of an event in flight restarts its inactivity clock; after the last event, nothing does. */
  touch() {
    if (this.events.size === 0) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.onInactive(), this.limits.inactivityMs)
  }

  /** Runs one incoming event; `options.wallMs` bounds it, `options.body` follows a fetch's response body. */
  async event(name, run, options = {}) {
    const id = this.next++
    const cancel = deferred()
    const entry = { name, started: Date.now(), cancel, wall: undefined, streaming: false }
    this.events.set(id, entry)
    objectEventsInFlight++
    live.add(this)
    this.touch()
    if (options.wallMs) entry.wall = setTimeout(() => this.onWallLimit(id), options.wallMs)
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      clearTimeout(entry.wall)
      this.events.delete(id)
      objectEventsInFlight--
      this.afterEvent()
    }
    try {
      const result = await Promise.race([run(), cancel.promise])
      if (result instanceof CancelledBy) throw result.error
      if (options.body && result instanceof Response && result.body && !result.webSocket && result.status !== 101) {
        entry.streaming = true
        return this.followBody(result, end, cancel)
      }
      end()
      return result
    } catch (error) {
      end()
      throw error
    }
  }

  /**
   * A streamed response keeps its event in flight until the body ends (its reader is a connected
   * client, so the object's leftovers are not cut meanwhile); each chunk is activity. A quiet stream
   * is not idle work: as for a Worker's response body, only its end or its reader's going ends it.
   */
  followBody(response, end, cancel) {
    const reader = response.body.getReader()
    const body = new ReadableStream({
      pull: async (controller) => {
        const next = await Promise.race([reader.read(), cancel.promise])
        if (next instanceof CancelledBy) {
          end()
          reader.cancel(next.error).catch(() => {})
          return controller.error(next.error)
        }
        if (next.done) {
          controller.close()
          end()
        } else {
          this.touch()
          controller.enqueue(next.value)
        }
      },
      cancel: (reason) => {
        end()
        return reader.cancel(reason)
      },
    })
    return new Response(body, response)
  }

  afterEvent() {
    if (this.events.size > 0) return this.touch()
    live.delete(this)
    clearTimeout(this.timer)
    this.timer = this.tasks.size > 0 ? setTimeout(() => this.onInactive(), this.limits.inactivityMs) : undefined
  }

  waitUntil(promise, label) {
    const id = this.next++
    const cancel = deferred()
    this.tasks.set(id, { label, started: Date.now(), cancel })
    if (this.events.size === 0 && this.timer === undefined) this.timer = setTimeout(() => this.onInactive(), this.limits.inactivityMs)
    const settled = Promise.resolve(promise).then(
      () => 'settled',
      () => 'settled',
    )
    this.platformCtx.waitUntil(
      Promise.race([settled, cancel.promise]).then(() => {
        if (!this.tasks.delete(id)) return
        if (this.events.size === 0 && this.tasks.size === 0) {
          clearTimeout(this.timer)
          this.timer = undefined
        }
      }),
    )
  }

  pendingWork() {
    const now = Date.now()
    return [
      ...[...this.events.values()].map((event) => ({ kind: 'handler', name: `${event.name} of ${this.label} (not finished)`, ageMs: now - event.started })),
      ...[...this.tasks.values()].map((task) => ({ kind: 'waitUntil', name: task.label, ageMs: now - task.started })),
    ]
  }

  report(kind, message, request, pending) {
    return sendReport(this.platformCtx, { kind, entry: 'durable-object', message, request, phase: this.events.size ? 'handler' : 'after-response', pending, limits: this.limits })
  }

  onInactive() {
    this.timer = undefined
    const events = [...this.events.values()].filter((event) => !event.streaming)
    // Nothing stuck, and either nothing left behind or a client still reading a stream: no cut.
    if (events.length === 0 && (this.events.size > 0 || this.tasks.size === 0)) return
    console.error(INACTIVITY_MESSAGE)
    const reported = this.report('inactivity', INACTIVITY_MESSAGE, events[0]?.name ? `${events[0].name} of ${this.label}` : this.label, this.pendingWork())
    for (const task of this.tasks.values()) task.cancel.resolve('cancelled')
    this.tasks.clear()
    // The callers learn after the report is out, so the transcript names the cause first.
    reported.then(() => {
      for (const event of events) event.cancel.resolve(new CancelledBy(new Error(INACTIVITY_MESSAGE)))
    })
  }

  onWallLimit(id) {
    const event = this.events.get(id)
    if (!event) return
    const message = wallMessage(`The ${event.name} of ${this.label}`, this.limits.wallMs)
    console.error(message)
    const now = Date.now()
    this.report('wall', message, `${event.name} of ${this.label}`, [{ kind: 'handler', name: `${event.name} of ${this.label} (not finished)`, ageMs: now - event.started }]).then(() =>
      event.cancel.resolve(new CancelledBy(new Error(message))),
    )
  }
}

/** The Durable Object handlers workerd calls, besides RPC methods. */
const OBJECT_HANDLERS = ['fetch', 'alarm', 'webSocketMessage', 'webSocketClose', 'webSocketError']
const trackers = new WeakMap()

/** Async methods along a class's prototype chain (RPC entry points), up to the runtime's base class. */
function asyncMethods(cls) {
  const names = new Set()
  for (let proto = cls.prototype; proto && proto !== Object.prototype && proto.constructor?.name !== 'DurableObject'; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || OBJECT_HANDLERS.includes(name)) continue
      const value = Object.getOwnPropertyDescriptor(proto, name)?.value
      // Only async methods can be left pending; a sync one returns before any limit applies.
      if (typeof value === 'function' && value.constructor?.name === 'AsyncFunction') names.add(name)
    }
  }
  return names
}

/**
 * Wraps a Durable Object class so that each of its events (fetch, RPC call, alarm, WebSocket event)
 * runs under the model, and `this.ctx.waitUntil` tasks are tracked per object.
 */
export function wrapDurableObject(cls, limits = EVENT_LIMITS) {
  if (typeof cls !== 'function' || !limits) return cls
  const wrapped = class extends cls {
    constructor(ctx, ...rest) {
      super(ctx, ...rest)
      // The tracker keeps the runtime's own waitUntil; the object's calls go through the tracker.
      const platform = { waitUntil: typeof ctx?.waitUntil === 'function' ? ctx.waitUntil.bind(ctx) : () => {} }
      const tracker = new ObjectTracker(platform, limits, `${cls.name} ${ctx?.id?.name ?? String(ctx?.id ?? '').slice(0, 12)}`.trim())
      trackers.set(this, tracker)
      const label = (stack) => callerOf(stack)
      // The object's ctx is the runtime's own (storage, WebSockets, id unchanged); only waitUntil is observed.
      const waitUntil = (promise) => tracker.waitUntil(promise, label(new Error().stack))
      try {
        Object.defineProperty(ctx, 'waitUntil', { value: waitUntil, configurable: true, writable: true })
      } catch {
        // A runtime object that refuses own properties: its waitUntil stays unobserved.
      }
    }
  }
  Object.defineProperty(wrapped, 'name', { value: cls.name })
  const observe = (name, event, options) => {
    const original = cls.prototype[name]
    wrapped.prototype[name] = function (...args) {
      const tracker = trackers.get(this)
      if (!tracker) return original.apply(this, args)
      return tracker.event(event, () => original.apply(this, args), options)
    }
  }
  for (const name of OBJECT_HANDLERS) {
    if (typeof cls.prototype[name] !== 'function') continue
    observe(name, name, { body: name === 'fetch', wallMs: name === 'alarm' ? limits.wallMs : undefined })
  }
  for (const name of asyncMethods(cls)) observe(name, `RPC ${name}()`, {})
  return wrapped
}
