import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Miniflare, MiniflareOptions, WorkerOptions } from 'miniflare'
import { HarnessError } from '../core/errors.ts'
import { FrontServer, type FrontMiddleware, type FrontRequest } from './internal/front.ts'
import { enableCompileCache, loadRuntime, type MiniflareModule } from './internal/runtime.ts'
import { buildCacheRoot, buildWorker, loadWorkerConfig, resolveConfigPath, type BuildResult, type WorkerConfig } from './internal/wrangler.ts'
import { resolveHarnessOptions } from './config-file.ts'
import { parseEmulatorOptions, type EmulatorOptions, type ResolvedEmulatorOptions } from './options.ts'
import { PLUGINS } from './plugins/index.ts'
import { hopTapFor, type SessionInfo } from './plugins/hop.ts'
import type { HopFaults } from './plugins/hop-faults.ts'
import { lifecycleFor, type EvictOptions, type Lifecycle } from './plugins/hibernation.ts'
import type { EntryWrapper, OutboundHandler, PluginContext, PluginInstance } from './plugins/types.ts'
import { Transcript } from '../core/transcript.ts'

/** A running emulator: the user's Worker under Miniflare behind a recording front door on loopback. */
export interface Emulator {
  /** Base URL of the front door, e.g. `http://127.0.0.1:8788`. */
  readonly url: URL
  /** The Worker as wrangler read it. */
  readonly worker: WorkerConfig
  /** How the Worker was built (time, cache hit). */
  readonly build: BuildResult
  /** Every event of every layer, in order. */
  readonly transcript: Transcript
  /** Errors the harness detected while serving (e.g. an unhandled upstream fetch). */
  readonly errors: HarnessError[]
  /**
   * `fetch` through the front door, run in-process (no loopback HTTP request to its port; the same
   * policy, middlewares and transcript events); a relative URL is resolved against `url`.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** The running Miniflare, for what the harness does not wrap yet. */
  readonly miniflare: Miniflare
  /** Restarts the runtime (workerd), keeping storage; the front door stays on its port. */
  restart(): Promise<void>
  /**
   * Evicts one session's Durable Object (by session id or DO name), or every active one, as
   * hibernation does: the next event re-runs the constructor; `this.state` and storage survive,
   * instance fields do not. Resolves with the DO names evicted.
   * @example await emulator.evict({ session: transport.sessionId, webSockets: 'hibernate' })
   */
  evict(options?: EvictOptions): Promise<string[]>
  /** Aborts every Durable Object like a crash (sockets close 1006, storage kept). */
  crash(): Promise<void>
  /**
   * Empties storage (Durable Objects, KV, R2, D1, the cache): every Durable Object starts anew, as
   * after a restart on an empty folder. workerd keeps running, and with it the Worker's module-level
   * state (a Worker binding Queues or Workflows is restarted instead).
   */
  wipeStorage(): Promise<void>
  /** Sessions seen on the Worker→DO hop: id, transport, DO name, state. */
  sessions(): SessionInfo[]
  /**
   * Resolves once the hop steps behind every answer a client got so far are in `sessions()` and the
   * transcript (the hop tap reports in batches, a few milliseconds after the answer). `evict()` and
   * the control plane wait for this themselves.
   * @example await emulator.settled(); expect(emulator.sessions()).toHaveLength(1)
   */
  settled(): Promise<void>
  /**
   * Faults on the Worker→DO hop: drop, delay, fail the upgrade, close; chosen by direction, session,
   * JSON-RPC method and nth match. Each acts from the next client request on.
   * @example const fault = emulator.faults.add({ match: { direction: 'do->worker', method: 'tools/call' }, action: { type: 'drop' }, times: 1 }); fault.remove()
   */
  readonly faults: HopFaults
  /** Stops everything and removes temporary storage. Safe to call twice. */
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

const APP_WORKER_NAME_FALLBACK = 'worker'
/** Statuses Node's fetch follows (Fetch standard "redirect status"). */
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])
/** Methods Fetch writes in upper case whatever the caller's case (others keep theirs); the forbidden ones too, for the front door's refusal. */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'CONNECT', 'TRACE', 'TRACK'])
/** An HTTP method is a token (RFC 9110 §9.1). */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * What `emulator.fetch` hands the front door. The common call (a URL, a string body or none) is
 * described without a Fetch `Request`, whose construction costs more than the front door's own work;
 * the rest goes through one, as Node's fetch would. A Request cannot hold TRACE, TRACK or CONNECT:
 * those are passed on by name for the front door to refuse.
 */
