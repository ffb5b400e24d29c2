/**
 * Recordings benchmark: recording-proxy overhead per request vs a direct connection (interleaved,
 * same run), time to the first SSE event through the proxy vs direct (a buffering proxy would show
 * the whole tool duration), and replay throughput for a generated 1,000-message cassette (against
 * the emulator, against the same calls made directly by the TS SDK, and against the cassette's own mock),
 * and one mock serving 100 client sessions at once.
 * Writes bench/results/recordings.json and prints a markdown table.
 * @example npm run bench -- recordings --calls 200
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createEmulator } from '../emulator/index.ts'
import { buildCassette, createMockServer, createRecordingProxy, replay } from '../recordings/index.ts'
import { markdownTable, round, summarize, writeResult } from './lib.ts'

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? Number(process.argv[index + 1]) : fallback
}
const CALLS = arg('calls', 200)
const BLOCK = 20
const TTFE_RUNS = arg('ttfe-runs', 10)
const SLOW = { steps: 4, ms: 50 }
const CASSETTE_MESSAGES = 1000
const RUNS = arg('runs', 3)
const CONCURRENT = arg('clients', 100)

async function connect(base: URL) {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base))
  const client = new Client({ name: 'recordings-bench', version: '0.1.0' })
  await client.connect(transport)
  return {
    client,
    async close() {
      await transport.terminateSession()
      await client.close()
    },
  }
}

const emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
try {
  const proxy = createRecordingProxy({ target: emulator.url })
  await proxy.start()

  // 1. Per-request overhead: the same tool call, direct and through the proxy, in alternating blocks.
  const direct = await connect(emulator.url)
  const proxied = await connect(proxy.url)
  const samples = { direct: [] as number[], proxied: [] as number[], healthDirect: [] as number[], healthProxied: [] as number[] }
  for (let i = 0; i < 10; i++) {
    await direct.client.callTool({ name: 'add', arguments: { a: 1, b: i } })
    await proxied.client.callTool({ name: 'add', arguments: { a: 1, b: i } })
  }
  for (let done = 0; done < CALLS; done += BLOCK) {
    for (const [side, session] of [['direct', direct], ['proxied', proxied]] as const) {
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now()
        await session.client.callTool({ name: 'add', arguments: { a: done, b: i } })
        samples[side].push(performance.now() - started)
      }
    }
    for (const [side, base] of [['healthDirect', emulator.url], ['healthProxied', proxy.url]] as const) {
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now()
        await (await fetch(new URL('/health', base))).text()
        samples[side].push(performance.now() - started)
      }
    }
  }
  await direct.close()
  await proxied.close()
  proxy.clear()

  // 2. Time to first SSE event: slow tool with progress, direct vs proxied, alternating.
  const ttfe = { direct: [] as number[], proxied: [] as number[], total: [] as number[] }
  for (let run = 0; run < TTFE_RUNS; run++) {
    for (const [side, base] of [['direct', emulator.url], ['proxied', proxy.url]] as const) {
      const session = await connect(base)
      const started = performance.now()
      let first: number | undefined
      await session.client.callTool({ name: 'slow', arguments: SLOW }, undefined, { onprogress: () => (first ??= performance.now() - started) })
      ttfe[side].push(first ?? NaN)
      if (side === 'proxied') ttfe.total.push(performance.now() - started)
      await session.close()
    }
  }
  proxy.clear()

  // 3. Replay throughput: record a session of ~1,000 JSON-RPC messages, then replay it; the same calls
  // made directly by the TS SDK are the baseline (interleaved, same run).
  const recorder = await connect(proxy.url)
  const calls = Math.ceil((CASSETTE_MESSAGES - 4) / 2)
  for (let i = 0; i < calls; i++) await recorder.client.callTool({ name: 'add', arguments: { a: i, b: 1 } })
  await recorder.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const cassette = buildCassette(proxy.snapshot(), { client: 'mcp-typescript-sdk', scenario: 'bench-1000', transport: 'streamable-http', recordedWith: 'proxy' })
  await proxy.stop()
  const sdkMs: number[] = []
  const replayMs: number[] = []
  let replayed = await replay(cassette, { target: emulator.url, waitMs: 10_000 })
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now()
    const session = await connect(emulator.url)
    for (let i = 0; i < calls; i++) await session.client.callTool({ name: 'add', arguments: { a: i, b: 1 } })
    await session.close()
    sdkMs.push(performance.now() - started)
    replayed = await replay(cassette, { target: emulator.url, waitMs: 10_000 })
    replayMs.push(replayed.durationMs)
  }
  const mock = await createMockServer(cassette)
  const mockRuns: number[] = []
  let againstMock = await replay(cassette, { target: mock.url, waitMs: 10_000 })
  for (let run = 0; run < RUNS; run++) {
    againstMock = await replay(cassette, { target: mock.url, waitMs: 10_000 })
    mockRuns.push(againstMock.durationMs)
  }
  await mock.close()

  // 4. One mock, 100 client sessions at once (TS SDK clients of the committed sdk/streamable-http cassette),
  // against one client alone as the baseline.
  const sessionMock = await createMockServer('recordings/cassettes/sdk/streamable-http.json')
  const mockSession = async (latencies: number[]) => {
    const session = await connect(sessionMock.url)
    for (const call of [{ name: 'add', arguments: { a: 2, b: 3 } }, { name: 'counter', arguments: {} }, { name: 'counter', arguments: {} }]) {
      const started = performance.now()
      await session.client.callTool(call)
      latencies.push(performance.now() - started)
    }
    await session.close()
  }
  const alone: number[] = []
  for (let i = 0; i < 20; i++) await mockSession(alone)
  const concurrent: number[] = []
  await Promise.all(Array.from({ length: CONCURRENT }, () => mockSession(concurrent)))
  const misses = sessionMock.errors.length
  await sessionMock.close()
  const perRequest = { direct: summarize(samples.direct), proxied: summarize(samples.proxied), ratioP50: round(summarize(samples.proxied).p50 / summarize(samples.direct).p50) }
  const health = { direct: summarize(samples.healthDirect), proxied: summarize(samples.healthProxied), ratioP50: round(summarize(samples.healthProxied).p50 / summarize(samples.healthDirect).p50) }
  const firstEvent = { direct: summarize(ttfe.direct), proxied: summarize(ttfe.proxied), toolDuration: summarize(ttfe.total), slow: SLOW }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
  const throughput = {
    messages: replayed.messages,
    interactions: cassette.interactions.length,
    emulator: { ms: median(replayMs), messagesPerSecond: Math.round((replayed.messages / median(replayMs)) * 1000), sdkDirectMs: round(median(sdkMs)), ratioToSdk: round(median(replayMs) / median(sdkMs)), runs: RUNS },
    mock: { ms: median(mockRuns), messagesPerSecond: Math.round((againstMock.messages / median(mockRuns)) * 1000), runs: RUNS },
  }
  const sessions = { clients: CONCURRENT, misses, alone: summarize(alone), concurrent: summarize(concurrent) }
  const file = await writeResult('recordings', { calls: CALLS, perRequest, health, firstEvent, throughput, sessions })
  console.log(
    markdownTable(
      ['measure', 'direct', 'through the recording proxy', 'ratio / note'],
      [
        ['tools/call `add`, p50 (p95) ms', `${perRequest.direct.p50} (${perRequest.direct.p95})`, `${perRequest.proxied.p50} (${perRequest.proxied.p95})`, `×${perRequest.ratioP50} (n=${CALLS} each, interleaved)`],
        ['GET /health, p50 (p95) ms', `${health.direct.p50} (${health.direct.p95})`, `${health.proxied.p50} (${health.proxied.p95})`, `×${health.ratioP50}`],
        [`first SSE event of \`slow\` ${SLOW.steps}×${SLOW.ms} ms, p50 ms`, firstEvent.direct.p50, firstEvent.proxied.p50, `whole tool ${firstEvent.toolDuration.p50} ms: no buffering`],
        [`replay ${throughput.messages} messages (${throughput.interactions} requests) vs emulator, median ms`, `${throughput.emulator.sdkDirectMs} (TS SDK, same calls)`, `${throughput.emulator.ms} (replay)`, `×${throughput.emulator.ratioToSdk}; ${throughput.emulator.messagesPerSecond} msg/s`],
        [`replay ${throughput.messages} messages vs mock, median ms`, '', `${throughput.mock.ms}`, `${throughput.mock.messagesPerSecond} msg/s`],
        [`mock: tools/call latency, p50 (p95) ms`, `${sessions.alone.p50} (${sessions.alone.p95}) one client`, `${sessions.concurrent.p50} (${sessions.concurrent.p95}) ${CONCURRENT} clients at once`, `${misses} misses`],
      ],
    ),
  )
  console.log(`\nWrote ${file}`)
} finally {
  await emulator.dispose()
}
