import { realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { RECORDINGS_COMMANDS } from './recordings-commands.ts'
import { doctorCommand } from './doctor-command.ts'
import { parityCommand } from './parity-command.ts'
import { serveCommand } from './serve-command.ts'
import { initCommand } from './init-command.ts'
import { tokenCommand } from './token-command.ts'
import { reportCommand } from './report-command.ts'
import { isHarnessError } from '../core/errors.ts'
import { describeNetworkError, UsageError, type CliCommand, type CliOption, type CliValues } from './command.ts'

export { clientSettings, probeEndpoints, type ServeUrls } from './serve-command.ts'

/**
 * The CLI's commands, by name. To add one (`record`, `replay`, `mock`, ...), add an entry here; to
 * add an option to `serve` (e.g. `--control`), add it to `serve.options` and read it in `run`.
 * `--help` output is generated from this table.
 */
export const COMMANDS: Record<string, CliCommand> = { serve: serveCommand, init: initCommand, ...RECORDINGS_COMMANDS, doctor: doctorCommand, parity: parityCommand, token: tokenCommand, report: reportCommand }

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
    const network = describeNetworkError(error)
    if (network) {
      stderr.write(`mcp-harness: ${network}\n`)
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
