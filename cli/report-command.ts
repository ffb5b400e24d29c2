import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { HarnessError } from '../core/errors.ts'
import type { CliCommand } from './command.ts'

const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)

/** `mcp-harness report <transcript.json | cassette.json | parity.json> [--out report.html]`: one HTML file, no network. */
export const reportCommand: CliCommand = {
  summary: 'Draw a transcript, cassette or parity result as a sequence diagram in one self-contained HTML file',
  usage: '<transcript.json | cassette.json | parity.json> [--out report.html] [--replay [--target <base url> | --config wrangler.jsonc]]',
  positionals: true,
  options: {
    out: { type: 'string', short: 'o', value: 'file', description: 'where to write the report', default: 'report.html' },
    replay: { type: 'boolean', description: 'replay the cassette first and highlight every mismatch (recorded vs received)' },
    target: { type: 'string', value: 'base url', description: 'with --replay: the server to replay against (default: the emulator on --config)' },
    config: { type: 'string', short: 'c', value: 'path', description: 'with --replay: the wrangler config the emulator runs', default: '.' },
  },
  details: [
    'Inputs: a transcript (emulator.transcript.events, or what GET /v1/transcript returns), a cassette,',
    'or a parity result (mcp-harness parity --json > parity.json). The file opens from disk in any browser:',
    'lanes client · front door · Worker · hop · Durable Object · upstream; click an arrow for its (redacted) headers and body.',
    'Examples:',
    '  mcp-harness report recordings/cassettes/sdk/hibernation.json --out hibernation.html',
    '  mcp-harness report recordings/cassettes/sdk/streamable-http.json --replay --config wrangler.jsonc',
  ].join('\n'),
  async run({ values, positionals, stdout }) {
    const { renderReport, toModel } = await import('../report/index.ts')
    const file = positionals[0]
    if (!file || positionals.length > 1) throw new HarnessError('ERR_OPTIONS', 'Invalid options: give exactly one input file, e.g. mcp-harness report recordings/cassettes/sdk/hibernation.json --out report.html')
    let input: unknown
    try {
      input = JSON.parse(await readFile(file, 'utf8'))
    } catch (error) {
      throw new HarnessError('ERR_OPTIONS', `Cannot read ${file}: ${(error as Error).message}. Pass a transcript, cassette or parity result saved as JSON.`, { cause: error })
    }
    let mismatches = 0
    if (values.replay === true) {
      const model = toModel(input)
      if (model.source !== 'cassette') throw new HarnessError('ERR_OPTIONS', `Invalid options: --replay needs a cassette, and ${file} is a ${model.source}.`)
      // Loaded only for --replay: drawing a file needs neither Miniflare nor the replayer.
      const [{ createEmulator }, { replay }, { emulatorTarget }] = await Promise.all([import('../emulator/emulator.ts'), import('../recordings/replay.ts'), import('../recordings/targets.ts')])
      const targetUrl = str(values.target)
      const emulator = targetUrl ? undefined : await createEmulator({ config: str(values.config) ?? '.', workerLog: 'silent' })
      try {
        const result = await replay(file, { target: emulator ? emulatorTarget(emulator) : targetUrl!, throwOnMismatch: false })
        mismatches = result.mismatches.length
        input = { cassette: input, mismatches: result.mismatches }
      } finally {
        await emulator?.dispose()
      }
    }
    const out = path.resolve(str(values.out) ?? 'report.html')
    await writeFile(out, renderReport(input))
    stdout.write(`Report written to ${out}${values.replay === true ? ` (${mismatches} replay mismatch${mismatches === 1 ? '' : 'es'})` : ''}\n`)
    return values.replay === true && mismatches > 0 ? 1 : 0
  },
}
