import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import type { Emulator } from '../emulator/emulator.ts'
import type { EmulatorOptions } from '../emulator/options.ts'
import type { ControlPlane } from '../emulator/control/server.ts'
import { SERVE_MAX_EVENTS } from '../core/transcript.ts'
import { findHarnessConfig, parseUpstreamFlag, printableConfig, resolveHarnessOptions, providersFromSpecs } from '../emulator/config-file.ts'
import { resolveConfigPath } from '../emulator/internal/wrangler.ts'
import { HarnessError, isHarnessError } from '../core/errors.ts'
import { parsePort, UsageError, type CliCommand, type CliValues } from './command.ts'

export const HOSTS = ['127.0.0.1', 'localhost', '::1'] as const
const DEFAULT_PORT = 8788

/**
 * The endpoints of a served Worker that answered the probes; `--json` prints exactly these. A key
 * is absent when its endpoint does not answer (a Worker without /health has no `health`).
 */
export interface ServeUrls {
  url: string
  /** Streamable HTTP endpoint. */
  mcp?: string
  /** True when the Streamable HTTP endpoint keeps no session (initialize answered without `mcp-session-id`). */
  stateless?: true
  /** Legacy SSE endpoint. */
  sse?: string
  health?: string
}

const PROBE_TIMEOUT_MS = 10_000
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-harness-probe', version: '0' } },
}

/**
 * Probes the Worker for its MCP endpoints: the paths its /health announces (the reference server
 * does), else /mcp and /sse. Probes go to the runtime directly, not through the front door, and
 * open no session on McpAgent servers, so the transcript and sessions a user reads are their own.
 */
export async function probeEndpoints(emulator: Emulator): Promise<ServeUrls> {
  const base = emulator.url
  const at = (p: string) => new URL(p, base).href
  const send = async (p: string, init: RequestInit): Promise<Response | undefined> => {
    try {
      return (await emulator.miniflare.dispatchFetch(at(p), { ...init, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) } as never)) as unknown as Response
    } catch {
      return undefined
    }
  }
  const json = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  // Probes must not open sessions: a user's transcript, sessions() and evict() would see them.
  // /mcp: a `ping` without a session id. A stateful server refuses it (McpAgent: 400 "Mcp-Session-Id
  // header is required") without creating anything; a 2xx means no session is needed.
  const pingMcp = async (p: string) => {
    const response = await send(p, { method: 'POST', headers: json, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }) })
    await response?.body?.cancel()
    return response
  }
  // SSE: a POST to its message path without a sessionId (McpAgent: 400 "Missing sessionId", no session made).
  const postSseMessage = async (p: string) => {
    const response = await send(`${p.replace(/\/$/, '')}/message`, { method: 'POST', headers: json, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }) })
    await response?.body?.cancel()
    return response
  }
  // The default paths are probed while /health answers (none of these probes opens a session); the
  // paths /health announces, when it names others, are probed after it.
  const [health, mcpAtDefault, messageAtDefault] = await Promise.all([send('/health', { method: 'GET' }), pingMcp('/mcp'), postSseMessage('/sse')])
  const paths = { mcp: '/mcp', sse: '/sse' }
  const urls: ServeUrls = { url: base.href }
  if (health && health.ok) {
    urls.health = at('/health')
    try {
      const body = (await health.json()) as { transports?: { mcp?: unknown; sse?: unknown } }
      if (typeof body.transports?.mcp === 'string') paths.mcp = body.transports.mcp
      if (typeof body.transports?.sse === 'string') paths.sse = body.transports.sse
    } catch {
      // Not JSON: a health page of its own kind.
    }
  } else await health?.body?.cancel()
  const [mcp, message] = await Promise.all([paths.mcp === '/mcp' ? mcpAtDefault : pingMcp(paths.mcp), paths.sse === '/sse' ? messageAtDefault : postSseMessage(paths.sse)])
  // 401/403 still means "an MCP endpoint behind auth"; 404/405 means there is none.
  if (mcp && mcp.status !== 404 && mcp.status !== 405 && mcp.status < 500) {
    urls.mcp = at(paths.mcp)
    if (mcp.ok) {
      // No session needed for a ping: an `initialize` answered without `mcp-session-id` confirms "stateless".
      const initialize = await send(paths.mcp, { method: 'POST', headers: json, body: JSON.stringify(INITIALIZE) })
      await initialize?.body?.cancel()
      const session = initialize?.headers.get('mcp-session-id')
      if (initialize?.ok && !session) urls.stateless = true
      if (session) await (await send(paths.mcp, { method: 'DELETE', headers: { 'mcp-session-id': session } }))?.body?.cancel()
    }
  }
  // Only when the message path is unknown, a GET of the stream itself (which, on other servers, may open a session).
  if (message && (message.status === 400 || message.status === 401 || message.status === 403)) urls.sse = at(paths.sse)
  else {
    const sse = await send(paths.sse, { method: 'GET', headers: { accept: 'text/event-stream' } })
    const isStream = (sse?.headers.get('content-type') ?? '').includes('text/event-stream')
    if (sse && ((sse.ok && isStream) || sse.status === 401 || sse.status === 403)) urls.sse = at(paths.sse)
    await sse?.body?.cancel().catch(() => {})
  }
  // One key order for every Worker: url, mcp, stateless, sse, health.
  const ordered: ServeUrls = { url: urls.url }
  for (const key of ['mcp', 'stateless', 'sse', 'health'] as const) if (urls[key] !== undefined) Object.assign(ordered, { [key]: urls[key] })
  return ordered
}

