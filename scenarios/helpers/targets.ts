import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import net from 'node:net'
import path from 'node:path'
import { createEmulator, HarnessError, type Emulator, type EmulatorOptions } from '../../emulator/index.ts'
import type { TransportKind } from './clients.ts'

/** What a target can do beyond serving HTTP; scenarios that need more are skipped on it. */
export interface TargetCapabilities {
  /** The MCP transports the target serves. */
  transports: readonly TransportKind[]
  /** The stateless 2026-07-28 entry (`/mcp-stateless`) exists. */
  stateless: boolean
  /** The emulator API (Miniflare, eviction, transcript) is at hand through `target.emulator`. */
  emulator: boolean
}

export type TargetCapability = Exclude<keyof TargetCapabilities, 'transports'>

/**
 * A running MCP server a scenario talks to: the emulator, `wrangler dev`, or a plain URL.
 * The object exists before it starts (so tests can be skipped by capability at collection time);
 * `baseUrl` is valid between `start()` and `stop()`.
 */
export interface Target {
  readonly name: string
  readonly baseUrl: URL
  readonly capabilities: TargetCapabilities
  /** The emulator behind the target, when `capabilities.emulator` is true. */
  readonly emulator?: Emulator
  start(): Promise<void>
  stop(): Promise<void>
}

const ALL_TRANSPORTS: readonly TransportKind[] = ['streamable-http', 'sse']

/**
 * The wrangler config targets serve when none is given: `MCP_HARNESS_CONFIG` (the variable the
 * pytest plugin reads too), else none, so the emulator reads the current folder (its harness
 * config, else its wrangler config) and `wrangler dev` its own default.
 */
function defaultWorkerConfig(): string | undefined {
  return process.env.MCP_HARNESS_CONFIG || undefined
}

/**
 * A Worker under the emulator, started with `options` when the file starts: the default target.
 * Without `config` it serves `MCP_HARNESS_CONFIG`, else the Worker of the current folder.
 * @example const target = emulatorTarget({ config: 'path/to/wrangler.jsonc' })
 */
export function emulatorTarget(options: Partial<EmulatorOptions> = {}): Target {
  let emulator: Emulator | undefined
  return {
    name: 'emulator',
    capabilities: { transports: ALL_TRANSPORTS, stateless: true, emulator: true },
    get emulator() {
      return emulator
    },
    get baseUrl() {
      if (!emulator) throw new HarnessError('ERR_TARGET', 'Failed to read the emulator target URL: the target has not started. Call start() first (useTarget does it in beforeAll).')
      return emulator.url
    },
    async start() {
      const config = options.config ?? defaultWorkerConfig()
      emulator ??= await createEmulator({ ...options, ...(config ? { config } : {}) } as EmulatorOptions)
    },
    async stop() {
      await emulator?.dispose()
      emulator = undefined
    },
  }
}

/**
 * A server that already runs elsewhere (another process, `wrangler dev --remote`, a deployed
 * Worker). The harness neither starts nor stops it.
 * @example const target = urlTarget('https://my-mcp.example.workers.dev')
 */
export function urlTarget(url: string | URL, capabilities: Partial<TargetCapabilities> = {}): Target {
  const baseUrl = new URL(url)
  return {
    name: `url ${baseUrl.origin}`,
    baseUrl,
    capabilities: { transports: ALL_TRANSPORTS, stateless: true, ...capabilities, emulator: false },
    async start() {
      // Fail early with a named cause rather than in the first scenario.
      try {
        await fetch(baseUrl, { method: 'HEAD', signal: AbortSignal.timeout(10_000) })
      } catch (error) {
        throw new HarnessError('ERR_TARGET', `Failed to reach the target ${baseUrl.href}: ${(error as Error).message}. Start the server first, or check the URL.`, { cause: error })
      }
    },
    async stop() {},
  }
}

