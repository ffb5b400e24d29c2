import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import path from 'node:path'
import { describeNetworkError, parseBaseUrl, parseHeaderFlags, UsageError, type CliCommand, type CliContext } from './command.ts'
import { HarnessError } from '../core/errors.ts'

// Like `serve`: the Worker whose wrangler config is in the current folder.
// Each command loads what it runs when it runs: `--help` and the other commands need none of it.
const DEFAULT_CONFIG = '.'

function parseListen(value: string | undefined): { host: string; port: number } {
  if (!value) return { host: '127.0.0.1', port: 0 }
  const [host, port] = value.includes(':') ? value.split(':') : ['127.0.0.1', value]
  // Bind loopback only: a recording proxy sees credentials in flight.
  if (host !== '127.0.0.1' && host !== 'localhost') throw new UsageError(`Invalid --listen "${value}": expected 127.0.0.1:PORT (the proxy binds loopback only).`)
  if (!/^\d{1,5}$/.test(port ?? '') || Number(port) > 65535) throw new UsageError(`Invalid --listen "${value}": expected 127.0.0.1:PORT with PORT from 0 to 65535.`)
  return { host: '127.0.0.1', port: Number(port) }
}

const list = (value: unknown) => (typeof value === 'string' && value ? value.split(',').map((item) => item.trim()).filter(Boolean) : [])
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)

/**
 * A target nothing listens on is one line (ERR_TARGET), not a mismatch report of every message. Only
 * a TCP connection is tried: an HTTP probe would reach the server as a request the cassette never
 * recorded (a mock counts it as a miss) and without the --header credentials.
 */