/** The ready-to-paste client settings printed by `serve`, for the endpoints that answered. */
export function clientSettings(name: string, urls: ServeUrls): string {
  const lines: string[] = []
  if (urls.mcp) lines.push(`Streamable HTTP  ${urls.mcp}${urls.stateless ? '  (stateless: no session kept)' : ''}`)
  if (urls.sse) lines.push(`SSE (legacy)     ${urls.sse}`)
  if (urls.health) lines.push(`Health           ${urls.health}`)
  const main = urls.mcp ?? urls.sse
  if (!main) return [...lines, `No MCP endpoint answered at /mcp or /sse (nor at the paths /health announces); the Worker is served at ${urls.url}.`].join('\n')
  const claude = { mcpServers: { [name]: { command: 'npx', args: ['mcp-remote', main] } } }
  return [
    ...lines,
    '',
    'MCP Inspector (web UI):',
    ...(urls.mcp ? [`  npx @modelcontextprotocol/inspector --transport http --server-url ${urls.mcp}`] : []),
    ...(urls.sse ? [`  npx @modelcontextprotocol/inspector --transport sse --server-url ${urls.sse}`] : []),
    'MCP Inspector (CLI, one call):',
    `  npx @modelcontextprotocol/inspector --cli ${main}${urls.mcp ? '' : ' --transport sse'} --method tools/list`,
    'mcp-remote (the stdio bridge Claude Desktop uses):',
    `  npx mcp-remote ${main}`,
    'Servers that sign users in (OAuth, with `--upstream <provider>`): mcp-remote signs in by itself; for Inspector, get a token:',
    `  TOKEN=$(npx mcp-harness token --url ${main} [--user <login>])`,
    `  npx @modelcontextprotocol/inspector --cli ${main} --method tools/list --header "Authorization: Bearer $TOKEN"`,
    'Claude Desktop (claude_desktop_config.json):',
    ...JSON.stringify(claude, null, 2)
      .split('\n')
      .map((line) => `  ${line}`),
  ].join('\n')
}

