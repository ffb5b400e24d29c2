// The Worker->DO hop tap. Runs inside workerd, in the Worker's own isolate: the emulator's generated
// entry passes the Worker's default export through `wrapHop` and each local Durable Object class
// through `wrapHopObject`, which hand the Worker's handlers and the objects an env whose Durable
// Object namespaces (HOP_BINDINGS) are observed (so object-to-object calls are seen too): every stub fetch, RPC call,
// upgrade, frame and close is reported to Node. Nothing global is patched unless KI-32 diagnosis is
// on (DIAGNOSE). Reports wait in this isolate's buffer until Node pulls them (a flush request to the
// Worker's entry, answered here): a step costs no request and holds no invocation open. Only while
// faults are armed does a hop step send a request of its own, to wait for Node's verdict (the
// MCP_HARNESS_HOP service binding). The Worker and its Durable Objects share this isolate under
// workerd, so one buffer holds them all. The emulator prepends `const HOP_BINDINGS = [...]`,
// `const DIAGNOSE = true|false` and `const HOP_FLUSH_TOKEN = "..."` to this source.

/** Request header the emulator's front door stamps: `e=<exchange>;g=<fault generation>;f=<1 when faults are armed>`. */
const STAMP = 'x-mcp-harness-hop'
/**
 * Request header (with HOP_FLUSH_TOKEN) of Node's pull: the tap answers it itself with the buffered
 * reports and the last sequence number it gave out; the Worker never sees it.
 */
const FLUSH_HEADER = 'x-mcp-harness-hop-flush'
/** Largest value (as JSON) copied into an event; bigger ones are summarised. */
const MAX_VALUE = 64 * 1024
/** Most reports kept for Node's pull: should Node stop pulling (its runtime handle broken), the isolate must not grow without bound. */
const MAX_BUFFERED = 50_000

let hop
let armed = false
// Requests race (a GET stream opened earlier may reach the tap later): only newer news counts.
let armedGeneration = 0
let queue = []
let nextId = 0
let sequence = 0
// A per-isolate prefix keeps connection ids unique across runtime restarts.
const prefix = Math.random().toString(36).slice(2, 6)

