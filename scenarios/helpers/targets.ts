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
  /** How long to wait for "Ready on" (default 60 s). */
  readyTimeoutMs?: number
}

/**
 * The Worker under `wrangler dev --local` on a free loopback port: the local runtime users know,
 * for parity runs against the emulator. Wrangler runs with telemetry and update checks off.
 * @example const target = wranglerDevTarget({ config: 'server/wrangler.jsonc' })
 */
export function wranglerDevTarget(options: WranglerDevTargetOptions = {}): Target {
  const given = options.config ?? defaultWorkerConfig()
  const config = given === undefined ? undefined : path.resolve(given)
  let child: ChildProcess | undefined
  let baseUrl: URL | undefined
  return {
    name: 'wrangler-dev',
    capabilities: { transports: ALL_TRANSPORTS, stateless: true, emulator: false },
    get baseUrl() {
      if (!baseUrl) throw new HarnessError('ERR_TARGET', 'Failed to read the wrangler dev target URL: the target has not started.')
      return baseUrl
    },
    async start() {
      if (child) return
      const port = await freePort()
      const wranglerBin = path.join(path.dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js')
      const args = [wranglerBin, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()), ...(config ? ['--config', config] : []), '--show-interactive-dev-session=false', '--log-level', 'warn']
      child = spawn(process.execPath, args, {
        cwd: config ? path.dirname(config) : process.cwd(),
        // Offline: no metrics, no update check, no request.cf download from workers.cloudflare.com.
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '', FORCE_COLOR: '0', CI: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
      let log = ''
      child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
      child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
      const url = new URL(`http://127.0.0.1:${port}/`)
      const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
      // "Ready on" is printed before the runtime answers; poll until it does.
      while (Date.now() < deadline) {
        if (child.exitCode !== null) break
        try {
          await fetch(url, { signal: AbortSignal.timeout(1_000) })
          baseUrl = url
          return
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      }
      await this.stop()
      throw new HarnessError('ERR_TARGET', `Failed to start wrangler dev for ${config ?? process.cwd()}: it did not answer on ${url.href}. Its output:\n${log.slice(-2000)}`)
    },
    async stop() {
      const running = child
      child = undefined
      baseUrl = undefined
      if (!running || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      // wrangler starts workerd as its own child: signal the whole process group.
      killGroup(running, 'SIGTERM')
      const timer = setTimeout(() => killGroup(running, 'SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
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
