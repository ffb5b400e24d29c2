import path from 'node:path'
import { parseArgs } from 'node:util'
import { createEmulator } from '../emulator/emulator.ts'
import { HarnessError } from '../emulator/errors.ts'
import { createRecordingProxy } from './capture/proxy.ts'
import { buildCassette } from './format/normalize.ts'
import { CassetteMetaSchema } from './format/schema.ts'
import { createMockServer } from './mock.ts'
import { saveCassette } from './persist/fs.ts'
import { redactHeaders, redactJsonPaths } from './redact/index.ts'
import { replay } from './replay.ts'
import { emulatorTarget } from './targets.ts'

/** A CLI command of the recordings area: takes the arguments after its name, resolves to an exit code. */
export interface RecordingsCommand {
  name: string
  summary: string
  usage: string
  run(argv: string[]): Promise<number>
}

const DEFAULT_CONFIG = 'server/wrangler.jsonc'

function parseListen(value: string | undefined): { host: string; port: number } {
  if (!value) return { host: '127.0.0.1', port: 0 }
  const [host, port] = value.includes(':') ? value.split(':') : ['127.0.0.1', value]
  // Bind loopback only: a recording proxy sees credentials in flight.
  if (host !== '127.0.0.1' && host !== 'localhost') throw new HarnessError('ERR_OPTIONS', `Invalid option "--listen": expected 127.0.0.1:PORT, received "${value}" (the proxy binds loopback only).`)
  return { host: '127.0.0.1', port: Number(port) }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

/** `mcp-harness record --target <url> [--listen 127.0.0.1:PORT] --out <file>`: records one session through a proxy. */
export const recordCommand: RecordingsCommand = {
  name: 'record',
  summary: 'Record one MCP session of a real client through a recording proxy into a cassette',
  usage: 'mcp-harness record --target <base url> --out <file> [--listen 127.0.0.1:PORT] [--client NAME] [--scenario NAME] [--idle-ms 2000] [--redact-header NAME]… [--redact-path $.a.b]…',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string' },
        out: { type: 'string' },
        listen: { type: 'string' },
        client: { type: 'string', default: 'unknown' },
        scenario: { type: 'string' },
        transport: { type: 'string', default: 'other' },
        'idle-ms': { type: 'string', default: '2000' },
        'redact-header': { type: 'string', multiple: true, default: [] },
        'redact-path': { type: 'string', multiple: true, default: [] },
      },
    })
    if (!values.target || !values.out) throw new HarnessError('ERR_OPTIONS', `Invalid options: "--target" and "--out" are required. Usage: ${this.usage}`)
    const out = values.out
    const meta = CassetteMetaSchema.parse({
      client: values.client,
      scenario: values.scenario ?? path.basename(out, '.json'),
      transport: values.transport,
      recordedWith: 'proxy',
      rerecord: `mcp-harness record --target ${values.target} --out ${out}`,
    })
    const redactors = [redactHeaders(values['redact-header']), redactJsonPaths(values['redact-path'])]
    let finish: (reason: string) => void = () => {}
    const ended = new Promise<string>((resolve) => (finish = resolve))
    const proxy = createRecordingProxy({
      target: values.target,
      ...parseListen(values.listen),
      idleMs: Number(values['idle-ms']),
      onSessionEnd: (reason) => finish(reason),
    })
    await proxy.start()
    process.stdout.write(`Recording ${values.target} at ${proxy.url.href} (paths preserved, e.g. ${new URL('/mcp', proxy.url).href}). The cassette is written when the session ends (DELETE or idle) or on Ctrl-C.\n`)
    const reason = await Promise.race([ended, waitForSignal().then(() => 'interrupted')])
    // After a DELETE, give the client a moment to close its other streams.
    if (reason === 'delete') await new Promise((resolve) => setTimeout(resolve, 300))
    const cassette = buildCassette(proxy.snapshot(), meta, { redactors })
    await proxy.stop()
    await saveCassette(out, cassette)
    process.stdout.write(`Wrote ${out}: ${cassette.interactions.length} interactions (session ended: ${reason}).\n`)
    return 0
  },
}

/** `mcp-harness replay <cassette> [--target <url> | --config wrangler.jsonc]`: re-sends the client side and compares. */
export const replayCommand: RecordingsCommand = {
  name: 'replay',
  summary: 'Replay the client side of a cassette against a server and compare its answers',
  usage: 'mcp-harness replay <cassette> [--target <base url> | --config wrangler.jsonc] [--realtime] [--ignore PATH]… [--unordered PATH]…',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        target: { type: 'string' },
        config: { type: 'string' },
        realtime: { type: 'boolean', default: false },
        ignore: { type: 'string', multiple: true, default: [] },
        unordered: { type: 'string', multiple: true, default: [] },
      },
    })
    const file = positionals[0]
    if (!file) throw new HarnessError('ERR_OPTIONS', `Invalid options: a cassette path is required. Usage: ${this.usage}`)
    if (values.target && values.config) throw new HarnessError('ERR_OPTIONS', 'Invalid options: pass "--target" or "--config", not both.')
    const emulator = values.target ? undefined : await createEmulator({ config: values.config ?? DEFAULT_CONFIG, workerLog: 'silent' })
    try {
      const result = await replay(file, {
        target: emulator ? emulatorTarget(emulator) : values.target!,
        realtime: values.realtime,
        matchers: { ignore: values.ignore, unordered: values.unordered },
        throwOnMismatch: false,
      })
      if (result.ok) process.stdout.write(`Replayed ${file}: ${result.messages} messages matched in ${result.durationMs} ms.\n`)
      else process.stderr.write(`[mcp-harness] ERR_REPLAY_MISMATCH: ${result.report}\n`)
      return result.ok ? 0 : 1
    } finally {
      await emulator?.dispose()
    }
  },
}

/** `mcp-harness mock <cassette> [--listen 127.0.0.1:PORT]`: serves the server side of a cassette. */
export const mockCommand: RecordingsCommand = {
  name: 'mock',
  summary: 'Serve the server side of a cassette so a client can be tested against it',
  usage: 'mcp-harness mock <cassette> [--listen 127.0.0.1:PORT] [--realtime]',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { listen: { type: 'string' }, realtime: { type: 'boolean', default: false } } })
    const file = positionals[0]
    if (!file) throw new HarnessError('ERR_OPTIONS', `Invalid options: a cassette path is required. Usage: ${this.usage}`)
    const mock = await createMockServer(file, { ...parseListen(values.listen), realtime: values.realtime })
    process.stdout.write(`Serving ${file} at ${mock.url.href} (Ctrl-C to stop).\n`)
    await waitForSignal()
    await mock.close()
    for (const error of mock.errors) process.stderr.write(`${error.message}\n`)
    return mock.errors.length ? 1 : 0
  },
}

/** The recordings commands, for the CLI's command table. */
export const RECORDINGS_COMMANDS: RecordingsCommand[] = [recordCommand, replayCommand, mockCommand]