// Timers are the first cause of KI-32 (a DO that never hibernates). The isolate's timer functions
// are wrapped so that pending intervals and long timeouts can be reported with their call site.
const timers = new Map()
let timersVersion = 0
let timersSent = -1
const native = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
}
function callSite() {
  // nodejs_compat's timers call the global ones from inside: skip their frames and ours.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 40
  const stack = String(new Error().stack || '')
  Error.stackTraceLimit = limit
  const lines = stack.split('\n').slice(1).map((line) => line.trim().replace(/^at /, ''))
  return lines.filter((line) => line && !line.includes('hop-tap') && !line.includes('node-internal') && !line.startsWith('Error')).slice(0, 3).join(' <- ')
}
function trackTimer(handle, kind, ms) {
  timers.set(handle, { kind, ms: Number(ms) || 0, site: callSite(), since: Date.now() })
  timersVersion++
}
function untrackTimer(handle) {
  if (timers.delete(handle)) timersVersion++
}
// The other in-isolate causes of KI-32. `ctx.waitUntil` work pending in a Durable Object: its
// DurableObjectState is no global, but workerd's DurableObject base constructor assigns `this.ctx`
// (measured), so a one-shot setter on Object.prototype catches the first one and the shared
// prototype's waitUntil is wrapped; the setter is removed at once.
const waits = new Map()
let nextWait = 0
// A WebSocket accepted with accept() instead of ctx.acceptWebSocket() pins its Durable Object
// (measured: workerd refuses to evict it until the socket closes). The tap's own sockets, and the
// ones it hands to the Worker's McpAgent plumbing, are not the user's: they are skipped.
const nativeAccept = WebSocket.prototype.accept
const tapSockets = new WeakSet()
const sockets = new Map()
let nextSocket = 0
/** KI-32 diagnosis (opt-in): watches timers, DO waitUntil and accept()ed sockets by patching their globals. */
function installDiagnosis() {
  globalThis.setInterval = function (fn, ms, ...args) {
    const handle = native.setInterval.call(globalThis, fn, ms, ...args)
    trackTimer(handle, 'setInterval', ms)
    return handle
  }
  globalThis.clearInterval = function (handle) {
    untrackTimer(handle)
    return native.clearInterval.call(globalThis, handle)
  }
  globalThis.setTimeout = function (fn, ms, ...args) {
    // Short timeouts settle on their own; only those that outlive an idle period matter for KI-32.
    if (!(Number(ms) >= 1000)) return native.setTimeout.call(globalThis, fn, ms, ...args)
    const handle = native.setTimeout.call(
      globalThis,
      (...a) => {
        untrackTimer(handle)
        return typeof fn === 'function' ? fn(...a) : undefined
      },
      ms,
      ...args,
    )
    trackTimer(handle, 'setTimeout', ms)
    return handle
  }
  globalThis.clearTimeout = function (handle) {
    untrackTimer(handle)
    return native.clearTimeout.call(globalThis, handle)
  }

  Object.defineProperty(Object.prototype, 'ctx', {
    configurable: true,
    get() {
      return undefined
    },
    set(value) {
      Object.defineProperty(this, 'ctx', { value, writable: true, configurable: true, enumerable: true })
      const proto = value && Object.getPrototypeOf(value)
      if (proto?.constructor?.name !== 'DurableObjectState' || typeof proto.waitUntil !== 'function') return
      delete Object.prototype.ctx
      const nativeWaitUntil = proto.waitUntil
      proto.waitUntil = function (promise) {
        const key = ++nextWait
        waits.set(key, { object: String(this?.id?.name ?? this?.id ?? ''), site: callSite(), since: Date.now() })
        timersVersion++
        const done = () => {
          waits.delete(key)
          timersVersion++
        }
        Promise.resolve(promise).then(done, done)
        return nativeWaitUntil.call(this, promise)
      }
    },
  })

  WebSocket.prototype.accept = function (...args) {
    const result = nativeAccept.apply(this, args)
    if (!tapSockets.has(this)) {
      const key = ++nextSocket
      sockets.set(key, { site: callSite(), since: Date.now() })
      timersVersion++
      const gone = () => {
        if (!sockets.delete(key)) return
        timersVersion++
      }
      this.addEventListener('close', gone)
      this.addEventListener('error', gone)
    }
    return result
  }

}
if (DIAGNOSE) installDiagnosis()

function timersSnapshot() {
  if (timersSent === timersVersion) return undefined
  timersSent = timersVersion
  return [...timers.values()]
}

/** What else pends in the isolate (sent with the timers: they change together). */
function pendingSnapshot() {
  return { waitUntil: [...waits.values()], sockets: [...sockets.values()] }
}

/**
 * Adds `value` to `event` under `key` as JSON text, encoded now (what the caller does with the value
 * later does not change the report; Node decodes it); big or unserialisable values are summarised.
 * Undefined stays out.
 */
function withValue(event, key, value) {
  if (value === undefined) return event
  let text
  try {
    text = JSON.stringify(value)
    if (text === undefined) text = JSON.stringify(String(value))
    else if (text.length > MAX_VALUE) text = JSON.stringify(`[${text.length} bytes]`)
  } catch {
    text = JSON.stringify(`[${Object.prototype.toString.call(value)}]`)
  }
  event[key] = text
  return event
}

/**
 * A report body as Node reads it: the events, and (when they changed) what pends in the isolate.
 * Events wait as the tap built them (plain values only, never changed once reported) and are
 * encoded here, in one call: encoding each step when it happens cost a string per step and more
 * garbage collection, measured at about a third of the tap's cost under load (docs/hop.md, Cost).
 */
function reportBody(events, extra) {
  const timersNow = timersSnapshot()
  return JSON.stringify({ events, ...(timersNow ? { timers: timersNow, ...pendingSnapshot() } : {}), ...extra })
}

function frameText(data) {
  if (typeof data === 'string') return data
  try {
    return new TextDecoder().decode(data)
  } catch {
    return `[${data?.byteLength ?? 0} bytes]`
  }
}

const inflight = new Set()
function post(path, body) {
  const sent = hop.fetch(`http://hop${path}`, { method: 'POST', body })
  const settled = sent.then(
    () => inflight.delete(settled),
    () => inflight.delete(settled),
  )
  inflight.add(settled)
  return sent
}

/**
 * The pull's answer: every buffered report (they leave the buffer), what pends in the isolate when it
 * changed, and the last sequence number given out (verdict requests may still carry some below it).
 */