export interface WranglerDevTargetOptions {
  /** Path of the wrangler config (default: `MCP_HARNESS_CONFIG`, else wrangler's own lookup in the current folder). */
  config?: string
  /** How long to wait for the Worker to answer (default 60 s). */
  readyTimeoutMs?: number
  /** Extra environment for wrangler (credentials for `--remote`). */
  env?: Record<string, string>
}

/**
 * The Worker under `wrangler dev --local` on a free loopback port: the local runtime users know,
 * for parity runs against the emulator. Wrangler runs with telemetry and update checks off.
 * @example const target = wranglerDevTarget({ config: 'server/wrangler.jsonc' })
 */
export function wranglerDevTarget(options: WranglerDevTargetOptions = {}): Target {
  return wranglerProcessTarget('wrangler-dev', ['--local'], {
    ...options,
    // Offline: no credentials, so wrangler never tries Cloudflare's API.
    env: { CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '', ...options.env },
  })
}

/** The variables `wrangler dev --remote` needs; `remoteTarget` reads them from the environment. */
export const REMOTE_CREDENTIALS = ['CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_ACCOUNT_ID'] as const

/** Why the remote target cannot run with this environment, or undefined when it can. */
export function remoteSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = REMOTE_CREDENTIALS.filter((name) => !env[name]?.trim())
  return missing.length ? `set ${missing.join(' and ')} to run wrangler dev --remote (a token with Workers Scripts:Edit on that account)` : undefined
}

/**
 * The Worker under `wrangler dev --remote`: the code runs on Cloudflare's network (real Durable
 * Objects, real eviction), reached through wrangler's local proxy on a loopback port. Needs
 * `CLOUDFLARE_API_TOKEN` and `CLOUDFLARE_ACCOUNT_ID`; with wrong ones `start()` fails with
 * wrangler's own error in one line, as soon as wrangler prints it.
 * @example if (!remoteSkipReason()) targets.push(remoteTarget({ config: 'server/wrangler.jsonc' }))
 */
export function remoteTarget(options: WranglerDevTargetOptions = {}): Target {
  const env = { ...Object.fromEntries(REMOTE_CREDENTIALS.map((name) => [name, process.env[name] ?? ''])), ...options.env }
  return wranglerProcessTarget('remote', ['--remote'], { ...options, env })
}

/** wrangler's error lines: `✘ [ERROR] ...` (the marker differs without a TTY), or an uncaught throw. */
const WRANGLER_ERROR = /^(?:✘ |X )?\[ERROR\]\s*(.+)$/m