/** Runs until SIGINT/SIGTERM/SIGHUP, then disposes the emulator (workerd included) and resolves. */
function untilSignal(emulator: Emulator, stderr: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
    const stop = (signal: string) => {
      const why = signal.startsWith('SIG') ? `Received ${signal}` : signal
      if (stopping) {
        // A second Ctrl-C means "now": leave without waiting for a clean stop.
        stderr.write(`${why} again: exiting without waiting.\n`)
        process.exit(130)
      }
      stopping = true
      clearInterval(orphanWatch)
      stderr.write(`${why}: stopping the emulator...\n`)
      emulator.dispose().then(
        () => {
          for (const signal of signals) process.off(signal, stop)
          stderr.write('Stopped.\n')
          resolve(0)
        },
        (error: unknown) => {
          stderr.write(`Failed to stop cleanly: ${(error as Error).message}\n`)
          resolve(1)
        },
      )
    }
    for (const signal of signals) {
      // Miniflare's own exit hook kills workerd and exits 130/143 on these signals, skipping the
      // emulator's clean stop (plugins, front door, temporary storage). The CLI owns the process,
      // so it takes the signals over; Miniflare's 'exit' hook stays as a last-resort safety net.
      for (const listener of process.listeners(signal)) process.off(signal, listener)
      process.on(signal, stop)
    }
    // A parent that dies without passing the signal on (a shell wrapper killed by SIGTERM, as
    // `npm start` spawns one) re-parents this process: stop then, so workerd is never orphaned.
    const parent = process.ppid
    const orphanWatch = setInterval(() => {
      if (process.ppid !== parent) stop('The parent process exited')
    }, 500)
    orphanWatch.unref()
  })
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [])
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)

/** Parses `--var KEY=VALUE` flags (repeatable); the value may hold `=`. */
export function parseVarFlags(values: string[]): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const entry of values) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry)
    if (!match) throw new UsageError(`Invalid --var "${entry}": expected KEY=VALUE, e.g. --var GREETING=hello.`)
    vars[match[1]!] = match[2]!
  }
  return vars
}

/** The emulator input the flags give (explicit options, on top of the harness config). */
async function flagsInput(values: CliValues): Promise<EmulatorOptions> {
  const input: EmulatorOptions = {}
  const harnessConfig = str(values['harness-config'])
  input.harnessConfig = harnessConfig ?? findHarnessConfig() ?? false
  if (str(values.config)) input.config = str(values.config)
  if (str(values.port)) input.port = parsePort(String(values.port))
  const host = str(values.host)
  if (host !== undefined) {
    if (!(HOSTS as readonly string[]).includes(host)) throw new UsageError(`Invalid --host "${host}": expected one of ${HOSTS.join(', ')} (the harness listens on loopback only).`)
    input.host = host as (typeof HOSTS)[number]
  }
  if (str(values.env)) input.environment = str(values.env)
  if (str(values.persist)) input.persistDir = str(values.persist)
  const vars = parseVarFlags(list(values.var))
  if (Object.keys(vars).length) input.vars = vars
  if (str(values['env-file'])) input.envFile = str(values['env-file'])
  const upstreams = list(values.upstream)
  if (upstreams.length) {
    let specs
    try {
      specs = upstreams.map(parseUpstreamFlag)
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/^\[mcp-harness\] ERR_OPTIONS: /, ''))
    }
    input.upstream = { providers: await providersFromSpecs(specs, process.cwd()) }
  }
  if (values['no-hop-tap']) input.hop = { tap: false }
  return input
}

/** The `.dev.vars` file wrangler would read beside a config, and its names (values are never shown). */
function devVarsBeside(config: string, environment?: string): { file: string; names: string[] } | undefined {
  let dir: string
  try {
    dir = path.dirname(resolveConfigPath(config))
  } catch {
    return undefined
  }
  // wrangler's order: `.dev.vars.<env>` else `.dev.vars`; only without them, `.env` (and `.env.<env>`).
  const candidates = [...(environment ? [`.dev.vars.${environment}`] : []), '.dev.vars', ...(environment ? [`.env.${environment}`] : []), '.env']
  const file = candidates.map((name) => path.join(dir, name)).find((candidate) => existsSync(candidate))
  if (!file) return undefined
  return { file, names: Object.keys(parseEnv(readFileSync(file, 'utf8'))) }
}