function takeReports() {
  const events = queue
  queue = []
  return reportBody(events, { p: prefix, s: sequence })
}

/** The binding and id of each object the tap has seen, by the name its events carry. */
const objectMeta = new Map()
function describe(event) {
  const meta = objectMeta.get(event.name)
  if (meta) {
    event.b = meta.binding
    event.o = meta.id
  }
}

/** Numbers an event and names its object: pulls and verdicts travel apart, the sequence number lets Node restore their order. */
function number(event) {
  describe(event)
  event.s = ++sequence
  event.p = prefix
  return event
}

/** Adds a step that needs no verdict to the buffer Node pulls (a result, a close, any step while faults are off). */
function reportLater(event) {
  queue.push(number(event))
  if (queue.length > MAX_BUFFERED) {
    const dropped = queue.splice(0, MAX_BUFFERED / 2).length
    queue.push({ kind: 'tap-error', name: event.name, s: ++sequence, p: prefix, message: `${dropped} hop reports dropped: Node did not pull them` })
  }
}

/** Reports a step and waits for Node's verdict on it (faults are armed). */
async function report(event) {
  number(event)
  // Verdicts already on their way carry earlier steps (an upgrade that tells which JSON-RPC request a
  // frame answers): this one must not overtake them, or Node would judge the step without them. A
  // pull's answer on its way is Node's to wait for (see HopTap#report).
  if (inflight.size > 0) await Promise.all([...inflight])
  const events = queue
  events.push(event)
  queue = []
  try {
    const res = await post('/verdict', reportBody(events, {}))
    const verdict = await res.json()
    learnArmed(verdict.generation, Boolean(verdict.armed))
    return verdict
  } catch (error) {
    // The step passes unfaulted; say so rather than fail the traffic.
    queue.push({ kind: 'tap-error', name: event.name, s: ++sequence, p: prefix, message: `verdict failed: ${String(error?.message ?? error)}` })
    return undefined
  }
}

/** Takes the armed flag from a stamp or verdict unless a newer fault generation was already seen. */
function learnArmed(generation, value) {
  if (generation < armedGeneration) return
  armedGeneration = generation
  armed = value
}

function sleep(ms) {
  return new Promise((resolve) => native.setTimeout.call(globalThis, resolve, ms))
}

/** Reads the front door's stamp: which client exchange caused this hop step (and whether faults are set). */
function parseStamp(value) {
  const stamp = {}
  for (const part of value.split(';')) {
    const [key, v] = part.split('=')
    stamp[key] = v
  }
  learnArmed(Number(stamp.g) || 0, stamp.f === '1')
  return Number(stamp.e) || undefined
}

/**
 * Learns whether faults are armed from the request the Worker itself receives, before any of its
 * Durable Object calls: the Worker need not pass the client's headers on to the object.
 */
function learnFromRequest(request) {
  const value = request?.headers?.get?.(STAMP)
  if (value) parseStamp(value)
}

/** Closes a socket with `close` (its native method), passing the code only where one may be sent. */
function closeQuietly(close, code, reason) {
  try {
    // 1005/1006 are reserved: they cannot be sent, only observed.
    if (code && code !== 1005 && code !== 1006 && code >= 1000 && code < 5000) close(code, reason || '')
    else close()
  } catch {
    // Already closed.
  }
}