async function describeRequest(url: URL, input: string | URL | Request, init: RequestInit | undefined): Promise<FrontRequest & { redirect: RequestRedirect }> {
  const given = init?.method ?? (input instanceof Request ? input.method : 'GET')
  if (!METHOD_TOKEN.test(given)) throw new TypeError(`'${given}' is not a valid HTTP method.`)
  const method = NORMALIZED_METHODS.has(given.toUpperCase()) ? given.toUpperCase() : given
  const forbidden = method === 'CONNECT' || method === 'TRACE' || method === 'TRACK'
  const body = init?.body
  if (!(input instanceof Request) && (body === undefined || body === null || typeof body === 'string')) {
    if (typeof body === 'string' && (method === 'GET' || method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.')
    const headers = new Headers(init?.headers)
    if (typeof body === 'string' && !headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8')
    return { url, method, headers, ...(typeof body === 'string' ? { body: Buffer.from(body, 'utf8') } : {}), ...(init?.signal ? { signal: init.signal } : {}), redirect: init?.redirect ?? 'follow' }
  }
  let request = input instanceof Request ? new Request(url, input) : new Request(url)
  if (init) request = new Request(request, forbidden ? { ...init, method: 'GET' } : init)
  // Read here once: a 307/308 redirect sends it again.
  const bytes = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined
  return { url, method: forbidden ? method : request.method, headers: request.headers, ...(bytes ? { body: bytes } : {}), signal: request.signal, streamed: body instanceof ReadableStream, redirect: request.redirect }
}
const UNCAUGHT_SOURCE = new URL('./workers/uncaught.worker.js', import.meta.url)
/** How the uncaught-exception wrapper marks the stack it logs. */
const UNCAUGHT_MARKER = '[mcp-harness:uncaught] '

/**
 * Starts a Worker from its wrangler config under Miniflare, built by wrangler, behind a front door
 * on 127.0.0.1 that records the transcript.
 * @example
 * const emulator = await createEmulator({ config: 'server/wrangler.jsonc' })
 * const res = await emulator.fetch('/health')
 * await emulator.dispose()
 */
export async function createEmulator(input: EmulatorOptions = {}): Promise<Emulator> {
  mark('start')
  const resolution = await resolveHarnessOptions(input)
  const options = parseEmulatorOptions(resolution.options)
  mark('harness-config')
  const progress = options.onProgress ?? (() => {})
  const configPath = typeof options.config === 'string' ? options.config : await writeInlineConfig(options.config)
  // Loading Miniflare (a large module) overlaps reading the config, checking the build and writing
  // the entry modules; V8's compiled code for it (and wrangler) is cached in the Worker project.
  enableCompileCache(path.join(buildCacheRoot(resolveConfigPath(configPath)), 'node-compile-cache'))
  const runtime = loadRuntime()
  runtime.catch(() => {}) // awaited in start(); a failure surfaces there
  const { worker, cached: configCached } = await loadWorkerConfig(configPath, options.environment, { harnessConfigFile: resolution.file })
  mark(configCached ? 'config-cached' : 'config-read')
  progress(`Building ${worker.name} with wrangler (${path.relative(process.cwd(), worker.configPath) || worker.configPath})`)
  const build = await buildWorker(worker, options.environment)
  mark(build.cached ? 'build-reused' : 'built')
  progress(build.cached ? `Reused the previous build (inputs unchanged)` : `Built in ${Math.round(build.durationMs)} ms`)
  assertWorkerShape(worker, await readFile(build.entry, 'utf8'))
  const emulator = new EmulatorImpl(options, worker, build)
  try {
    await emulator.start()
  } catch (error) {
    await emulator.dispose()
    throw error
  }
  mark('serving')
  progress(`Serving ${worker.name} at ${emulator.url.href}`)
  return emulator
}

/**
 * Start-up phases as Node user-timing marks (`performance.getEntriesByName('mcp-harness:serving')`),
 * so a benchmark can say where the time goes; they cost nothing when nobody reads them.
 */
function mark(phase: string): void {
  performance.mark(`mcp-harness:${phase}`)
}

async function writeInlineConfig(config: Exclude<ResolvedEmulatorOptions['config'], string>): Promise<string> {
  const { baseDir, ...rest } = config
  const dir = path.resolve(baseDir, '.mcp-harness')
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, `inline-${(config.name ?? 'worker').replace(/[^a-z0-9-]/gi, '_')}.wrangler.json`)
  // Paths in an inline config are relative to baseDir; wrangler resolves them relative to the file.
  const main = path.relative(dir, path.resolve(baseDir, rest.main))
  await writeFile(file, JSON.stringify({ ...rest, main }, null, 2))
  return file
}

/** Static checks on the built bundle that turn runtime riddles into named causes. */
function assertWorkerShape(worker: WorkerConfig, bundle: string): void {
  const usesMcpAgent = bundle.includes('cf-mcp-message') && /\bserveSSE\b/.test(bundle)
  if (usesMcpAgent && worker.durableObjects.length === 0) {
    // KI-12: production answers "Cannot read properties of undefined (reading 'idFromName')".
    throw new HarnessError(
      'ERR_CONFIG',
      `Failed to start "${worker.name}": the Worker uses McpAgent but ${path.relative(process.cwd(), worker.configPath) || worker.configPath} binds no Durable Object (KI-12). Add "durable_objects": { "bindings": [{ "name": "MCP_OBJECT", "class_name": "<YourMcpAgentClass>" }] } and a matching "migrations" entry.`,
    )
  }
}

class EmulatorImpl implements Emulator {
  readonly transcript: Transcript
  readonly errors: HarnessError[] = []
  readonly worker: WorkerConfig
  readonly build: BuildResult
  readonly #options: ResolvedEmulatorOptions
  readonly #front: FrontServer
  readonly #middlewares: FrontMiddleware[] = []
  readonly #outbound: OutboundHandler[] = []
  readonly #extraWorkers: (WorkerOptions & { name: string })[] = []
  readonly #plugins: PluginInstance[] = []
  readonly #entryWrappers: EntryWrapper[] = []
  #entryModules: { type: 'ESModule'; path: string }[] = []
  #appPatch: Partial<WorkerOptions> = {}
  #mf?: Miniflare
  #entry?: URL
  #persistDir?: string
  #ownsPersistDir = false
  #disposed = false

  constructor(options: ResolvedEmulatorOptions, worker: WorkerConfig, build: BuildResult) {
    this.#options = options
    this.transcript = new Transcript(options.transcript)
    this.worker = worker
    this.build = build
    this.#front = new FrontServer({
      host: options.host,
      port: options.port,
      transcript: this.transcript,
      // Straight to workerd's entry socket: dispatchFetch drops empty header values and opens a connection per request.
      upstream: { kind: 'runtime', url: () => this.#runtimeUrl() },
      middlewares: () => this.#middlewares,
    })
    // Innermost wrapper: the Worker's own exceptions, before any plugin's wrapper sees the request.
    this.#entryWrappers.push({ name: 'uncaught', source: readFileSync(UNCAUGHT_SOURCE, 'utf8'), exportName: 'wrapUncaught' })
  }

  get url(): URL {
    return this.#front.url
  }

  get miniflare(): Miniflare {
    if (this.#disposed) throw new HarnessError('ERR_DISPOSED', 'Failed to use the emulator: it was disposed. Create a new one with createEmulator().')
    if (!this.#mf) throw new HarnessError('ERR_START', 'The emulator runtime is not running yet.')
    return this.#mf
  }

  get appWorkerName(): string {
    return this.worker.name || APP_WORKER_NAME_FALLBACK
  }

  async start(): Promise<void> {
    // 1. Persistence first, so restart() and crashes keep storage.  2. Plugins shape the runtime.
    // 3. Front door listens (its URL is the origin the Worker sees).  4. Runtime starts.
    if (this.#options.persistDir) {
      this.#persistDir = path.resolve(this.#options.persistDir)
      await mkdir(this.#persistDir, { recursive: true })
    } else {
      this.#persistDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-'))
      this.#ownsPersistDir = true
    }
    const ctx: PluginContext = {
      worker: this.worker,
      build: this.build,
      appWorkerName: this.appWorkerName,
      transcript: this.transcript,
      diagnose: this.#options.diagnose,
      patchAppWorker: (patch) => {
        this.#appPatch = { ...this.#appPatch, ...patch }
      },
      addWorker: (workerOptions) => this.#extraWorkers.push(workerOptions),
      addMiddleware: (middleware) => this.#middlewares.push(middleware),
      wrapEntry: (wrapper) => this.#entryWrappers.push(wrapper),
      addOutboundHandler: (handler) => this.#outbound.push(handler),
      miniflare: () => this.miniflare,
    }
    const pluginOptions = this.#options as unknown as Record<string, unknown>
    for (const plugin of PLUGINS) {
      const instance = await plugin.setup(ctx, pluginOptions[plugin.name])
      if (instance) this.#plugins.push(instance)
    }
    this.#entryModules = await writeEntryModules(this.build, this.#entryWrappers, this.worker.durableObjects.filter((object) => !object.scriptName).map((object) => object.className))
    await this.#front.listen()
    mark('front-door')
    await this.#startRuntime()
  }

  #miniflareOptions(runtime: MiniflareModule): MiniflareOptions {
    const logLevel = this.#options.workerLog === 'silent' ? runtime.LogLevel.NONE : runtime.LogLevel.WARN
    const app = {
      ...this.worker.workerOptions,
      name: this.appWorkerName,
      // Every module is listed: the generated entry first, then wrangler's output (ES modules).
      modules: this.#entryModules,
      modulesRoot: path.dirname(this.build.entry),
      compatibilityDate: this.worker.compatibilityDate,
      compatibilityFlags: this.worker.compatibilityFlags,
      bindings: { ...(this.worker.workerOptions.bindings as Record<string, unknown> | undefined), ...this.#options.vars },
      outboundService: (request: Request) => this.#handleOutbound(request),
      ...this.#appPatch,
    }
    // The emulator describes its Workers in Miniflare's v4 vocabulary, which wrangler's Miniflare
    // converts; what has no v4 spelling (persistence, log handling) is set on the result.
    const options = runtime.convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      cf: this.#options.cf,
      log: new runtime.Log(logLevel),
      workers: [app, ...this.#extraWorkers],
    } as never) as MiniflareOptions & Record<string, unknown>
    options.resourcePersistencePath = this.#persistDir
    options.handleStructuredLogs = (log: { level: string; message: string }) => this.#workerLog(log.level, log.message)
    return options
  }

  /**
   * The Worker's console output and uncaught exceptions: always in the transcript (unless silent);
   * with `inherit` also on stderr, each line prefixed, as `wrangler dev` shows them.
   */
  #workerLog(level: string, message: string): void {
    if (this.#options.workerLog === 'silent') return
    const stream = level === 'error' || level === 'warn' ? 'stderr' : 'stdout'
    if (message.startsWith(UNCAUGHT_MARKER)) {
      const error = JSON.parse(message.slice(UNCAUGHT_MARKER.length)) as { name: string; message: string; stack: string }
      this.transcript.record({ layer: 'harness', type: 'uncaught-exception', ...error })
      message = `Uncaught ${error.stack}`
    }
    for (const line of message.split('\n')) {
      if (!line.trim()) continue
      this.transcript.record({ layer: 'harness', type: 'worker-log', stream, level, line })
      if (this.#options.workerLog === 'inherit') process.stderr.write(`[worker${level === 'log' || level === 'info' ? '' : `:${level}`}] ${line}\n`)
    }
  }

  #runtimeUrl(): URL {
    if (!this.#mf || !this.#entry) throw new HarnessError('ERR_START', 'The emulator runtime is not running (it is restarting or was disposed).')
    return this.#entry
  }

  async #startRuntime(): Promise<void> {
    const runtime = await loadRuntime()
    mark('miniflare-loaded')
    const mf = new runtime.miniflare.Miniflare(this.#miniflareOptions(runtime.miniflare))
    // What the front door forwards with loads while workerd boots (Node waits for it meanwhile).
    this.#front.preload()
    try {
      this.#entry = await mf.ready
      mark('workerd-ready')
    } catch (error) {
      await mf.dispose().catch(() => {})
      throw explainStartFailure(this.worker, error)
    }
    this.#mf = mf
    for (const plugin of this.#plugins) await plugin.afterStart?.(mf)
  }

  async #handleOutbound(request: Request): Promise<Response> {
    for (const handler of this.#outbound) {
      const response = await handler(request)
      if (response) return response
    }
    // Nothing may reach the network: an unmocked upstream is a test failure, said loudly.
    const error = new HarnessError(
      'ERR_UNHANDLED_UPSTREAM',
      `The Worker fetched ${request.method} ${request.url}, which no upstream mock handles. Add a handler for it (emulator option "upstream"), or stop the Worker from calling it.`,
    )
    this.errors.push(error)
    this.transcript.record({ layer: 'upstream', type: 'unhandled', method: request.method, url: request.url })
    this.#workerLog('error', error.message)
    return new Response(error.message, { status: 502, headers: { 'content-type': 'text/plain', 'x-mcp-harness-error': error.code } })
  }

  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (this.#disposed) return Promise.reject(new HarnessError('ERR_DISPOSED', 'Failed to fetch: the emulator was disposed.'))
    const url = new URL(input instanceof Request ? input.url : input, this.url)
    // Another origin is not the emulator's: Node's fetch goes there, as it always did.
    if (url.origin !== this.url.origin) return input instanceof Request ? fetch(new Request(url, input), init) : fetch(url, init)
    return this.#fetchInProcess(url, input, init)
  }

  /**
   * The front door's own logic without its socket (no loopback HTTP hop): what a fetch to `url`
   * gets, redirects followed as Node's fetch follows them.
   */
  async #fetchInProcess(url: URL, input: string | URL | Request, init: RequestInit | undefined, redirects = 0): Promise<Response> {
    const request = await describeRequest(url, input, init)
    const response = await this.#front.fetch(request)
    const location = response.headers.get('location')
    if (!REDIRECT_STATUS.has(response.status) || !location || request.redirect === 'manual') return response
    await response.body?.cancel().catch(() => {})
    if (request.redirect === 'error' || redirects >= 20) throw new TypeError('fetch failed', { cause: new Error(request.redirect === 'error' ? 'unexpected redirect' : 'redirect count exceeded') })
    const next = new URL(location, url)
    // 303, and 301/302 after a POST, turn into a GET without a body (Fetch standard, HTTP-redirect fetch).
    const asGet = response.status === 303 ? request.method !== 'HEAD' : (response.status === 301 || response.status === 302) && request.method === 'POST'
    const headers = new Headers(request.headers)
    if (asGet) for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name)
    if (next.origin !== url.origin) headers.delete('authorization')
    const followInit: RequestInit = { method: asGet ? 'GET' : request.method, headers, redirect: request.redirect, signal: request.signal ?? null, ...(asGet || !request.body ? {} : { body: request.body as Uint8Array<ArrayBuffer> }) }
    if (next.origin !== this.url.origin) return fetch(next, followInit)
    return this.#fetchInProcess(next, next, followInit, redirects + 1)
  }

  #lifecycle(what: string): Lifecycle {
    const lifecycle = lifecycleFor(this.transcript)
    if (!lifecycle) throw new HarnessError('ERR_UNSUPPORTED', `Failed to ${what}: the hibernation plugin is not loaded.`)
    return lifecycle
  }

  evict(options?: EvictOptions): Promise<string[]> {
    return this.#lifecycle('evict').evict(options)
  }

  crash(): Promise<void> {
    return this.#lifecycle('crash').crash()
  }

  sessions(): SessionInfo[] {
    return this.#lifecycle('list sessions').sessions()
  }

  async settled(): Promise<void> {
    await hopTapFor(this.transcript)?.settled()
  }

  get faults(): HopFaults {
    const tap = hopTapFor(this.transcript)
    if (!tap) throw new HarnessError('ERR_UNSUPPORTED', 'Failed to set hop faults: the hop tap is off (option "hop.tap") or the Worker binds no Durable Object of its own.')
    return tap.faults
  }

  async wipeStorage(): Promise<void> {
    const lifecycle = lifecycleFor(this.transcript)
    if (this.#mf && lifecycle && wipesInPlace(this.worker)) {
      // Without restarting workerd: every Durable Object's storage (Miniflare keeps KV, R2, D1 and the
      // cache in Durable Objects too) is deleted and the running objects dropped, as a restart on an
      // empty folder would leave them; the plugins see the same stop and start around it.
      for (const plugin of this.#plugins) await plugin.beforeStop?.()
      await lifecycle.deleteAllDurableObjects()
      this.transcript.record({ layer: 'lifecycle', type: 'storage-wiped' })
      for (const plugin of this.#plugins) await plugin.afterStart?.(this.#mf)
      return
    }
    for (const plugin of this.#plugins) await plugin.beforeStop?.()
    const old = this.#mf
    this.#mf = undefined
    await old?.dispose()
    // Storage lives under the persist folder only; emptying it is what "wiped" means.
    if (this.#persistDir) {
      await rm(this.#persistDir, { recursive: true, force: true })
      await mkdir(this.#persistDir, { recursive: true })
    }
    this.transcript.record({ layer: 'lifecycle', type: 'storage-wiped' })
    await this.#startRuntime()
  }

  async restart(): Promise<void> {
    for (const plugin of this.#plugins) await plugin.beforeStop?.()
    const old = this.#mf
    this.#mf = undefined
    await old?.dispose()
    this.transcript.record({ layer: 'lifecycle', type: 'restarted' })
    await this.#startRuntime()
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    for (const plugin of this.#plugins) await plugin.beforeStop?.()
    await this.#front.close().catch(() => {})
    await this.#mf?.dispose().catch(() => {})
    this.#mf = undefined
    if (this.#ownsPersistDir && this.#persistDir) await rm(this.#persistDir, { recursive: true, force: true })
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose()
  }
}

/**
 * Whether deleting every Durable Object empties all of the Worker's storage. Queues and Workflows
 * keep their state in Miniflare objects that are never evicted, so a Worker binding them is wiped
 * by a restart on an empty folder instead.
 */
function wipesInPlace(worker: WorkerConfig): boolean {
  const options = worker.workerOptions
  const used = (name: string) => {
    const value = options[name]
    return value !== undefined && value !== null && (Array.isArray(value) ? value.length > 0 : typeof value !== 'object' || Object.keys(value).length > 0)
  }
  return !['queueProducers', 'queueConsumers', 'workflows'].some(used)
}

/**
 * Writes the entry module the runtime starts: it re-exports everything the user's bundle exports
 * (Durable Object classes, named entrypoints) and passes the default export through each plugin's
 * wrapper, in registration order, and each local Durable Object class through the wrappers that wrap
 * them (a local export shadows the star re-export). Returns every module of the Worker, the entry first.
 */
async function writeEntryModules(build: BuildResult, wrappers: EntryWrapper[], objectClasses: string[] = []): Promise<{ type: 'ESModule'; path: string }[]> {
  const dir = path.dirname(build.entry)
  const userModule = `./${path.basename(build.entry)}`
  const lines = [`import * as user from ${JSON.stringify(userModule)}`, `export * from ${JSON.stringify(userModule)}`]
  let expression = 'user.default'
  const wrapperFiles: string[] = []
  for (const [index, wrapper] of wrappers.entries()) {
    const file = `mcp-harness-${wrapper.name}-${createHash('sha256').update(wrapper.source).digest('hex').slice(0, 12)}.js`
    await writeAtomically(path.join(dir, file), wrapper.source)
    wrapperFiles.push(path.join(dir, file))
    lines.push(`import { ${wrapper.exportName} as wrap${index} } from ${JSON.stringify(`./${file}`)}`)
    expression = `wrap${index}(${expression})`
    if (wrapper.durableObjectExportName) lines.push(`import { ${wrapper.durableObjectExportName} as wrapObject${index} } from ${JSON.stringify(`./${file}`)}`)
  }
  for (const className of [...new Set(objectClasses)]) {
    let objectExpression = `user[${JSON.stringify(className)}]`
    for (const [index, wrapper] of wrappers.entries()) if (wrapper.durableObjectExportName) objectExpression = `wrapObject${index}(${objectExpression})`
    if (objectExpression.startsWith('wrapObject') && /^[A-Za-z_$][\w$]*$/.test(className)) lines.push(`export const ${className} = ${objectExpression}`)
  }
  lines.push(`export default ${expression}`, '')
  const entrySource = lines.join('\n')
  const entry = path.join(dir, `mcp-harness-entry-${createHash('sha256').update(entrySource).digest('hex').slice(0, 12)}.js`)
  await writeAtomically(entry, entrySource)
  const modules = [entry, ...wrapperFiles]
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    // wrangler's outputs (the bundle and any chunks it split); not ours, not source maps.
    if (/\.m?js$/.test(name) && !path.basename(name).startsWith('mcp-harness-')) modules.push(path.join(dir, name))
  }
  return modules.map((file) => ({ type: 'ESModule' as const, path: file }))
}

async function writeAtomically(file: string, contents: string): Promise<void> {
  try {
    if ((await readFile(file, 'utf8')) === contents) return
  } catch {
    // Not there yet.
  }
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, contents)
  await rename(tmp, file)
}

/** Turns workerd's start failures into causes a user can act on. */
function explainStartFailure(worker: WorkerConfig, error: unknown): HarnessError {
  const message = String((error as Error)?.message ?? error)
  const missingClass = worker.durableObjects.find((object) => !object.scriptName && message.includes(object.className))
  if (missingClass && /export|not found|does not exist/i.test(message)) {
    return new HarnessError(
      'ERR_START',
      `Failed to start "${worker.name}": the Worker module does not export the Durable Object class ${missingClass.className} (KI-01). Add \`export class ${missingClass.className} extends McpAgent { ... }\` (or re-export it) in ${worker.main}.`,
      { cause: error },
    )
  }
  return new HarnessError('ERR_START', `Failed to start "${worker.name}" under Miniflare: ${message}`, { cause: error })
}
