// Times warm `tools/call add` requests in-isolate with @cloudflare/vitest-plugin (exports.default.fetch,
// its SELF.fetch) and prints the samples for bench/front-door.bench.ts. Inside workerd the clock moves
// with I/O, which every sample here does (the Worker calls its Durable Object).
import { exports } from 'cloudflare:workers'
import { expect, test } from 'vitest'

const CALLS = 200
const WARMUP = 30
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
const PROTOCOL = '2025-06-18'

test('times warm tools/call add in-isolate', async () => {
  const post = async (body: unknown, session?: string) => {
    const headers: Record<string, string> = session ? { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL } : HEADERS
    const response = await exports.default.fetch('http://example.com/mcp', { method: 'POST', headers, body: JSON.stringify(body) })
    return { response, text: await response.text() }
  }
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } } })
  const session = init.response.headers.get('mcp-session-id')!
  expect(session).toBeTruthy()
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)
  const samples: number[] = []
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const started = performance.now()
    const call = await post({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }, session)
    const ms = performance.now() - started
    expect(call.text).toContain('"text":"5"')
    if (i >= WARMUP) samples.push(ms)
  }
  console.log(`BENCH_SAMPLES ${JSON.stringify(samples)}`)
})