async function tapFetch(stub, name, input, init) {
  let request = input instanceof Request && init === undefined ? input : new Request(input, init)
  let exchange
  const stamp = request.headers.get(STAMP)
  if (stamp !== null) {
    exchange = parseStamp(stamp)
    try {
      // The header is the front door's, never the Worker's: it comes off the Request the Worker made.
      request.headers.delete(STAMP)
    } catch {
      // Immutable headers (the Worker passes the request it received on): a copy without the stamp.
      const headers = new Headers(request.headers)
      headers.delete(STAMP)
      request = new Request(request, { headers })
    }
  }
  const headers = request.headers
  const isUpgrade = headers.get('upgrade')?.toLowerCase() === 'websocket'
  if (!isUpgrade) {
    const id = `${prefix}-f${++nextId}`
    const step = { kind: 'fetch', id, name, exchange, method: request.method, url: request.url }
    if (armed) await report(step)
    else reportLater(step)
    const response = await stub.fetch(request)
    reportLater({ kind: 'fetch-result', id, name, status: response.status })
    return response
  }
  const conn = `${prefix}-w${++nextId}`
  const upgrade = { kind: 'upgrade', conn, name, exchange, mcpMethod: headers.get('cf-mcp-method'), mcpMessage: headers.get('cf-mcp-message') }
  // Only while faults are armed does the upgrade wait (for Node's verdict); otherwise it goes on at once.
  const verdict = armed ? await report(upgrade) : reportLater(upgrade)
  if (verdict?.action === 'fail-upgrade') {
    reportLater({ kind: 'upgrade-result', conn, name, status: verdict.status, fault: verdict.fault })
    return new Response(verdict.body, { status: verdict.status })
  }
  const response = await stub.fetch(request)
  if (!response.webSocket) {
    reportLater({ kind: 'upgrade-result', conn, name, status: response.status })
    return response
  }
  return observeSocket(response, conn, name)
}

/**
 * Hop sockets the tap observes, each with how to relay it should the Worker hand it on to its client
 * (see `relayPassedThrough`).
 */
const observedSockets = new WeakMap()

/**
 * Observes the hop's WebSocket without standing between its ends: the Worker gets the Durable
 * Object's own socket and response (no relay pair, no extra copy of each frame). The tap's listeners
 * are the socket's first, and the Worker's `onmessage`/`onclose` (which workerd calls before any
 * listener) reach workerd behind the same observers, so the tap sees each DO→Worker frame and close
 * before the Worker; the socket's own `send` and `close` report what the Worker sends. A verdict
 * (faults armed, now or later on an open socket) holds a DO→Worker frame from the Worker's listeners
 * (stopImmediatePropagation) and dispatches it again when it may pass; a Worker→DO frame is held
 * before the native send.
 * Kept apart from tapFetch so the listeners do not capture the stub: a stub reachable from a live
 * closure is an active reference that blocks eviction.
 */
