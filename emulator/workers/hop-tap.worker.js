// The Worker->DO hop tap. Runs inside workerd as the module behind the app Worker's wrapped
// Durable Object binding: its default export receives the tap's env ({ INNER, HOP }) and returns a
// namespace-like object that McpAgent accepts (it duck-types `newUniqueId` + `idFromName`).
// Every stub call, upgrade, frame and close is reported to Node (the `HOP` service binding).
// Reports are batched and fire-and-forget; only while faults are armed does a hop step wait for
// Node's verdict, so the tap costs almost nothing when no fault is configured.

/** Request header the emulator's front door stamps: `e=<exchange>;g=<fault generation>;f=<1 when faults are armed>`. */
const STAMP = 'x-mcp-harness-hop'
/** How long reports gather before they travel to Node together. */
const FLUSH_WINDOW_MS = 15 // HOP_REPORT_WINDOW_MS in hop.ts
/** Largest value (as JSON) copied into an event; bigger ones are summarised. */
const MAX_VALUE = 64 * 1024

let hop
let armed = false
// Requests race (a GET stream opened earlier may reach the tap later): only newer news counts.
let armedGeneration = 0
let queue = []
let flushScheduled = false
let flushScheduledAt = 0
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

// The other in-isolate causes of KI-32. `ctx.waitUntil` work pending in a Durable Object: its
// DurableObjectState is no global, but workerd's DurableObject base constructor assigns `this.ctx`
// (measured), so a one-shot setter on Object.prototype catches the first one and the shared
// prototype's waitUntil is wrapped; the setter is removed at once.
const waits = new Map()
let nextWait = 0
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
      flushState()
      const done = () => {
        waits.delete(key)
        timersVersion++
        flushState()
      }
      Promise.resolve(promise).then(done, done)
      return nativeWaitUntil.call(this, promise)
    }
  },
})

// A WebSocket accepted with accept() instead of ctx.acceptWebSocket() pins its Durable Object
// (measured: workerd refuses to evict it until the socket closes). The tap's own sockets, and the
// ones it hands to the Worker's McpAgent plumbing, are not the user's: they are skipped.
const nativeAccept = WebSocket.prototype.accept
const tapSockets = new WeakSet()
const sockets = new Map()
let nextSocket = 0
WebSocket.prototype.accept = function (...args) {
  const result = nativeAccept.apply(this, args)
  if (!tapSockets.has(this)) {
    const key = ++nextSocket
    sockets.set(key, { site: callSite(), since: Date.now() })
    timersVersion++
    flushState()
    const gone = () => {
      if (!sockets.delete(key)) return
      timersVersion++
      flushState()
    }
    this.addEventListener('close', gone)
    this.addEventListener('error', gone)
  }
  return result
}

function timersSnapshot() {
  if (timersSent === timersVersion) return undefined
  timersSent = timersVersion
  return [...timers.values()]
}

/** What else pends in the isolate (sent with the timers: they change together). */
function pendingSnapshot() {
  return { waitUntil: [...waits.values()], sockets: [...sockets.values()] }
}

/** Sends a changed pending-work snapshot even when no hop step would carry it soon. */
function flushState() {
  if (!hop) return
  // As in report(): a flush scheduled by a request that has ended may never fire.
  if (flushScheduled && Date.now() - flushScheduledAt > 2 * FLUSH_WINDOW_MS) return flush()
  if (flushScheduled) return
  flushScheduled = true
  flushScheduledAt = Date.now()
  native.setTimeout.call(globalThis, flush, FLUSH_WINDOW_MS)
}

function safe(value) {
  if (value === undefined) return undefined
  try {
    const text = JSON.stringify(value)
    if (text === undefined) return String(value)
    return text.length > MAX_VALUE ? `[${text.length} bytes]` : JSON.parse(text)
  } catch {
    return `[${Object.prototype.toString.call(value)}]`
  }
}

function frameText(data) {
  if (typeof data === 'string') return data
  try {
    return new TextDecoder().decode(data)
  } catch {
    return `[${data?.byteLength ?? 0} bytes]`
  }
}

function post(path, body) {
  return hop.fetch(`http://hop${path}`, { method: 'POST', body: JSON.stringify(body) })
}

function flush() {
  flushScheduled = false
  const timersNow = timersSnapshot()
  if (queue.length === 0 && !timersNow) return
  const events = queue
  queue = []
  // Fire-and-forget. The answer must not touch the armed flag: it may be older than the latest stamp.
  try {
    return post('/events', { events, timers: timersNow, ...(timersNow ? pendingSnapshot() : {}) })
      .then((res) => res.body?.cancel())
      .catch(() => {})
  } catch {
    // No I/O allowed here (e.g. the context that scheduled it ended): the next step carries it.
    queue = events.concat(queue)
    timersSent = -1
  }
}

