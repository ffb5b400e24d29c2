/** The shape of a CLI command; commands live in their own modules and the table is in cli.ts. */

/** One option of a command, as `node:util` parseArgs declares it plus what `--help` prints. */
export interface CliOption {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder shown in help, e.g. `path`. */
  value?: string
  description: string
  default?: string | boolean
  /** May be given more than once; the value is then a list. */
  multiple?: boolean
}

export type CliValues = Record<string, string | boolean | string[] | undefined>

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

/**
 * Parses repeatable `--header` values (`'Name: value'` or `NAME=VALUE`, whichever comes first after
 * the name) into a record with lower-case names. A malformed one is a usage error that shows only
 * what could be the name: the rest is usually a credential.
 */
export function parseHeaderFlags(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const value of values) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*[=:]\s*(.*)$/s.exec(value)
    if (!match) throw new UsageError(`Invalid --header "${/^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(value)![0]}…": expected 'Name: value' or NAME=VALUE, e.g. --header 'Authorization: Bearer <token>'.`)
    headers[match[1]!.toLowerCase()] = match[2]!.trim()
  }
  return headers
}

/** Parses `--port` strictly: an integer 0..65535, where 0 takes a free port. */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`Invalid --port "${value}": expected an integer from 0 to 65535 (0 takes a free port).`)
  return Number(value)
}


/** Parses a base URL flag (`--target`, `--url`) strictly: an absolute http(s) URL, else a usage error. */
export function parseBaseUrl(value: string, flag: string): URL {
  const url = URL.canParse(value) ? new URL(value) : undefined
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`Invalid ${flag} "${value}": expected an http(s) base URL such as http://127.0.0.1:8787.`)
  return url
}

/** Network failures worth one line instead of a stack: what failed to connect, and where. */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is the server running, on that port?',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EHOSTUNREACH: 'the host is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
}

/**
 * One line for an error that is a refused (or otherwise failed) connection, found anywhere in the
 * cause chain (`fetch failed` hides it in `cause`), else undefined.
 * @example describeNetworkError(error) // 'Failed to connect to 127.0.0.1:1: connection refused: is the server running, on that port? (ECONNREFUSED)'
 */
export function describeNetworkError(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 6; current = (current as { cause?: unknown }).cause, depth++) {
    const found = current as { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; errors?: unknown[] }
    const code = typeof found.code === 'string' ? found.code : undefined
    if (code && NETWORK_CODES[code]) {
      const where = found.address ? `${String(found.address)}${found.port ? `:${String(found.port)}` : ''}` : found.hostname ? String(found.hostname) : 'the server'
      return `Failed to connect to ${where}: ${NETWORK_CODES[code]} (${code})`
    }
    if ((current as Error).message === 'bad port') return 'Failed to connect: fetch refuses that port (a "bad port" of the Fetch standard, e.g. 1, 25, 6000); use another port'
    // Happy Eyeballs reports one error per address tried.
    if (Array.isArray(found.errors) && found.errors.length) return describeNetworkError(found.errors[0])
  }
  return undefined
}