function observeSocket(response, conn, name) {
  const socket = response.webSocket
  tapSockets.add(socket)
  const nativeSend = socket.send
  const nativeClose = socket.close
  // Events the tap dispatches again after a verdict: the Worker's listeners take them, the tap's skip them.
  const replayed = new WeakSet()
  // Each direction keeps its order even when a verdict (delay) holds a frame back.
  const chains = { 'do->worker': Promise.resolve(), 'worker->do': Promise.resolve() }
  const counts = { 'do->worker': 0, 'worker->do': 0 }
  // Steps still waiting on a verdict per direction; while none waits, a frame passes at once.
  const waiting = { 'do->worker': 0, 'worker->do': 0 }
  // A `close` fault ended the socket for the Worker: what the DO sends after it never reaches it.
  let cut = false
  const redispatch = (event) => {
    replayed.add(event)
    socket.dispatchEvent(event)
  }
  const pass = (direction, data) => {
    if (cut) return
    if (direction === 'worker->do') {
      try {
        nativeSend.call(socket, data)
      } catch {
        // The socket closed meanwhile; its close is reported separately.
      }
    } else redispatch(new MessageEvent('message', { data }))
  }
  const faultClose = (code, reason) => {
    if (cut) return
    cut = true
    closeQuietly((...args) => nativeClose.apply(socket, args), code, reason)
    // The DO learns of the close from the socket; the Worker from the close event it would have had.
    redispatch(new CloseEvent('close', { code, reason, wasClean: true }))
  }
  // Runs a step in its direction's order; held steps wait for Node's verdict.
  const hold = (direction, frame, data) => {
    waiting[direction]++
    const step = async () => {
      try {
        const v = armed ? await report(frame) : reportLater(frame)
        if (cut || v?.action === 'drop') return
        if (v?.action === 'delay') await sleep(v.ms)
        if (v?.action === 'close') return faultClose(v.code, v.reason)
        pass(direction, data)
      } finally {
        waiting[direction]--
      }
    }
    chains[direction] = chains[direction].then(step, step)
  }
  const frameOf = (direction, data) => ({ kind: 'frame', conn, name, direction, nth: ++counts[direction], data: frameText(data) })

  // The event the tap last observed: workerd gives one event to the socket's handler property and
  // then to its listeners, and the tap observes it once, in whichever comes first.
  let observed
  // Each observer says whether the Worker may have the event now; a held event is stopped here and
  // dispatched again when its verdict lets it pass.
  const observeMessage = (event) => {
    if (replayed.has(event) || observed === event) return true
    observed = event
    if (cut) {
      event.stopImmediatePropagation()
      return false
    }
    const frame = frameOf('do->worker', event.data)
    if (!armed && waiting['do->worker'] === 0) {
      reportLater(frame)
      return true
    }
    event.stopImmediatePropagation()
    hold('do->worker', frame, event.data)
    return false
  }
  const observeClose = (event) => {
    if (replayed.has(event) || observed === event) return true
    observed = event
    const closed = { kind: 'close', conn, name, direction: 'do->worker', code: event.code, reason: event.reason, wasClean: event.wasClean }
    if (cut) {
      reportLater(closed)
      event.stopImmediatePropagation()
      return false
    }
    // A close waits behind frames still held by a verdict, so it cannot overtake them.
    if (waiting['do->worker'] === 0) {
      reportLater(closed)
      return true
    }
    event.stopImmediatePropagation()
    const step = () => {
      reportLater(closed)
      redispatch(new CloseEvent('close', { code: event.code, reason: event.reason, wasClean: event.wasClean }))
    }
    chains['do->worker'] = chains['do->worker'].then(step, step)
    return false
  }
  socket.addEventListener('message', observeMessage)
  socket.addEventListener('close', observeClose)
  socket.addEventListener('error', (event) => reportLater({ kind: 'error', conn, name, direction: 'do->worker', message: String(event.message ?? event.error ?? 'error') }))
  // workerd calls `onmessage` and `onclose` before every listener, the tap's too: a handler the Worker
  // sets there is handed to workerd behind the same observation (so a held frame does not reach it
  // either). Reading the property back gives that wrapper, not the Worker's function.
  handlerProperty(socket, 'message', observeMessage)
  handlerProperty(socket, 'close', observeClose)
  // Own properties of this one socket (nothing global): what the Worker sends is seen before it leaves.
  socket.send = function send(...args) {
    const frame = frameOf('worker->do', args[0])
    if (!armed && waiting['worker->do'] === 0) {
      reportLater(frame)
      return nativeSend.apply(socket, args)
    }
    hold('worker->do', frame, args[0])
  }
  socket.close = function close(...args) {
    const [code, reason] = args
    const step = () => {
      reportLater({ kind: 'close', conn, name, direction: 'worker->do', code: code ?? 1005, reason: reason ?? '', wasClean: true })
      if (!cut) nativeClose.apply(socket, args)
    }
    // Frames the Worker sent before its close go first, even when a verdict holds them.
    if (waiting['worker->do'] === 0) return step()
    chains['worker->do'] = chains['worker->do'].then(step, step)
  }
  // Should the Worker hand the socket on to its client, the runtime would pump it out of the tap's
  // sight: the tap then takes the Worker's place, through a relay pair, and the client gets the pair's
  // other end. Its frames pass the listeners and the `send` above, faults included.
  observedSockets.set(socket, (passed) => {
    const pair = new WebSocketPair()
    const outer = pair[0]
    const relay = pair[1]
    tapSockets.add(outer).add(relay)
    nativeAccept.call(socket)
    relay.accept()
    socket.addEventListener('message', (event) => {
      try {
        relay.send(event.data)
      } catch {
        // The client is gone; its close is reported when it reaches the socket.
      }
    })
    socket.addEventListener('close', (event) => closeQuietly((...args) => relay.close(...args), event.code, event.reason))
    relay.addEventListener('message', (event) => socket.send(event.data))
    relay.addEventListener('close', (event) => closeQuietly((...args) => socket.close(...args), event.code, event.reason))
    return new Response(null, { status: 101, webSocket: outer, headers: passed.headers })
  })
  reportLater({ kind: 'upgrade-result', conn, name, status: 101 })
  return response
}

/**
 * An `on<type>` property of one socket whose function workerd gets behind `observe` (which says
 * whether the event may reach it now). Anything but a function is kept as set.
 */
function handlerProperty(socket, type, observe) {
  // Unset, the property reads as on a socket the tap does not observe.
  let handler
  let wrapped
  Object.defineProperty(socket, `on${type}`, {
    configurable: true,
    enumerable: true,
    get: () => wrapped ?? handler,
    set(value) {
      handler = value
      wrapped =
        typeof value === 'function'
          ? function (event) {
              if (observe(event)) return value.call(this, event)
            }
          : undefined
    },
  })
}