/** Reports an event; while faults are armed (or when asked), waits for Node's verdict. */
async function report(event, needVerdict = armed) {
  // Reports travel in parallel requests; the sequence number lets Node restore their order.
  event.s = ++sequence
  event.p = prefix
  if (!needVerdict) {
    queue.push(event)
    // A timer set by a request that has ended may never fire: then flush now.
    if (flushScheduled && Date.now() - flushScheduledAt > 2 * FLUSH_WINDOW_MS) flush()
    if (!flushScheduled) {
      flushScheduled = true
      flushScheduledAt = Date.now()
      // One report per window keeps the tap cheap: a tool call's steps travel together, and the
      // step that ends a request (a close, an SSE message result) flushes at once (reportNow).
      native.setTimeout.call(globalThis, flush, FLUSH_WINDOW_MS)
    }
    return undefined
  }
  const events = queue.concat([event])
  queue = []
  try {
    const timersNow = timersSnapshot()
    const res = await post('/verdict', { events, timers: timersNow, ...(timersNow ? pendingSnapshot() : {}) })
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

/** Reports an event and sends the batch at once; resolves when Node has it. */
function reportNow(event) {
  event.s = ++sequence
  event.p = prefix
  queue.push(event)
  return flush()
}

function sleep(ms) {
  return new Promise((resolve) => native.setTimeout.call(globalThis, resolve, ms))
}

/** Reads (and removes) the front door's stamp: which client exchange caused this hop step. */
function readStamp(headers) {
  const value = headers.get(STAMP)
  if (value === null) return undefined
  headers.delete(STAMP)
  const stamp = {}
  for (const part of value.split(';')) {
    const [key, v] = part.split('=')
    stamp[key] = v
  }
  learnArmed(Number(stamp.g) || 0, stamp.f === '1')
  return Number(stamp.e) || undefined
}

function closeQuietly(socket, code, reason) {
  try {
    // 1005/1006 are reserved: they cannot be sent, only observed.
    if (code && code !== 1005 && code !== 1006 && code >= 1000 && code < 5000) socket.close(code, reason || '')
    else socket.close()
  } catch {
    // Already closed.
  }
}

async function tapFetch(stub, name, input, init) {
  const original = new Request(input, init)
  const headers = new Headers(original.headers)
  const exchange = readStamp(headers)
  const request = new Request(original, { headers })
  const isUpgrade = headers.get('upgrade')?.toLowerCase() === 'websocket'
  if (!isUpgrade) {
    const id = `${prefix}-f${++nextId}`
    await report({ kind: 'fetch', id, name, exchange, method: request.method, url: request.url })
    const response = await stub.fetch(request)
    await reportNow({ kind: 'fetch-result', id, name, status: response.status })
    return response
  }
  const conn = `${prefix}-w${++nextId}`
  const verdict = await report({
    kind: 'upgrade',
    conn,
    name,
    exchange,
    mcpMethod: headers.get('cf-mcp-method'),
    mcpMessage: headers.get('cf-mcp-message'),
  })
  if (verdict?.action === 'fail-upgrade') {
    // Sent at once: the request answers right away and would take a batched report with it.
    await reportNow({ kind: 'upgrade-result', conn, name, status: verdict.status, fault: verdict.fault })
    return new Response(verdict.body, { status: verdict.status })
  }
  const response = await stub.fetch(request)
  if (!response.webSocket) {
    await reportNow({ kind: 'upgrade-result', conn, name, status: response.status })
    return response
  }
  return plumb(response, conn, name)
}

// Kept apart from tapFetch so the socket listeners' closures do not capture the stub: a stub
// reachable from a live closure is an active reference that blocks eviction.
function plumb(response, conn, name) {
  const inner = response.webSocket
  const pair = new WebSocketPair()
  const outer = pair[0]
  const relay = pair[1]
  tapSockets.add(inner).add(relay).add(outer)
  inner.accept()
  relay.accept()
  // Each direction keeps its order even when a verdict (delay) holds a frame back.
  const chains = { 'do->worker': Promise.resolve(), 'worker->do': Promise.resolve() }
  const counts = { 'do->worker': 0, 'worker->do': 0 }
  let closed = false
  const closeBoth = (code, reason) => {
    closed = true
    closeQuietly(inner, code, reason)
    closeQuietly(relay, code, reason)
  }
  const onFrame = (direction, target) => (event) => {
    const data = event.data
    const nth = ++counts[direction]
    const step = async () => {
      const v = await report({ kind: 'frame', conn, name, direction, nth, data: frameText(data) })
      if (closed) return
      if (v?.action === 'drop') return
      if (v?.action === 'delay') await sleep(v.ms)
      if (v?.action === 'close') return closeBoth(v.code, v.reason)
      try {
        target.send(data)
      } catch {
        // The other side is gone; its close is reported separately.
      }
    }
    chains[direction] = chains[direction].then(step, step)
  }
  const onClose = (direction, target) => (event) => {
    const step = async () => {
      // Sent at once: a close often ends the request whose microtasks would carry a batched report.
      reportNow({ kind: 'close', conn, name, direction, code: event.code, reason: event.reason, wasClean: event.wasClean })
      if (!closed) {
        closed = true
        closeQuietly(target, event.code, event.reason)
      }
    }
    chains[direction] = chains[direction].then(step, step)
  }
  inner.addEventListener('message', onFrame('do->worker', relay))
  relay.addEventListener('message', onFrame('worker->do', inner))
  inner.addEventListener('close', onClose('do->worker', relay))
  relay.addEventListener('close', onClose('worker->do', inner))
  inner.addEventListener('error', (event) => report({ kind: 'error', conn, name, direction: 'do->worker', message: String(event.message ?? event.error ?? 'error') }))
  report({ kind: 'upgrade-result', conn, name, status: 101 })
  return new Response(null, { status: 101, webSocket: outer, headers: response.headers })
}

async function tapRpc(stub, name, method, args) {
  const id = `${prefix}-r${++nextId}`
  let exchange
  // SSE messages carry the client's request headers to the DO: take the stamp off them.
  const headers = args[2]?.requestInfo?.headers
  if (method === 'onSSEMcpMessage' && headers && typeof headers === 'object' && headers[STAMP] !== undefined) {
    const stamp = new Headers({ [STAMP]: headers[STAMP] })
    delete headers[STAMP]
    exchange = readStamp(stamp)
  }
  const verdict = await report({ kind: 'rpc', id, name, exchange, method, args: safe(args) })
  if (verdict?.action === 'drop') return undefined
  if (verdict?.action === 'delay') await sleep(verdict.ms)
  // A call outside McpAgent's setup (an SSE message) is often the last step of a request that
  // answers at once; its result is delivered before the request goes on, or it could be lost with it.
  const settle = SETUP_CALLS.has(method) ? report : reportNow
  try {
    const result = await stub[method](...args)
    await settle({ kind: 'rpc-result', id, name, method, ok: true, value: safe(result) })
    return result
  } catch (error) {
    await settle({ kind: 'rpc-result', id, name, method, ok: false, error: String(error?.message ?? error) })
    throw error
  }
}

const PASS_THROUGH = new Set(['then', 'id', 'name', 'connect', 'constructor', 'toJSON'])
/** McpAgent's session plumbing: short calls that never wait on the client. */
const SETUP_CALLS = new Set(['__unsafe_ensureInitialized', 'getInitializeRequest', 'setInitializeRequest'])

// Measured: when a session's GET stream is set up while a POST to the same DO is (both run
// `__unsafe_ensureInitialized`, RPCs and an upgrade), the DO behind this wrapped binding sometimes
// keeps an active reference for good and can no longer be evicted (1 to 4 of 12 fresh sessions;
// never without the tap). Queueing these short steps per DO avoided it (24 of 24); it costs
// nothing when requests do not overlap.
const lanes = new Map()
function inLane(name, step) {
  const previous = lanes.get(name) ?? Promise.resolve()
  const run = previous.then(step, step)
  const settled = run.then(
    () => undefined,
    () => undefined,
  )
  lanes.set(name, settled)
  settled.then(() => {
    if (lanes.get(name) === settled) lanes.delete(name)
  })
  return run
}

function wrapStub(stub, name) {
  return new Proxy(stub, {
    get(target, property) {
      if (property === 'fetch') return (input, init) => inLane(name, () => tapFetch(target, name, input, init))
      if (typeof property === 'string' && SETUP_CALLS.has(property)) return (...args) => inLane(name, () => tapRpc(target, name, property, args))
      if (typeof property === 'symbol' || PASS_THROUGH.has(property)) {
        const value = target[property]
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (...args) => tapRpc(target, name, property, args)
    },
  })
}

function wrapNamespace(inner) {
  // Names are remembered by id so that `get(id)` can report the DO name (it reveals the session).
  const names = new Map()
  const remember = (id, name) => {
    names.set(id.toString(), name)
    return id
  }
  const nameOf = (id) => names.get(id.toString()) ?? id.name ?? id.toString()
  const namespace = {
    idFromName: (name) => remember(inner.idFromName(name), name),
    idFromString: (text) => inner.idFromString(text),
    newUniqueId: (options) => inner.newUniqueId(options),
    get: (id, options) => wrapStub(inner.get(id, options), nameOf(id)),
    getByName: (name, options) => wrapStub(inner.get(namespace.idFromName(name), options), name),
    jurisdiction: (jurisdiction) => wrapNamespace(inner.jurisdiction(jurisdiction)),
  }
  return namespace
}

export default function (env) {
  hop = env.HOP
  return wrapNamespace(env.INNER)
}
