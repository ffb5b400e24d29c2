/**
 * Report benchmark: generation time and file size of the HTML report for a recorded 999-message
 * cassette (the same session `recordings.bench.ts` replays: initialize, initialized, 498 `add` calls),
 * against serializing the same cassette to JSON, measured interleaved in the same run.
 * Writes bench/results/report.json and prints a markdown table.
 * @example npm run bench -- report --runs 30
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createEmulator } from '../emulator/index.ts'
import { buildCassette, createRecordingProxy } from '../recordings/index.ts'
import { serializeCassette } from '../recordings/format/serialize.ts'
import { cassetteEvents, renderReport } from '../report/index.ts'
import { markdownTable, numberArg, round, summarize, writeResult } from './lib.ts'

const RUNS = numberArg('runs', 30)
const CALLS = 498

const emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
let cassette
try {
  const proxy = createRecordingProxy({ target: emulator.url })
  await proxy.start()
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', proxy.url))
  const client = new Client({ name: 'report-bench', version: '0.1.0' })
  await client.connect(transport)
  for (let i = 0; i < CALLS; i++) await client.callTool({ name: 'add', arguments: { a: i, b: 1 } })
  await transport.terminateSession()
  await client.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  cassette = buildCassette(proxy.snapshot(), { client: 'mcp-typescript-sdk', scenario: 'bench-999', transport: 'streamable-http', recordedWith: 'proxy' })
  await proxy.stop()
} finally {
  await emulator.dispose()
}

// JSON-RPC messages in the cassette: request bodies plus answers (plain bodies and SSE events).
const count = (value: unknown) => (Array.isArray(value) ? value.length : value && typeof value === 'object' ? 1 : 0)
const messages = cassette.interactions.reduce((n, i) => n + count(i.request.body) + count(i.response?.body) + (i.response?.sse ?? []).reduce((m, e) => m + count(e.data), 0), 0)
const events = cassetteEvents(cassette).length

const samples = { report: [] as number[], json: [] as number[] }
let html = ''
let json = ''
for (let run = 0; run < RUNS + 3; run++) {
  let started = performance.now()
  html = renderReport(cassette)
  const reportMs = performance.now() - started
  started = performance.now()
  json = serializeCassette(cassette)
  const jsonMs = performance.now() - started
  if (run < 3) continue // warm-up
  samples.report.push(reportMs)
  samples.json.push(jsonMs)
}
const report = summarize(samples.report)
const baseline = summarize(samples.json)
const sizes = { htmlBytes: Buffer.byteLength(html), cassetteBytes: Buffer.byteLength(json) }
const result = { messages, interactions: cassette.interactions.length, events, runs: RUNS, report, serialize: baseline, ratioP50: round(report.p50 / baseline.p50), ...sizes, sizeRatio: round(sizes.htmlBytes / sizes.cassetteBytes) }
if (messages < 990) {
  console.error(`[mcp-harness] expected a ~999-message cassette, recorded ${messages}`)
  process.exit(1)
}
const file = await writeResult('report', result)
console.log(
  markdownTable(
    ['measure', 'report (HTML)', 'baseline: cassette JSON', 'ratio'],
    [
      [`generation, p50 (p95) ms, ${messages} messages / ${events} drawn events`, `${report.p50} (${report.p95})`, `${baseline.p50} (${baseline.p95})`, `×${result.ratioP50} (n=${RUNS}, interleaved)`],
      ['file size, KiB', round(sizes.htmlBytes / 1024), round(sizes.cassetteBytes / 1024), `×${result.sizeRatio}`],
    ],
  ),
)
console.log(`\nWrote ${file}`)
