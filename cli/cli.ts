import { realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Emulator } from '../emulator/emulator.ts'
import { startControlPlane } from '../emulator/control/server.ts'
import { RECORDINGS_COMMANDS } from './recordings-commands.ts'
import { saveEmulatorCassette } from '../recordings/capture/save-emulator-cassette.ts'
import { doctorCommand } from './doctor-command.ts'
import { parityCommand } from './parity-command.ts'
import { reportCommand } from './report-command.ts'
import { createLiveView } from '../report/live.ts'
import { isHarnessError } from '../core/errors.ts'
import { parsePort, UsageError, type CliCommand, type CliOption, type CliValues } from './command.ts'

const HOSTS = ['127.0.0.1', 'localhost', '::1'] as const

/** The URLs a served Worker is reached at; `--json` prints exactly these (later issues add fields). */
export interface ServeUrls {
  url: string
  mcp: string
  sse: string
  health: string
}

/** Where the Worker serves MCP: the paths its /health announces (the reference server does), else /mcp and /sse. */
async function discoverUrls(emulator: Emulator): Promise<ServeUrls> {
  const paths = { mcp: '/mcp', sse: '/sse' }
  try {
    const response = await emulator.fetch('/health', { signal: AbortSignal.timeout(5_000) })
    const body = (await response.json()) as { transports?: { mcp?: unknown; sse?: unknown } }
    if (typeof body.transports?.mcp === 'string') paths.mcp = body.transports.mcp
    if (typeof body.transports?.sse === 'string') paths.sse = body.transports.sse
  } catch {
    // Not every Worker has /health (KI-21): fall back to the usual paths.
  }
  const at = (p: string) => new URL(p, emulator.url).href
  return { url: emulator.url.href, mcp: at(paths.mcp), sse: at(paths.sse), health: at('/health') }
}

/** The ready-to-paste client settings printed by `serve`. */
export function clientSettings(name: string, urls: ServeUrls): string {
  const claude = { mcpServers: { [name]: { command: 'npx', args: ['mcp-remote', urls.mcp] } } }
  return [
    `Streamable HTTP  ${urls.mcp}`,
    `SSE (legacy)     ${urls.sse}`,
    `Health           ${urls.health}`,
    '',
    'MCP Inspector (web UI):',
    `  npx @modelcontextprotocol/inspector --transport http --server-url ${urls.mcp}`,
    `  npx @modelcontextprotocol/inspector --transport sse --server-url ${urls.sse}`,
    'MCP Inspector (CLI, one call):',
    `  npx @modelcontextprotocol/inspector --cli ${urls.mcp} --method tools/list`,
    'mcp-remote (the stdio bridge Claude Desktop uses):',
    `  npx mcp-remote ${urls.mcp}`,
    'Claude Desktop (claude_desktop_config.json):',
    ...JSON.stringify(claude, null, 2)
      .split('\n')
      .map((line) => `  ${line}`),
  ].join('\n')
}

/** Runs until SIGINT/SIGTERM, then disposes the emulator (workerd included) and resolves. */
function untilSignal(emulator: Emulator, stderr: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second Ctrl-C means "now": leave without waiting for a clean stop.
        stderr.write(`Received ${signal} again: exiting without waiting.\n`)
        process.exit(130)
      }
      stopping = true
      stderr.write(`Received ${signal}: stopping the emulator...\n`)
      emulator.dispose().then(
        () => {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          stderr.write('Stopped.\n')
          resolve(0)
        },
        (error: unknown) => {
          stderr.write(`Failed to stop cleanly: ${(error as Error).message}\n`)
          resolve(1)
        },
      )
    }
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // Miniflare's own exit hook kills workerd and exits 130/143 on these signals, skipping the
      // emulator's clean stop (plugins, front door, temporary storage). The CLI owns the process,
      // so it takes the signals over; Miniflare's 'exit' hook stays as a last-resort safety net.
      for (const listener of process.listeners(signal)) process.off(signal, listener)
      process.on(signal, onSignal)
    }
  })
}

