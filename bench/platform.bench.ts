/**
 * Platform benchmark: warm tool-call latency with the Worker→DO hop tap vs bare Miniflare on the
 * same Worker (interleaved, same run), evict → first-call latency, and the wall time of the
 * hibernation scenario vs the real 10 s idle wait it replaces (measured once, bounded).
 * Writes bench/results/platform.json and prints a markdown table.
 * @example npm run bench -- platform --calls 300
 * @example npm run bench -- platform --skip-real-idle
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createEmulator, type Emulator } from '../emulator/index.ts'
import { markdownTable, round, summarize, writeResult } from './lib.ts'

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? Number(process.argv[index + 1]) : fallback
}
const CALLS = arg('calls', 200)
const BLOCK = 20
const EVICTIONS = arg('evictions', 10)
const SKIP_REAL_IDLE = process.argv.includes('--skip-real-idle')
const CONFIG = 'server/wrangler.jsonc'
type Transport = 'streamable-http' | 'sse'

async function connect(emulator: Emulator, transport: Transport) {
  const url = new URL(transport === 'sse' ? '/sse' : '/mcp', emulator.url)
  const t = transport === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url)
  const client = new Client({ name: 'platform-bench', version: '0.1.0' })
  await client.connect(t)
  const sessionId = () => (t instanceof StreamableHTTPClientTransport ? t.sessionId! : (t as unknown as { _endpoint: URL })._endpoint.searchParams.get('sessionId')!)
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args })
    return (result.content as { text: string }[])[0]!.text
  }
  return { client, call, sessionId }
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now()
  const value = await fn()
  return [performance.now() - started, value]
}

const silent = { workerLog: 'silent' as const }
const report: Record<string, unknown> = {}
const rows: (string | number)[][] = []

// 1. Warm tool-call latency: tap vs bare, interleaved blocks so that drift hits both alike.
const tapped = await createEmulator({ config: CONFIG, ...silent })
const bare = await createEmulator({ config: CONFIG, ...silent, hop: { tap: false } })
try {
  for (const transport of ['streamable-http', 'sse'] as Transport[]) {
    const a = await connect(tapped, transport)
    const b = await connect(bare, transport)
    for (let i = 0; i < 30; i++) {
      await a.call('add', { a: i, b: 1 })
      await b.call('add', { a: i, b: 1 })
    }
    const samples = { tap: [] as number[], bare: [] as number[] }
    for (let done = 0; done < CALLS; done += BLOCK) {
      for (const [kind, session] of [['tap', a], ['bare', b]] as const) {
        for (let i = 0; i < BLOCK; i++) {
          const [ms, text] = await timed(() => session.call('add', { a: i, b: 2 }))
          if (text !== String(i + 2)) throw new Error(`add answered ${text}`)
          samples[kind].push(ms)
        }
      }
    }
    const tap = summarize(samples.tap)
    const plain = summarize(samples.bare)
    const ratio = Math.round((tap.p50 / plain.p50) * 100) / 100
    const ratioP95 = Math.round((tap.p95 / plain.p95) * 100) / 100
    report[`warm-${transport}`] = { tap, bare: plain, ratioP50: ratio, ratioP95 }
    rows.push([`warm tool call, ${transport}: tap / bare p50`, `${tap.p50} / ${plain.p50} ms`, `×${ratio}`])
    rows.push([`warm tool call, ${transport}: tap / bare p95`, `${tap.p95} / ${plain.p95} ms`, `×${ratioP95}`])
    await a.client.close()
    await b.client.close()
  }

  // 2. evict → first call, behind the tap (what scenarios use).
  for (const transport of ['streamable-http', 'sse'] as Transport[]) {
    const session = await connect(tapped, transport)
    await session.call('counter')
    const evictMs: number[] = []
    const firstMs: number[] = []
    const warmMs: number[] = []
    for (let i = 0; i < EVICTIONS; i++) {
      const [e] = await timed(() => tapped.evict({ session: session.sessionId(), webSockets: 'hibernate' }))
      const [f, memo] = await timed(() => session.call('memo'))
      if (memo !== '1') throw new Error(`memo after eviction was ${memo}: the DO did not restart`)
      const [w] = await timed(() => session.call('memo'))
      evictMs.push(e)
      firstMs.push(f)
      warmMs.push(w)
    }
    report[`evict-${transport}`] = { evict: summarize(evictMs), firstCallAfterWake: summarize(firstMs), warmCall: summarize(warmMs) }
    rows.push([`evict(), ${transport}`, `p50 ${summarize(evictMs).p50} ms`, `p95 ${summarize(evictMs).p95} ms`])
    rows.push([`first call after wake, ${transport}`, `p50 ${summarize(firstMs).p50} ms`, `warm p50 ${summarize(warmMs).p50} ms`])
    await session.client.close()
  }
} finally {
  await tapped.dispose()
  await bare.dispose()
}

// 3. The hibernation scenario (counter continues, memo resets) through the idle policy...
{
  const [ms] = await timed(async () => {
    const emulator = await createEmulator({ config: CONFIG, ...silent, hibernation: { idleMs: 50 } })
    try {
      const session = await connect(emulator, 'streamable-http')
      await session.call('counter')
      await session.call('memo')
      await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'evicted' && e.why === 'idle', 5_000)
      if ((await session.call('counter')) !== '2' || (await session.call('memo')) !== '1') throw new Error('idle eviction did not reset memo')
      await session.client.close()
    } finally {
      await emulator.dispose()
    }
  })
  report['hibernation-scenario-emulated'] = { wallMs: round(ms), idleMs: 50, includesBoot: true }
  rows.push(['hibernation scenario, idle policy { idleMs: 50 } (boot included)', `${round(ms)} ms`, ''])
}

// ...vs the real idle wait: workerd's own eviction after 10 s of silence, behind the tap, measured once.
if (!SKIP_REAL_IDLE) {
  const emulator = await createEmulator({ config: CONFIG, ...silent })
  try {
    const [ms, outcome] = await timed(async () => {
      const session = await connect(emulator, 'streamable-http')
      await session.call('counter')
      await session.call('memo')
      // One call only after the wait: any earlier call would restart the idle clock.
      await new Promise((resolve) => setTimeout(resolve, 11_000))
      const memo = await session.call('memo')
      const counter = await session.call('counter')
      await session.client.close()
      return { memo, counter }
    })
    const hibernated = outcome.memo === '1' && outcome.counter === '2'
    report['hibernation-scenario-real-idle'] = { wallMs: round(ms), waitedMs: 11_000, hibernatedBehindTap: hibernated, ...outcome }
    rows.push(['hibernation scenario, real idle wait (11 s, behind the tap)', `${round(ms)} ms`, hibernated ? 'DO hibernated on its own' : `DO did NOT hibernate (memo ${outcome.memo})`])
  } finally {
    await emulator.dispose()
  }
}

report.calls = CALLS
report.evictions = EVICTIONS
const file = await writeResult('platform', report)
console.log(markdownTable(['measure', 'value', 'note'], rows))
console.log(`\nWritten: ${file}`)
