/**
 * Front-door benchmark: where a warm tool call's time goes between the client and workerd. One
 * emulator (reference server, hop tap on), one Streamable HTTP session, the same `tools/call add`
 * request sent four ways, interleaved in blocks so that drift hits all alike:
 * - `front door`: the emulator's front door as shipped (straight to workerd's entry socket);
 * - `front door via dispatchFetch`: the same front door code forwarding through
 *   `Miniflare#dispatchFetch`, as the front door did before (no middlewares, so if anything it is
 *   favoured);
 * - `dispatchFetch`: bare `Miniflare#dispatchFetch` from Node, no front door;
 * - `workerd socket`: a keep-alive undici request straight to workerd's entry socket (the floor).
 * Writes bench/results/front-door.json and prints a markdown table.
 * @example npm run bench -- front-door --calls 400
 */
import { Agent } from 'undici'
import { createEmulator } from '../emulator/index.ts'
import { FrontServer } from '../emulator/internal/front.ts'
import { Transcript } from '../core/transcript.ts'
import { openRawSession, ACCEPT_BOTH } from '../scenarios/helpers/raw.ts'
import { markdownTable, summarize, writeResult } from './lib.ts'

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? Number(process.argv[index + 1]) : fallback
}
const CALLS = arg('calls', 300)
const BLOCK = 20
const WARMUP = 30
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100

const emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
const before = new FrontServer({
  host: '127.0.0.1',
  port: 0,
  transcript: new Transcript(),
  upstream: { kind: 'dispatch', dispatch: (request) => emulator.miniflare.dispatchFetch(request.url, request as never) as unknown as Promise<Response> },
  middlewares: () => [],
})
const agent = new Agent({ keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000 })
try {
  const beforeUrl = await before.listen()
  const runtime = await emulator.miniflare.ready
  const session = await openRawSession(emulator.url)
  const headers = { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.protocolVersion }
  let id = 100
  const body = () => JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } })
  const check = (text: string) => {
    if (!text.includes('"text":"5"')) throw new Error(`add answered: ${text.slice(0, 200)}`)
  }
  const lanes: Record<string, () => Promise<void>> = {
    'front door': async () => check(await (await fetch(new URL('/mcp', emulator.url), { method: 'POST', headers, body: body() })).text()),
    'front door via dispatchFetch': async () => check(await (await fetch(new URL('/mcp', beforeUrl), { method: 'POST', headers, body: body() })).text()),
    dispatchFetch: async () => check(await (await emulator.miniflare.dispatchFetch(new URL('/mcp', emulator.url).href, { method: 'POST', headers, body: body() })).text()),
    'workerd socket': async () => {
      const answer = await agent.request({ origin: runtime.origin, path: '/mcp', method: 'POST', headers: { ...headers, host: emulator.url.host, 'accept-encoding': 'identity' }, body: body() })
      check(await answer.body.text())
    },
  }
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(lanes).map((lane) => [lane, []]))
  for (const [lane, run] of Object.entries(lanes)) {
    for (let i = 0; i < WARMUP; i++) {
      await run().catch((error: Error) => {
        throw new Error(`[front-door bench] the ${lane} lane failed while warming up: ${error.message}`, { cause: error })
      })
    }
  }
  for (let done = 0; done < CALLS; done += BLOCK) {
    for (const [lane, run] of Object.entries(lanes)) {
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now()
        await run().catch((error: Error) => {
          throw new Error(`[front-door bench] the ${lane} lane failed: ${error.message}`, { cause: error })
        })
        samples[lane]!.push(performance.now() - started)
      }
    }
  }
  const summary = Object.fromEntries(Object.entries(samples).map(([lane, values]) => [lane, summarize(values)]))
  const base = summary.dispatchFetch!
  const rows = Object.entries(summary).map(([lane, s]) => [lane, s.p50, s.p95, `×${ratio(s.p50, base.p50)}`])
  const file = await writeResult('front-door', { calls: CALLS, call: 'tools/call add (warm, Streamable HTTP, hop tap on)', lanes: summary, ratioToDispatchFetchP50: Object.fromEntries(Object.entries(summary).map(([lane, s]) => [lane, ratio(s.p50, base.p50)])) })
  console.log(markdownTable(['path (same run)', 'p50 ms', 'p95 ms', 'p50 vs dispatchFetch'], rows))
  console.log(`\nwrote ${file}`)
} finally {
  await agent.close()
  await before.close()
  await emulator.dispose()
}