const serve: CliCommand = {
  summary: 'Start the emulator for a Worker and print its URLs and client settings',
  usage: '[--config path] [--port n] [--host 127.0.0.1] [--env name] [--persist dir] [--json]',
  options: {
    config: { type: 'string', short: 'c', value: 'path', description: 'wrangler.jsonc / .json / .toml, or the folder holding one', default: '.' },
    port: { type: 'string', short: 'p', value: 'n', description: 'port of the front door; 0 takes a free one', default: '8788' },
    host: { type: 'string', value: 'host', description: `loopback address to bind: ${HOSTS.join(', ')}`, default: '127.0.0.1' },
    env: { type: 'string', short: 'e', value: 'name', description: 'wrangler environment (--env)' },
    persist: { type: 'string', value: 'dir', description: 'keep Durable Object / KV storage in this folder (default: a temporary one, removed on exit)' },
    json: { type: 'boolean', description: 'print exactly one JSON line {"url","mcp","sse","health"} on stdout when ready' },
    control: { type: 'boolean', description: 'also serve the control plane (evict, crash, faults, transcript; emulator/control/openapi.json) on a loopback port with a random token; --json adds "control": {"url","token"}' },
    'control-port': { type: 'string', value: 'n', description: 'port of the control plane; 0 takes a free one', default: '0' },
    ui: { type: 'boolean', description: 'serve the live sequence diagram of the session on the control plane (implies --control); its URL is in the banner' },
  },
  details: 'Build progress goes to stderr. Stops cleanly (workerd included) on SIGINT or SIGTERM.',
  async run({ values, stdout, stderr }) {
    const port = parsePort(String(values.port))
    const host = String(values.host)
    if (!(HOSTS as readonly string[]).includes(host)) throw new UsageError(`Invalid --host "${host}": expected one of ${HOSTS.join(', ')} (the harness listens on loopback only).`)
    // wrangler prints notes ("Using secrets defined in .dev.vars") with console.log; stdout is
    // reserved for the ready output (one JSON line with --json), so they go to stderr.
    console.log = console.info = (...args: unknown[]) => console.error(...args)
    // Loaded here so that --help and argument errors answer without loading Miniflare.
    const { createEmulator } = await import('../emulator/emulator.ts')
    const emulator = await createEmulator({
      config: String(values.config),
      port,
      host: host as (typeof HOSTS)[number],
      environment: values.env as string | undefined,
      persistDir: values.persist as string | undefined,
      // With --json, stdout carries the one ready line only: Worker output stays in the transcript.
      workerLog: values.json ? 'transcript' : 'inherit',
      onProgress: (message) => stderr.write(`${message}\n`),
    })
    const stopped = untilSignal(emulator, stderr)
    const urls = await discoverUrls(emulator)
    // Off unless asked: the control plane can evict, crash and write cassette files.
    const ui = values.ui ? createLiveView(emulator, emulator.worker.name) : undefined
    const control = values.control || ui ? await startControlPlane(emulator, { host: host as (typeof HOSTS)[number], port: parsePort(String(values['control-port'])) }, { saveCassette: saveEmulatorCassette, ui }) : undefined
    const uiUrl = ui && control ? `${new URL(`/ui?token=${encodeURIComponent(control.token)}`, control.url).href}` : undefined
    if (control) void stopped.finally(() => control.close())
    if (values.json) {
      stdout.write(`${JSON.stringify(control ? { ...urls, control: { url: control.url.href, token: control.token }, ...(uiUrl ? { ui: uiUrl } : {}) } : urls)}\n`)
    } else {
      const configPath = path.relative(process.cwd(), emulator.worker.configPath) || emulator.worker.configPath
      stdout.write(`\nmcp-harness: serving ${emulator.worker.name} (${configPath}) at ${urls.url}\n\n${clientSettings(emulator.worker.name, urls)}\n\n${control ? `Control plane: ${control.url.href} (its bearer token is printed with --json only)\n\n` : ''}${uiUrl ? `Live view: ${uiUrl}\n\n` : ''}Press Ctrl-C to stop.\n`)
    }
    return stopped
  },
}

/**
 * The CLI's commands, by name. To add one (`record`, `replay`, `mock`, ...), add an entry here; to
 * add an option to `serve` (e.g. `--control`), add it to `serve.options` and read it in `run`.
 * `--help` output is generated from this table.
 */
export const COMMANDS: Record<string, CliCommand> = { serve, ...RECORDINGS_COMMANDS, doctor: doctorCommand, parity: parityCommand, report: reportCommand }

function formatOptions(options: Record<string, CliOption>): string {
  const rows = Object.entries({ ...options, help: { type: 'boolean', short: 'h', description: 'show this help' } as CliOption }).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.value ? ` <${option.value}>` : ''}`
    const fallback = option.default !== undefined && option.type === 'string' ? ` (default: ${option.default})` : ''
    return [flag, `${option.description}${fallback}`] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`).join('\n')
}

/** The text of `mcp-harness --help`. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2
  return [
    'mcp-harness: run an MCP server Worker locally under Miniflare, the way production runs it.',
    '',
    'Usage: mcp-harness <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`),
    '',
    'Run `mcp-harness <command> --help` for the options of a command.',
  ].join('\n')
}

/** The text of `mcp-harness <command> --help`. */
export function commandHelp(name: string): string {
  const command = COMMANDS[name]
  if (!command) throw new UsageError(`Unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`)
  return [`Usage: mcp-harness ${name} ${command.usage}`, '', command.summary + '.', '', 'Options:', formatOptions(command.options), ...(command.details ? ['', command.details] : [])].join('\n')
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves with the exit code: 0 done,
 * 1 a HarnessError (message only), 2 a usage error.
 * @example process.exitCode = await main(['serve', '--port', '0', '--json'])
 */
export async function main(argv: string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout
  const stderr = io.stderr ?? process.stderr
  const [name, ...rest] = argv
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const target = name === 'help' ? rest[0] : undefined
      stdout.write(`${target ? commandHelp(target) : mainHelp()}\n`)
      return name === undefined ? 2 : 0
    }
    const command = COMMANDS[name]
    if (!command) throw new UsageError(`Unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`)
    const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } }
    for (const [key, option] of Object.entries(command.options)) {
      options[key] = { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.default !== undefined ? { default: option.default } : {}), ...(option.multiple ? { multiple: true } : {}) }
    }
    let parsed: { values: CliValues; positionals: string[] }
    try {
      parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: command.positionals ?? false }) as typeof parsed
    } catch (error) {
      // parseArgs explains unknown flags and missing values well; keep its words.
      throw new UsageError((error as Error).message)
    }
    if (parsed.values.help) {
      stdout.write(`${commandHelp(name)}\n`)
      return 0
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals, stdout, stderr })
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`mcp-harness: ${error.message}\nRun \`mcp-harness ${name && COMMANDS[name] ? `${name} ` : ''}--help\` for usage.\n`)
      return 2
    }
    if (isHarnessError(error)) {
      stderr.write(`${error.message}\n`)
      return 1
    }
    throw error
  }
}

/** True when this module is the process entry (directly, or through bin/mcp-harness.js). */
function isEntry(): boolean {
  const script = process.argv[1]
  if (!script) return false
  let real: string
  try {
    real = realpathSync(script)
  } catch {
    return false
  }
  return real === fileURLToPath(import.meta.url) || path.basename(real) === 'mcp-harness.js'
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`)
      process.exit(1)
    },
  )
}