/** A Worker's fetch answer; relays a hop socket the Worker handed on to its client (see `observeSocket`). */
function relayPassedThrough(answer) {
  const relayed = (response) => {
    const socket = response instanceof Response ? response.webSocket : undefined
    const relay = socket ? observedSockets.get(socket) : undefined
    return relay ? relay(response) : response
  }
  return typeof answer?.then === 'function' ? answer.then(relayed) : relayed(answer)
}

/** An RPC call while faults are armed: Node's verdict may drop or delay it, so it is awaited here. */
async function tapRpc(stub, name, method, args) {
  const id = `${prefix}-r${++nextId}`
  const exchange = takeRpcStamp(method, args)
  const verdict = await report(withValue({ kind: 'rpc', id, name, exchange, method }, 'args', args))
  if (verdict?.action === 'drop') return undefined
  if (verdict?.action === 'delay') await sleep(verdict.ms)
  // Results need no verdict: they join the buffer Node pulls.
  try {
    const result = await stub[method](...args)
    reportLater(withValue({ kind: 'rpc-result', id, name, method, ok: true }, 'value', result))
    return result
  } catch (error) {
    reportLater({ kind: 'rpc-result', id, name, method, ok: false, error: String(error?.message ?? error) })
    throw error
  }
}


/** Takes the front door's stamp off an SSE message's forwarded request headers (McpAgent passes them by RPC). */
function takeRpcStamp(method, args) {
  if (method !== 'onSSEMcpMessage') return undefined
  const headers = args[2]?.requestInfo?.headers
  const value = headers && typeof headers === 'object' ? headers[STAMP] : undefined
  if (typeof value !== 'string') return undefined
  delete headers[STAMP]
  return parseStamp(value)
}

/**
 * Observes an RPC call without changing it: the call goes to the real stub as made (pipelining,
 * chained calls and property reads keep working) and its settling is reported on the side.
 */
function observeRpc(stub, name, method, callable, args) {
  const id = `${prefix}-r${++nextId}`
  const exchange = takeRpcStamp(method, args)
  reportLater(withValue({ kind: 'rpc', id, name, exchange, method }, 'args', args))
  const result = Reflect.apply(callable, stub, args)
  Promise.resolve(result).then(
    (value) => reportLater(withValue({ kind: 'rpc-result', id, name, method, ok: true }, 'value', value)),
    (error) => reportLater({ kind: 'rpc-result', id, name, method, ok: false, error: String(error?.message ?? error) }),
  )
  return result
}

function wrapStub(stub, name) {
  return new Proxy(stub, {
    get(target, property) {
      if (property === 'fetch') return (input, init) => tapFetch(target, name, input, init)
      const value = Reflect.get(target, property)
      // Symbols, ids and thenables stay exactly what the stub has; calls are observed, not replaced.
      if (typeof property !== 'string' || typeof value !== 'function' || property === 'then' || property === 'constructor' || property === 'toJSON') return value
      return new Proxy(value, {
        // Reads on the property (`then` when awaited, chained names) go to the real one, as itself.
        get(callable, key) {
          const inner = Reflect.get(callable, key, callable)
          return typeof inner === 'function' ? inner.bind(callable) : inner
        },
        apply(callable, _this, args) {
          // Faults need Node's verdict before the call: only then is the call awaited here.
          if (armed) return tapRpc(target, name, property, args)
          return observeRpc(target, name, property, callable, args)
        },
      })
    },
  })
}

function wrapNamespace(inner, binding) {
  // Names are remembered by id so that `get(id)` can report the DO name (it reveals the session).
  const names = new Map()
  const remember = (id, name) => {
    names.set(id.toString(), name)
    return id
  }
  const nameOf = (id) => names.get(id.toString()) ?? id.name ?? id.toString()
  const stubFor = (stub, id) => {
    const name = nameOf(id)
    objectMeta.set(name, { binding, id: id.toString() })
    return wrapStub(stub, name)
  }
  return new Proxy(inner, {
    get(target, property) {
      switch (property) {
        case 'idFromName':
          return (name) => remember(target.idFromName(name), name)
        case 'get':
          return (id, options) => stubFor(target.get(id, options), id)
        case 'getByName':
          return (name, options) => stubFor(target.getByName(name, options), remember(target.idFromName(name), name))
        case 'jurisdiction':
          return (jurisdiction) => wrapNamespace(target.jurisdiction(jurisdiction), binding)
        default: {
          const value = Reflect.get(target, property)
          return typeof value === 'function' ? value.bind(target) : value
        }
      }
    },
  })
}

