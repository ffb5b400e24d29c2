/** The shape of a CLI command; commands live in their own modules and the table is in cli.ts. */

/** One option of a command, as `node:util` parseArgs declares it plus what `--help` prints. */
export interface CliOption {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder shown in help, e.g. `path`. */
  value?: string
  description: string
  default?: string | boolean
  /** May be given more than once (the value is then an array). */
  multiple?: boolean
}

export type CliValues = Record<string, string | boolean | undefined>

/** What a command's `run` gets: parsed values, positionals, and where to write. */
export interface CliContext {
  values: CliValues
  positionals: string[]
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

export interface CliCommand {
  summary: string
  /** Usage line after `mcp-harness <name>`, e.g. `[--config path]`. */
  usage: string
  options: Record<string, CliOption>
  /** Extra help text printed after the options. */
  details?: string
  /** Accepts positional arguments (e.g. `replay <cassette>`); rejected otherwise. */
  positionals?: boolean
  /** Resolves with the exit code once the command is done (a server: once it was stopped). */
  run(ctx: CliContext): Promise<number>
}

/** A wrong invocation (unknown flag, bad value): printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Parses `--port` strictly: an integer 0..65535, where 0 takes a free port. */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`Invalid --port "${value}": expected an integer from 0 to 65535 (0 takes a free port).`)
  return Number(value)
}