/** wrangler's log without terminal colour codes. */
const plain = (log: string) => log.replace(/\x1b\[[0-9;]*m/g, '')

/** The address wrangler said it serves on (`Ready on http://127.0.0.1:PORT`), or undefined before it says so. */
export function wranglerReadyUrl(log: string): URL | undefined {
  const match = /Ready on (http:\/\/\S+)/.exec(plain(log))
  return match ? new URL('/', match[1]) : undefined
}

/** The first error wrangler printed, as one line (wrangler's own words), or undefined. */
export function wranglerErrorLine(log: string): string | undefined {
  const match = WRANGLER_ERROR.exec(plain(log))
  return match?.[1]?.trim().replace(/\s+/g, ' ')
}

function wranglerProcessTarget(name: string, modeArgs: string[], options: WranglerDevTargetOptions): Target {
  const given = options.config ?? defaultWorkerConfig()
  const config = given === undefined ? undefined : path.resolve(given)
  let child: ChildProcess | undefined
  let baseUrl: URL | undefined
  const target: Target = {
    name,
    capabilities: { transports: ALL_TRANSPORTS, stateless: true, emulator: false },
    get baseUrl() {
      if (!baseUrl) throw new HarnessError('ERR_TARGET', `Failed to read the ${name} target URL: the target has not started.`)
      return baseUrl
    },
    async start() {
      if (child) return
      const wranglerBin = path.join(path.dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js')
      // Port 0: wrangler binds a free port itself and names it ("Ready on", logged at info). A port
      // picked here first could be taken by another process before wrangler binds it, and that
      // process would then answer in wrangler's place.
      const args = [wranglerBin, 'dev', ...modeArgs, '--ip', '127.0.0.1', '--port', '0', '--inspector-port', '0', ...(config ? ['--config', config] : []), '--show-interactive-dev-session=false', '--log-level', 'info']
      const running = spawn(process.execPath, args, {
        cwd: config ? path.dirname(config) : process.cwd(),
        // No metrics, no update check, no request.cf download from workers.cloudflare.com.
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false', FORCE_COLOR: '0', CI: '1', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
      child = running
      let log = ''
      running.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
      running.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
      const readyMs = options.readyTimeoutMs ?? 60_000
      const deadline = Date.now() + readyMs
      let url: URL | undefined
      // "Ready on" is printed before the runtime answers; poll until it does. Stop at the first
      // error wrangler prints (bad credentials, a build error): it will not recover by itself.
      while (Date.now() < deadline && running.exitCode === null && !wranglerErrorLine(log)) {
        url ??= wranglerReadyUrl(log)
        try {
          if (url) {
            await fetch(url, { signal: AbortSignal.timeout(1_000) })
            baseUrl = url
            return
          }
        } catch {
          // Not answering yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const reason =
        wranglerErrorLine(log) ??
        (running.exitCode !== null
          ? `wrangler exited with code ${running.exitCode}`
          : url
            ? `it did not answer on ${url.href} within ${Math.round(readyMs / 1000)} s`
            : `it did not say where it listens ("Ready on") within ${Math.round(readyMs / 1000)} s`)
      await target.stop()
      throw new HarnessError('ERR_TARGET', `Failed to start wrangler dev ${modeArgs.join(' ')} for ${config ?? process.cwd()}: ${reason}`, { cause: new Error(log.slice(-4000)) })
    },
    async stop() {
      const running = child
      child = undefined
      baseUrl = undefined
      if (!running || running.exitCode !== null || running.signalCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      // wrangler starts workerd as its own child: signal the whole process group.
      killGroup(running, 'SIGTERM')
      const timer = setTimeout(() => killGroup(running, 'SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
  return target
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Waits until something accepts connections on 127.0.0.1:`port` (polled every 20 ms, `attempts` times). */
export async function waitForPort(port: number, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)))
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`)
}

/**
 * The target named by `MCP_HARNESS_TARGET`: unset or `emulator` (default), `wrangler-dev`, or an
 * `http(s)://` URL. Lets one suite run unchanged against each.
 * @example MCP_HARNESS_TARGET=wrangler-dev npx vitest run scenarios/lifecycle
 */
export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): Target {
  const value = env.MCP_HARNESS_TARGET?.trim()
  if (!value || value === 'emulator') return emulatorTarget()
  if (value === 'wrangler-dev') return wranglerDevTarget()
  if (/^https?:\/\//.test(value)) return urlTarget(value)
  throw new HarnessError('ERR_OPTIONS', `Invalid MCP_HARNESS_TARGET "${value}": expected "emulator", "wrangler-dev" or an http(s):// URL.`)
}

export interface ContainerTargetOptions {
  /** Path of the wrangler config; its folder is mounted read-only (default: `MCP_HARNESS_CONFIG`, else the current folder). */
  config?: string
  /** How long the container may take to build its Worker and answer (default 180 s). */
  startupTimeoutMs?: number
}

/**
 * The emulator image (container/Dockerfile) serving the Worker in a container, reached over its
 * published loopback port: a stand-in for a remote server in CI that is not the in-process front
 * door. Needs a Docker engine; the image is built locally (no registry) and cached by its inputs.
 * @example const target = containerTarget({ config: 'server/wrangler.jsonc' })
 */
export function containerTarget(options: ContainerTargetOptions = {}): Target {
  const config = path.resolve(options.config ?? defaultWorkerConfig() ?? '.')
  let container: { stop(options?: { timeout?: number }): Promise<unknown> } | undefined
  let baseUrl: URL | undefined
  return {
    name: 'container',
    capabilities: { transports: ALL_TRANSPORTS, stateless: true, emulator: false },
    get baseUrl() {
      if (!baseUrl) throw new HarnessError('ERR_TARGET', 'Failed to read the container target URL: the target has not started.')
      return baseUrl
    },
    async start() {
      if (container) return
      // testcontainers' reaper image cannot be pulled without a registry: the target stops its own container.
      process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'
      process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost'
      // Loaded on demand: testcontainers and the image builder are only needed for this target.
      const [{ GenericContainer, Wait }, { buildImage, dockerAvailable }] = await Promise.all([import('testcontainers'), import('../../container/build-image.ts')])
      if (!(await dockerAvailable())) throw new HarnessError('ERR_TARGET', 'Failed to start the container target: no Docker engine answers. Start one (`dockerd &`) or leave out the container target.')
      const { tag } = await buildImage()
      // Publish on the host's loopback only (testcontainers binds 0.0.0.0 by default).
      class LoopbackContainer extends GenericContainer {
        override withExposedPorts(...ports: number[]): this {
          super.withExposedPorts(...ports)
          for (const port of ports) this.hostConfig.PortBindings![`${port}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: '0' }]
          return this
        }
      }
      const started = await new LoopbackContainer(tag)
        .withExposedPorts(8787)
        .withBindMounts([{ source: path.dirname(config), target: '/srv/mcp-harness/worker', mode: 'ro' }])
        .withEnvironment({ MCP_HARNESS_CONFIG: `/srv/mcp-harness/worker/${path.basename(config)}` })
        .withWaitStrategy(Wait.forLogMessage(/"control":\{"url"/))
        .withStartupTimeout(options.startupTimeoutMs ?? 180_000)
        .start()
      container = started
      baseUrl = new URL(`http://127.0.0.1:${started.getMappedPort(8787)}/`)
    },
    async stop() {
      const running = container
      container = undefined
      baseUrl = undefined
      await running?.stop({ timeout: 5_000 })
    },
  }
}

/** The target names `parseTargetSpec` understands. */
export const TARGET_NAMES = ['emulator', 'wrangler-dev', 'remote', 'container', 'url=<mcp server url>'] as const

/**
 * A target from its name as the CLI takes it: `emulator`, `wrangler-dev`, `remote`, `container`,
 * or `url=<base url>` (extra headers, e.g. Authorization, are added per request by the caller).
 * @example parseTargetSpec('url=https://my-mcp.example.workers.dev', { config: 'wrangler.jsonc' })
 */
export function parseTargetSpec(spec: string, options: { config?: string; emulator?: Partial<EmulatorOptions> } = {}): Target {
  const value = spec.trim()
  if (value === 'emulator') return emulatorTarget({ ...(options.config ? { config: options.config } : {}), ...options.emulator })
  if (value === 'wrangler-dev') return wranglerDevTarget({ config: options.config })
  if (value === 'remote') return remoteTarget({ config: options.config })
  if (value === 'container') return containerTarget({ config: options.config })
  if (value.startsWith('url=')) {
    const url = value.slice(4)
    if (!/^https?:\/\//.test(url)) throw new HarnessError('ERR_OPTIONS', `Invalid target "${value}": url= takes an http(s):// URL, e.g. url=http://127.0.0.1:8787.`)
    const target = urlTarget(url)
    return Object.defineProperty(target, 'name', { value: `url=${target.baseUrl.origin}${target.baseUrl.pathname === '/' ? '' : target.baseUrl.pathname}` })
  }
  throw new HarnessError('ERR_OPTIONS', `Invalid target "${value}": expected one of ${TARGET_NAMES.join(', ')}.`)
}