const HOP_SERVICE = 'MCP_HARNESS_HOP'

/** The tapped env made for each env the runtime hands out (reports need no invocation, so one serves all). */
const tappedEnvs = new WeakMap()

/** The env the Worker's handlers and objects see: the same bindings, with the tapped namespaces observed. */
function tapEnv(env) {
  if (!env || typeof env !== 'object' || !env[HOP_SERVICE]) return env
  let tapped = tappedEnvs.get(env)
  if (tapped) return tapped
  hop = env[HOP_SERVICE]
  tapped = { ...env }
  delete tapped[HOP_SERVICE]
  for (const binding of HOP_BINDINGS) if (env[binding]) tapped[binding] = wrapNamespace(env[binding], binding)
  tappedEnvs.set(env, tapped)
  return tapped
}

/**
 * Wraps a Durable Object class so that the env it is constructed with is tapped too: the calls one
 * object makes to another reach the hop layer like the Worker's. A construct trap, not a subclass:
 * the object is built by the class itself (its name in stack traces, `this.constructor`, statics and
 * prototype stay the user's). Its reports join the isolate's one buffer: nothing is held open for them.
 */
export function wrapHopObject(cls) {
  if (typeof cls !== 'function') return cls
  const wrapped = new Proxy(cls, {
    construct(target, [ctx, env, ...rest], newTarget) {
      return Reflect.construct(target, [ctx, tapEnv(env), ...rest], newTarget === wrapped ? target : newTarget)
    },
  })
  return wrapped
}

const HANDLERS = ['fetch', 'scheduled', 'queue', 'email', 'tail', 'tailStream', 'trace', 'test']

function isFlushRequest(request) {
  return request?.headers?.get?.(FLUSH_HEADER) === HOP_FLUSH_TOKEN
}

/**
 * Node's pull: it asks (on workerd's own socket, routed to this Worker by name, never through the
 * front door, which strips every `x-mcp-harness-*` header, and only with its token) on a timer, at
 * once before it reads sessions or evicts, and when the faults change (the pull carries the stamp).
 * The answer carries the buffered reports and the last sequence number, so Node knows what to wait for.
 */
function answerFlush() {
  return new Response(takeReports(), { headers: { 'content-type': 'application/json' } })
}

/** Wraps the Worker's default export (an object, or a WorkerEntrypoint class) so its handlers get `tapEnv(env)`. */
export function wrapHop(worker) {
  if (typeof worker === 'function') {
    // A class export (WorkerEntrypoint): the runtime constructs it with (ctx, env).
    const Tapped = class extends worker {
      constructor(ctx, env) {
        super(ctx, tapEnv(env))
      }
    }
    for (const handler of HANDLERS) {
      const original = worker.prototype[handler]
      if (typeof original !== 'function') continue
      Object.defineProperty(Tapped.prototype, handler, {
        configurable: true,
        writable: true,
        value(...args) {
          if (handler !== 'fetch') return original.apply(this, args)
          learnFromRequest(args[0])
          if (isFlushRequest(args[0])) return answerFlush()
          return relayPassedThrough(original.apply(this, args))
        },
      })
    }
    return Tapped
  }
  if (!worker || typeof worker !== 'object') return worker
  // Own and prototype handlers alike; `this` inside a handler stays the user's object.
  const wrapped = Object.create(worker)
  for (const handler of HANDLERS) {
    const original = worker[handler]
    if (typeof original !== 'function') continue
    wrapped[handler] = function (first, env, ctx, ...rest) {
      if (handler !== 'fetch') return original.call(worker, first, tapEnv(env), ctx, ...rest)
      learnFromRequest(first)
      if (isFlushRequest(first)) return answerFlush()
      return relayPassedThrough(original.call(worker, first, tapEnv(env), ctx, ...rest))
    }
  }
  return wrapped
}