async function assertReachable(target: string): Promise<void> {
  const url = new URL(target)
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), timeout: 10_000 })
      socket.once('connect', () => {
        socket.destroy()
        resolve()
      })
      socket.once('timeout', () => {
        socket.destroy()
        resolve() // slow, not refused: the replay itself will say what happens
      })
      socket.once('error', reject)
    })
  } catch (error) {
    const network = describeNetworkError(error)
    if (network) throw new HarnessError('ERR_TARGET', `Failed to replay against ${target}: ${network.replace(/^Failed to connect( to)?/, 'cannot connect$1')}.`)
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

/** `mcp-harness record --target <url> [--listen 127.0.0.1:PORT] --out <file>`: records one session through a proxy. */
export const recordCommand: CliCommand = {
  summary: 'Record one MCP session of a real client through a recording proxy into a cassette',
  usage: '--target <base url> --out <file> [--listen 127.0.0.1:PORT] [--client name] [--redact-headers a,b] [--redact-paths $.a.b,…]',
  options: {
    target: { type: 'string', value: 'url', description: 'base URL of the real server; paths are preserved (/mcp, /sse)' },
    out: { type: 'string', value: 'file', description: 'cassette file to write (atomically) when the session ends' },
    listen: { type: 'string', value: 'host:port', description: 'where the proxy listens (loopback only; default: a free port)' },
    client: { type: 'string', value: 'name', description: 'the client that drives the session, e.g. mcp-inspector-cli', default: 'unknown' },
    scenario: { type: 'string', value: 'name', description: 'scenario name (default: the file name)' },
    transport: { type: 'string', value: 'kind', description: 'auto (detected from the traffic) | streamable-http | sse | websocket | mixed | other', default: 'auto' },
    'idle-ms': { type: 'string', value: 'ms', description: 'end the session after this long with nothing in flight', default: '2000' },
    'redact-headers': { type: 'string', value: 'names', description: 'extra headers to redact, comma-separated' },
    'redact-paths': { type: 'string', value: 'paths', description: 'extra JSON paths to redact, comma-separated ($.params.arguments.apiKey)' },
  },
  details: 'The cassette is written when the client ends the session (DELETE), after --idle-ms with nothing in flight, or on Ctrl-C. Authorization, cookies, OAuth codes/tokens/secrets and session ids never reach the file.',
  async run({ values, stdout }: CliContext) {
    const [{ createRecordingProxy }, { buildCassette }, { CassetteMetaSchema }, { detectTransport }, { saveCassette }, { redactHeaders, redactJsonPaths }] = await Promise.all([import('../recordings/capture/proxy.ts'), import('../recordings/format/normalize.ts'), import('../recordings/format/schema.ts'), import('../recordings/format/transport.ts'), import('../recordings/persist/fs.ts'), import('../core/redact/index.ts')])
    const target = str(values.target)
    const out = str(values.out)
    if (!target || !out) throw new UsageError('"--target" and "--out" are required, e.g. mcp-harness record --target http://127.0.0.1:8788 --out recordings/cassettes/my-client/session.json')
    parseBaseUrl(target, '--target')
    const transport = str(values.transport) ?? 'auto'
    const meta = CassetteMetaSchema.parse({
      client: str(values.client) ?? 'unknown',
      scenario: str(values.scenario) ?? path.basename(out, '.json'),
      transport: transport === 'auto' ? 'other' : transport,
      recordedWith: 'proxy',
      rerecord: `mcp-harness record --target ${target} --out ${out}`,
    })
    const redactors = [redactHeaders(list(values['redact-headers'])), redactJsonPaths(list(values['redact-paths']))]
    let finish: (reason: string) => void = () => {}
    const ended = new Promise<string>((resolve) => (finish = resolve))
    const proxy = createRecordingProxy({ target, ...parseListen(str(values.listen)), idleMs: Number(str(values['idle-ms']) ?? 2000), onSessionEnd: (reason) => finish(reason) })
    await proxy.start()
    stdout.write(`Recording ${target} at ${proxy.url.href} (paths preserved, e.g. ${new URL('/mcp', proxy.url).href}). The cassette is written when the session ends (DELETE or idle) or on Ctrl-C.\n`)
    const reason = await Promise.race([ended, waitForSignal().then(() => 'interrupted')])
    // After a DELETE, give the client a moment to close its other streams.
    if (reason === 'delete') await new Promise((resolve) => setTimeout(resolve, 300))
    const cassette = buildCassette(proxy.snapshot(), meta, { redactors })
    if (transport === 'auto') cassette.meta.transport = detectTransport(cassette.interactions)
    await proxy.stop()
    await saveCassette(out, cassette)
    stdout.write(`Wrote ${out}: ${cassette.interactions.length} interactions (session ended: ${reason}).\n`)
    return 0
  },
}

/** `mcp-harness replay <cassette> [--target <url> | --config wrangler.jsonc]`: re-sends the client side and compares. */
export const replayCommand: CliCommand = {
  summary: 'Replay the client side of a cassette against a server and compare its answers',
  usage: '<cassette> [--target <base url> | --config wrangler.jsonc] [--header NAME=VALUE]... [--speed 0|1|2] [--ignore paths] [--unordered paths]',
  positionals: true,
  options: {
    target: { type: 'string', value: 'url', description: 'base URL of the server to replay against' },
    config: { type: 'string', value: 'path', description: `wrangler config of a Worker to start under the emulator (default without --target: ${DEFAULT_CONFIG})` },
    header: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'a header every replayed request sends, e.g. Authorization=Bearer <token> for a redacted one (repeatable; never printed, redacted in the report)' },
    speed: { type: 'string', value: 'n', description: 'recorded timing: 0 as fast as causality allows, 1 the recorded gaps, 2 twice as fast', default: '0' },
    realtime: { type: 'boolean', description: 'same as --speed 1' },
    ignore: { type: 'string', value: 'paths', description: 'message paths to ignore, comma-separated (result.serverInfo.version)' },
    unordered: { type: 'string', value: 'paths', description: 'lists whose order does not matter, comma-separated (result.tools)' },
  },
  details: 'Exit code 0 when every answer matches, 1 on a mismatch (the report names the cassette, the message, the closest recorded one, the failed matcher and the re-record command).',
  async run({ values, positionals, stdout, stderr }: CliContext) {
    const [{ createEmulator }, { replay }, { emulatorTarget }, { writeReportFile }] = await Promise.all([import('../emulator/emulator.ts'), import('../recordings/replay.ts'), import('../recordings/targets.ts'), import('../report/on-failure.ts')])
    const file = positionals[0]
    if (!file) throw new UsageError('a cassette path is required, e.g. mcp-harness replay recordings/cassettes/sdk/streamable-http.json')
    const targetUrl = str(values.target)
    if (targetUrl && str(values.config)) throw new UsageError('Pass "--target" or "--config", not both.')
    if (targetUrl) parseBaseUrl(targetUrl, '--target')
    const headers = parseHeaderFlags(Array.isArray(values.header) ? (values.header as string[]) : typeof values.header === 'string' ? [values.header] : [])
    if (targetUrl) await assertReachable(targetUrl)
    const emulator = targetUrl ? undefined : await createEmulator({ config: str(values.config) ?? DEFAULT_CONFIG, workerLog: 'silent' })
    try {
      const result = await replay(file, {
        target: emulator ? emulatorTarget(emulator) : targetUrl!,
        speed: values.realtime === true ? 1 : Number(str(values.speed) ?? '0'),
        matchers: { ignore: list(values.ignore), unordered: list(values.unordered) },
        headers,
        throwOnMismatch: false,
      })
      if (result.ok) stdout.write(`Replayed ${file}: ${result.messages} messages matched in ${result.durationMs} ms.\n`)
      else {
        stderr.write(`[mcp-harness] ERR_REPLAY_MISMATCH: ${result.report}\n`)
        // The picture of the mismatch: recorded vs received, in the session's sequence diagram.
        if (process.env.MCP_HARNESS_REPORT !== 'off') {
          const cassette = JSON.parse(await readFile(file, 'utf8')) as unknown
          stderr.write(`[mcp-harness] report: ${writeReportFile({ cassette, mismatches: result.mismatches }, `replay ${path.basename(file, '.json')}`)}\n`)
        }
      }
      return result.ok ? 0 : 1
    } finally {
      await emulator?.dispose()
    }
  },
}

