// IoContext limits that standalone workerd does not enforce, modelled inside workerd. The emulator
// generates an entry module that re-exports the user's Worker and wraps its default export with
// `wrapDefault`: each fetch stamped by the front door gets a tracker that watches the handler, the
// response body and every `ctx.waitUntil` task, and cancels them the way production does:
//  - waitUntil tasks still pending `waitUntilMs` after the response finished are cancelled
//    (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil: 30 s);
//  - an IoContext with pending work and no activity for `inactivityMs` times out, cancelling the
//    request and its waitUntil tasks (production's "IoContext timed out due to inactivity").
// Cancelling a task settles the promise workerd waits on, so workerd ends the IoContext and drops
// the task's pending I/O, as production does. Reports go to Node through the outbound service.

/** Request header the front door stamps: `{"exchange":n,"waitUntilMs":n,"inactivityMs":n}`. */
const STAMP = 'x-mcp-harness-io'
/** Answered by the emulator's outbound handler; never reaches a network. */
const REPORT_URL = 'http://mcp-harness.internal/io-context'
const INACTIVITY_MESSAGE = 'IoContext timed out due to inactivity, waitUntil tasks were cancelled'
const WAIT_UNTIL_MESSAGE = 'waitUntil() tasks did not complete within the allowed time after invocation end and have been cancelled.'

const platformFetch = globalThis.fetch.bind(globalThis)
/** Trackers of the requests in flight in this isolate. */
const live = new Set()

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
  constructor(ctx, limits, label) {
    this.platformCtx = ctx
    this.limits = limits
    this.label = label
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
    if (response === undefined) return new Response(INACTIVITY_MESSAGE, { status: 500 })
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
    live.delete(this)
  }

  pendingWork() {
    const now = Date.now()
    const tasks = [...this.tasks.values()].map((task) => ({ kind: 'waitUntil', name: task.label, ageMs: now - task.started }))
    if (this.phase === 'handler') tasks.unshift({ kind: 'handler', name: `fetch handler for ${this.label} (no response yet)` })
    return tasks
  }

  cancelTasks() {
    for (const task of this.tasks.values()) task.cancel.resolve('cancelled')
  }

  report(kind, message) {
    const body = JSON.stringify({ kind, message, exchange: this.limits.exchange, request: this.label, phase: this.phase, pending: this.pendingWork(), limits: this.limits })
    const sent = platformFetch(REPORT_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
      (response) => response.arrayBuffer(),
      () => undefined,
    )
    this.platformCtx.waitUntil(sent)
    return sent
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
    console.error(INACTIVITY_MESSAGE)
    // The harness cancels the client's exchange before the handler gives up, so no answer leaks out.
    const reported = this.report('inactivity', INACTIVITY_MESSAGE)
    this.cancelTasks()
    reported.then(() => {
      this.handlerCancel.resolve(undefined)
      try {
        this.bodyController?.error(new Error(INACTIVITY_MESSAGE))
      } catch {
        // The body already ended.
      }
    })
    this.finish()
  }
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

/**
 * Wraps a module Worker's default export so that stamped fetches run under the IoContext model: an
 * object (own or prototype `fetch`; its other handlers pass through with `this` unchanged) or a
 * WorkerEntrypoint class (its `this.ctx` is the modelled context for the request).
 */
export function wrapDefault(handler) {
  if (typeof handler === 'function') {
    const fetch = handler.prototype?.fetch
    if (typeof fetch !== 'function') return handler
    return class extends handler {
      fetch(request, ...rest) {
        const platformCtx = this.ctx
        return modelled(request, platformCtx, (req, ctx) => {
          // The instance serves this one request: its ctx is the modelled one while it runs.
          if (ctx !== platformCtx) Object.defineProperty(this, 'ctx', { value: ctx, writable: true, configurable: true, enumerable: true })
          return fetch.call(this, req, ...rest)
        })
      }
    }
  }
  if (!handler || typeof handler !== 'object' || typeof handler.fetch !== 'function') return handler
  const wrapped = Object.create(handler)
  wrapped.fetch = (request, env, ctx) => modelled(request, ctx, (req, modelledCtx) => handler.fetch(req, env, modelledCtx))
  return wrapped
}