/** A port-in-use failure of `serve`: the hint is the flag that always works. */
function explainPortInUse(error: unknown, flag: string): unknown {
  if (!isHarnessError(error, 'ERR_PORT_IN_USE')) return error
  const what = /^\[mcp-harness\] ERR_PORT_IN_USE: (Failed to .+?): (the )?port/.exec(error.message)?.[1] ?? 'Failed to listen'
  return new HarnessError('ERR_PORT_IN_USE', `${what}: the port is in use (another server, or an earlier mcp-harness still running). Pass ${flag} 0 to take a free one, or another ${flag}.`, { cause: error })
}

export const serveCommand: CliCommand = {
  summary: 'Start the emulator for a Worker and print its URLs and client settings',
  usage: '[--config path] [--port n] [--var KEY=VALUE]... [--env-file file] [--upstream name[=users.json]]... [--json] [--print-config]',
  options: {
    config: { type: 'string', short: 'c', value: 'path', description: 'wrangler.jsonc / .json / .toml, or the folder holding one (default: the harness config\'s "config", else the current folder)' },
    port: { type: 'string', short: 'p', value: 'n', description: `port of the front door; 0 takes a free one (default: the harness config's "port", else ${DEFAULT_PORT})` },
    host: { type: 'string', value: 'host', description: `loopback address to bind: ${HOSTS.join(', ')} (default: 127.0.0.1)` },
    env: { type: 'string', short: 'e', value: 'name', description: 'wrangler environment (--env)' },
    persist: { type: 'string', value: 'dir', description: 'keep Durable Object / KV storage in this folder (default: a temporary one, removed on exit)' },
    var: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'a binding on top of wrangler vars, .dev.vars and the harness config (repeatable)' },
    'env-file': { type: 'string', value: 'file', description: 'a dotenv file whose entries become bindings (after .dev.vars; replaces the harness config\'s "envFile")' },
    upstream: { type: 'string', multiple: true, value: 'name[=users.json]', description: 'mock an upstream OAuth provider: github, google or oidc, with its users (or provider options) from a JSON file (repeatable; replaces the harness config\'s providers)' },
    'no-hop-tap': { type: 'boolean', description: 'bind the Durable Object directly: no Worker->DO hop tap (no hop transcript, faults or session tracking)' },
    'harness-config': { type: 'string', value: 'file', description: 'the harness config to read (default: mcp-harness.config.{ts,mts,js,mjs,json} in the current folder)' },
    'print-config': { type: 'boolean', description: 'print the merged configuration (file + flags) as JSON with secrets masked, and exit' },
    json: { type: 'boolean', description: 'print exactly one JSON line on stdout when ready: {"url", "mcp", "sse", "health"}, each endpoint only if it answers ("stateless": true when /mcp keeps no session)' },
    ui: { type: 'boolean', description: 'serve the live sequence diagram of the session on the control plane (implies --control); its URL is in the banner' },
    control: { type: 'boolean', description: 'also serve the control plane (evict, crash, faults, transcript; emulator/control/openapi.json) on a loopback port with a random token; --json adds "control": {"url","token"}' },
    'control-port': { type: 'string', value: 'n', description: 'port of the control plane; 0 takes a free one (default: the harness config\'s "controlPort", else 0)' },
  },
  details: [
    'Reads mcp-harness.config.ts (or .mts/.js/.mjs/.json) in the current folder when there is one; flags override it.',
    'Build progress goes to stderr. Stops cleanly (workerd included) on SIGINT, SIGTERM or SIGHUP, and when its parent process goes away.',
    'Exit codes: 0 stopped cleanly, 1 the Worker could not be built or started, 2 a usage error.',
  ].join('\n'),
  async run({ values, stdout, stderr }) {
    const input = await flagsInput(values)
    // The emulator and Miniflare (large modules) load while the harness config is read (a TypeScript
    // one is bundled by esbuild, in its own process). Not for --print-config, which starts nothing.
    const emulatorModule = values['print-config'] ? undefined : import('../emulator/emulator.ts')
    if (emulatorModule) {
      emulatorModule.catch(() => {}) // awaited below
      void import('../emulator/internal/runtime.ts').then(({ loadRuntime }) => loadRuntime()).catch(() => {}) // a failure surfaces in createEmulator
    }
    const resolution = await resolveHarnessOptions(input)
    const options = { port: DEFAULT_PORT, ...resolution.options }
    const controlPort = str(values['control-port']) ? parsePort(String(values['control-port'])) : (resolution.controlPort ?? 0)
    if (values['print-config']) {
      const devVars = typeof options.config === 'string' ? devVarsBeside(options.config, options.environment) : undefined
      const printed = printableConfig({ ...resolution, options: { host: '127.0.0.1', ...options } }, { devVars, ...(values.control ? { controlPort } : {}) })
      stdout.write(`${JSON.stringify(printed, null, 2)}\n`)
      return 0
    }
    // wrangler prints notes ("Using secrets defined in .dev.vars") with console.log; stdout is
    // reserved for the ready output (one JSON line with --json), so they go to stderr.
    console.log = console.info = (...args: unknown[]) => console.error(...args)
    if (resolution.file) stderr.write(`Using ${path.relative(process.cwd(), resolution.file) || resolution.file} (loaded in ${Math.round(resolution.loadMs ?? 0)} ms)\n`)
    // Loaded only now (started above) so that --help and argument errors answer without loading Miniflare.
    const { createEmulator } = await emulatorModule!
    let emulator: Emulator
    try {
      emulator = await createEmulator({
        ...options,
        harnessConfig: false,
        // A serve runs for hours: keep the transcript bounded (oldest events dropped, with a marker).
        transcript: { maxEvents: SERVE_MAX_EVENTS, ...options.transcript },
        // With --json, stdout carries the one ready line only: Worker output stays in the transcript.
        workerLog: values.json ? 'transcript' : 'inherit',
        onProgress: (message) => stderr.write(`${message}\n`),
      })
    } catch (error) {
      throw explainPortInUse(error, '--port')
    }
    const stopped = untilSignal(emulator, stderr)
    const urls = await probeEndpoints(emulator)
    // Off unless asked: the control plane can evict, crash and write cassette files.
    let control: ControlPlane | undefined
    const ui = values.ui ? (await import('../report/live.ts')).createLiveView(emulator, emulator.worker.name) : undefined
    if (values.control || ui) {
      try {
        const [{ startControlPlane }, { saveEmulatorCassette }] = await Promise.all([import('../emulator/control/server.ts'), import('../recordings/capture/save-emulator-cassette.ts')])
        control = await startControlPlane(emulator, { host: options.host ?? '127.0.0.1', port: controlPort, ...(resolution.cassettes ? { cassettesDir: resolution.cassettes } : {}) }, { saveCassette: saveEmulatorCassette, ui })
      } catch (error) {
        await emulator.dispose()
        throw explainPortInUse(error, '--control-port')
      }
      void stopped.finally(() => control?.close())
    }
    // A browser cannot send a bearer header when it opens a page: the live view's URL carries the token.
    const uiUrl = ui && control ? new URL(`/ui?token=${encodeURIComponent(control.token)}`, control.url).href : undefined
    if (values.json) {
      stdout.write(`${JSON.stringify(control ? { ...urls, control: { url: control.url.href, token: control.token }, ...(uiUrl ? { ui: uiUrl } : {}) } : urls)}\n`)
    } else {
      const configPath = path.relative(process.cwd(), emulator.worker.configPath) || emulator.worker.configPath
      stdout.write(`\nmcp-harness: serving ${emulator.worker.name} (${configPath}) at ${urls.url}\n\n${clientSettings(emulator.worker.name, urls)}\n\n${control ? `Control plane: ${control.url.href} (its bearer token is printed with --json only)\n\n` : ''}${uiUrl ? `Live view: ${uiUrl}\n\n` : ''}Press Ctrl-C to stop.\n`)
    }
    return stopped
  },
}