/** `mcp-harness mock <cassette> [--listen 127.0.0.1:PORT]`: serves the server side of a cassette. */
export const mockCommand: CliCommand = {
  summary: 'Serve the server side of a cassette so a client can be tested against it',
  usage: '<cassette> [--listen 127.0.0.1:PORT] [--order any|strict] [--speed 0|1|2] [--ignore paths] [--strict]',
  positionals: true,
  options: {
    listen: { type: 'string', value: 'host:port', description: 'where to listen (loopback only; default: a free port)' },
    order: { type: 'string', value: 'any|strict', description: 'any: a request matches any unused recorded one; strict: JSON-RPC requests must come in recorded order', default: 'any' },
    speed: { type: 'string', value: 'n', description: 'recorded timing: 0 as fast as possible, 1 as recorded, 2 twice as fast', default: '0' },
    ignore: { type: 'string', value: 'paths', description: 'request paths left out of matching, comma-separated (params.arguments.seed, tools/call:params.arguments.now)' },
    strict: { type: 'boolean', description: 'stop with exit code 1 at the first request the cassette cannot answer' },
  },
  details: [
    'How requests are matched: a request is answered only if its HTTP method, path, JSON-RPC method and',
    'params equal a recorded request of the same client session, after normalization (JSON-RPC ids,',
    'session ids, progress tokens in params._meta, clientInfo of initialize and ISO timestamps never count).',
    'Each client session gets its own playback of a recorded session, so any number of clients can run.',
    'A request that matches nothing gets an ERR_REPLAY_MISS answer at once (a JSON-RPC error, or HTTP 404),',
    'naming the nearest recorded request and the field that differs; it is printed on stderr immediately.',
    'Exit code: 0 after Ctrl-C with no miss, 1 if any request missed (at once with --strict).',
  ].join('\n'),
  async run({ values, positionals, stdout, stderr }: CliContext) {
    const { createMockServer } = await import('../recordings/mock.ts')
    const file = positionals[0]
    if (!file) throw new UsageError('a cassette path is required, e.g. mcp-harness mock recordings/cassettes/sdk/streamable-http.json')
    const order = str(values.order) ?? 'any'
    if (order !== 'any' && order !== 'strict') throw new UsageError(`Invalid option "--order": expected any or strict, received "${order}".`)
    const speed = Number(str(values.speed) ?? '0')
    let firstMiss: (() => void) | undefined
    const missed = new Promise<void>((resolve) => (firstMiss = resolve))
    const mock = await createMockServer(file, {
      ...parseListen(str(values.listen)),
      speed,
      match: { order, ignore: list(values.ignore) },
      onMiss: (error) => {
        stderr.write(`${error.message}\n`)
        firstMiss?.()
      },
    })
    stdout.write(`Serving ${file} at ${mock.url.href} (Ctrl-C to stop).\n`)
    await Promise.race([waitForSignal(), ...(values.strict ? [missed] : [])])
    await mock.close()
    if (values.strict && mock.errors.length) stderr.write('Stopped at the first miss (--strict).\n')
    return mock.errors.length ? 1 : 0
  },
}

