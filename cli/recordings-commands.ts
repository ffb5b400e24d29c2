import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { CliCommand, CliContext } from './command.ts'
import { createEmulator } from '../emulator/emulator.ts'
import { HarnessError } from '../core/errors.ts'
import { createRecordingProxy } from '../recordings/capture/proxy.ts'
import { buildCassette } from '../recordings/format/normalize.ts'
import { CassetteMetaSchema } from '../recordings/format/schema.ts'
import { createMockServer } from '../recordings/mock.ts'
import { saveCassette } from '../recordings/persist/fs.ts'
import { redactHeaders, redactJsonPaths } from '../core/redact/index.ts'
import { replay } from '../recordings/replay.ts'
import { emulatorTarget } from '../recordings/targets.ts'
import { writeReportFile } from '../report/on-failure.ts'

// Like `serve`: the Worker whose wrangler config is in the current folder.
const DEFAULT_CONFIG = '.'

function parseListen(value: string | undefined): { host: string; port: number } {
  if (!value) return { host: '127.0.0.1', port: 0 }
  const [host, port] = value.includes(':') ? value.split(':') : ['127.0.0.1', value]
  // Bind loopback only: a recording proxy sees credentials in flight.
  if (host !== '127.0.0.1' && host !== 'localhost') throw new HarnessError('ERR_OPTIONS', `Invalid option "--listen": expected 127.0.0.1:PORT, received "${value}" (the proxy binds loopback only).`)
  return { host: '127.0.0.1', port: Number(port) }
}

const list = (value: unknown) => (typeof value === 'string' && value ? value.split(',').map((item) => item.trim()).filter(Boolean) : [])
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)

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
    transport: { type: 'string', value: 'kind', description: 'streamable-http | sse | mixed | other', default: 'other' },
    'idle-ms': { type: 'string', value: 'ms', description: 'end the session after this long with nothing in flight', default: '2000' },
    'redact-headers': { type: 'string', value: 'names', description: 'extra headers to redact, comma-separated' },
    'redact-paths': { type: 'string', value: 'paths', description: 'extra JSON paths to redact, comma-separated ($.params.arguments.apiKey)' },
  },
  details: 'The cassette is written when the client ends the session (DELETE), after --idle-ms with nothing in flight, or on Ctrl-C. Authorization, cookies, OAuth codes/tokens/secrets and session ids never reach the file.',
  async run({ values, stdout }: CliContext) {
    const target = str(values.target)
    const out = str(values.out)
    if (!target || !out) throw new HarnessError('ERR_OPTIONS', 'Invalid options: "--target" and "--out" are required, e.g. mcp-harness record --target http://127.0.0.1:8788 --out recordings/cassettes/my-client/session.json')
    const meta = CassetteMetaSchema.parse({
      client: str(values.client) ?? 'unknown',
      scenario: str(values.scenario) ?? path.basename(out, '.json'),
      transport: str(values.transport) ?? 'other',
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
    await proxy.stop()
    await saveCassette(out, cassette)
    stdout.write(`Wrote ${out}: ${cassette.interactions.length} interactions (session ended: ${reason}).\n`)
    return 0
  },
}

/** `mcp-harness replay <cassette> [--target <url> | --config wrangler.jsonc]`: re-sends the client side and compares. */
export const replayCommand: CliCommand = {
  summary: 'Replay the client side of a cassette against a server and compare its answers',
  usage: '<cassette> [--target <base url> | --config wrangler.jsonc] [--realtime] [--ignore paths] [--unordered paths]',
  positionals: true,
  options: {
    target: { type: 'string', value: 'url', description: 'base URL of the server to replay against' },
    config: { type: 'string', value: 'path', description: `wrangler config of a Worker to start under the emulator (default without --target: ${DEFAULT_CONFIG})` },
    realtime: { type: 'boolean', description: 'keep the recorded gaps between requests (default: as fast as causality allows)' },
    ignore: { type: 'string', value: 'paths', description: 'message paths to ignore, comma-separated (result.serverInfo.version)' },
    unordered: { type: 'string', value: 'paths', description: 'lists whose order does not matter, comma-separated (result.tools)' },
  },
  details: 'Exit code 0 when every answer matches, 1 on a mismatch (the report names the cassette, the message, the closest recorded one, the failed matcher and the re-record command).',
  async run({ values, positionals, stdout, stderr }: CliContext) {
    const file = positionals[0]
    if (!file) throw new HarnessError('ERR_OPTIONS', 'Invalid options: a cassette path is required, e.g. mcp-harness replay recordings/cassettes/sdk/streamable-http.json')
    const targetUrl = str(values.target)
    if (targetUrl && str(values.config)) throw new HarnessError('ERR_OPTIONS', 'Invalid options: pass "--target" or "--config", not both.')
    const emulator = targetUrl ? undefined : await createEmulator({ config: str(values.config) ?? DEFAULT_CONFIG, workerLog: 'silent' })
    try {
      const result = await replay(file, {
        target: emulator ? emulatorTarget(emulator) : targetUrl!,
        realtime: values.realtime === true,
        matchers: { ignore: list(values.ignore), unordered: list(values.unordered) },
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
  usage: '<cassette> [--listen 127.0.0.1:PORT] [--realtime]',
  positionals: true,
  options: {
    listen: { type: 'string', value: 'host:port', description: 'where to listen (loopback only; default: a free port)' },
    realtime: { type: 'boolean', description: 'keep the recorded gaps between SSE events' },
  },
  details: 'Runs until Ctrl-C; exits 1 if a request was not in the cassette (each such request got an ERR_REPLAY_MISS answer naming the closest recorded one).',
  async run({ values, positionals, stdout, stderr }: CliContext) {
    const file = positionals[0]
    if (!file) throw new HarnessError('ERR_OPTIONS', 'Invalid options: a cassette path is required, e.g. mcp-harness mock recordings/cassettes/sdk/streamable-http.json')
    const mock = await createMockServer(file, { ...parseListen(str(values.listen)), realtime: values.realtime === true })
    stdout.write(`Serving ${file} at ${mock.url.href} (Ctrl-C to stop).\n`)
    await waitForSignal()
    await mock.close()
    for (const error of mock.errors) stderr.write(`${error.message}\n`)
    return mock.errors.length ? 1 : 0
  },
}

/** The recordings commands, by name, for the CLI's command table (emulator/cli.ts). */
export const RECORDINGS_COMMANDS: Record<string, CliCommand> = { record: recordCommand, replay: replayCommand, mock: mockCommand }