/** `mcp-harness export <cassette> --har [--out file.har]`: a cassette as a HAR file. */
export const exportCommand: CliCommand = {
  summary: 'Export a cassette as a HAR 1.2 file (browser devtools, HAR viewers)',
  usage: '<cassette> --har [--out file.har] [--origin http://127.0.0.1:8788]',
  positionals: true,
  options: {
    har: { type: 'boolean', description: 'write HAR 1.2 (the only export format)' },
    out: { type: 'string', value: 'file', description: 'where to write (default: stdout)' },
    origin: { type: 'string', value: 'url', description: 'origin written in place of <origin>', default: 'http://127.0.0.1:8788' },
  },
  details: 'SSE events go in each entry\'s "_sseEvents" (and, as sent, in response.content.text); WebSocket messages in "_webSocketMessages" (Chrome\'s shape). See docs/recordings.md.',
  async run({ values, positionals, stdout }: CliContext) {
    const [{ cassetteToHar }, { loadCassette, writeFileAtomic }] = await Promise.all([import('../recordings/format/har.ts'), import('../recordings/persist/fs.ts')])
    const file = positionals[0]
    if (!file || values.har !== true) throw new HarnessError('ERR_OPTIONS', 'Invalid options: a cassette path and --har are required, e.g. mcp-harness export recordings/cassettes/sdk/streamable-http.json --har --out session.har')
    const text = `${JSON.stringify(cassetteToHar(await loadCassette(file), { origin: str(values.origin) ?? 'http://127.0.0.1:8788' }), null, 2)}\n`
    const out = str(values.out)
    if (!out) {
      stdout.write(text)
      return 0
    }
    await writeFileAtomic(out, text)
    stdout.write(`Wrote ${out} from ${file}.\n`)
    return 0
  },
}

/** `mcp-harness import <file.har> --out <cassette>`: a HAR file (e.g. from a browser) as a redacted cassette. */
export const importCommand: CliCommand = {
  summary: 'Import a HAR file (e.g. saved from a browser\'s network panel) as a redacted cassette',
  usage: '<file.har> --out <cassette> [--client name] [--scenario name] [--redact-headers a,b] [--redact-paths $.a.b,…]',
  positionals: true,
  options: {
    out: { type: 'string', value: 'file', description: 'cassette file to write' },
    client: { type: 'string', value: 'name', description: 'the client that drove the session', default: 'browser' },
    scenario: { type: 'string', value: 'name', description: 'scenario name (default: the file name)' },
    'redact-headers': { type: 'string', value: 'names', description: 'extra headers to redact, comma-separated' },
    'redact-paths': { type: 'string', value: 'paths', description: 'extra JSON paths to redact, comma-separated' },
  },
  details: 'The same redaction as record: Authorization, cookies, OAuth codes/tokens/secrets and session ids never reach the file.',
  async run({ values, positionals, stdout }: CliContext) {
    const [{ harToCassette }, { saveCassette }, { redactHeaders, redactJsonPaths }] = await Promise.all([import('../recordings/format/har.ts'), import('../recordings/persist/fs.ts'), import('../core/redact/index.ts')])
    const file = positionals[0]
    const out = str(values.out)
    if (!file || !out) throw new HarnessError('ERR_OPTIONS', 'Invalid options: a HAR path and --out are required, e.g. mcp-harness import session.har --out recordings/cassettes/browser/session.json')
    let har: unknown
    try {
      har = JSON.parse(await readFile(file, 'utf8'))
    } catch (error) {
      throw new HarnessError('ERR_CASSETTE', `Failed to import ${file}: ${(error as Error).message}.`)
    }
    const cassette = harToCassette(har, {
      source: file,
      meta: { client: str(values.client) ?? 'browser', scenario: str(values.scenario) ?? path.basename(file, path.extname(file)), rerecord: `mcp-harness import ${file} --out ${out}` },
      redactors: [redactHeaders(list(values['redact-headers'])), redactJsonPaths(list(values['redact-paths']))],
    })
    await saveCassette(out, cassette)
    stdout.write(`Wrote ${out}: ${cassette.interactions.length} interactions (${cassette.meta.transport}).\n`)
    return 0
  },
}

/** The recordings commands, by name, for the CLI's command table (emulator/cli.ts). */
export const RECORDINGS_COMMANDS: Record<string, CliCommand> = { record: recordCommand, replay: replayCommand, mock: mockCommand, export: exportCommand, import: importCommand }
