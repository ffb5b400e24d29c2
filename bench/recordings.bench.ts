/**
 * Recordings benchmark: recording-proxy overhead per request vs a direct connection (interleaved,
 * same run), time to the first SSE event through the proxy vs direct (a buffering proxy would show
 * the whole tool duration), and replay throughput for a generated 1,000-message cassette (against
 * the emulator, against the same calls made directly by the TS SDK, and against the cassette's own mock),
 * and one mock serving 100 client sessions at once (in the bench's process, and as `mcp-harness mock` in its
 * own process: the first burst is the figure; `--cli-rounds` more bursts show how much it varies with load).
 *
 * A message is one JSON-RPC message the client sent (each message of a batch counts) or one answer it
 * received (a JSON body or one SSE event); msg/s = messages / wall time of the whole replay, as
 * `replay()` reports them (`result.messages`, `result.durationMs`). Against the mock, the same run
 * measures two floors beside it, interleaved: a bare `node:http` loop sending the same requests to a
 * server that answers without matching (what the HTTP round trips alone cost), and `replay()` against
 * that server (what the replay adds); the mock's own cost is the rest.
 * Writes bench/results/recordings.json and prints a markdown table.
 * @example npm run bench -- recordings --calls 200
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { leaveIdleConnectionsToClients } from '../core/http-server.ts'
import { createEmulator } from '../emulator/index.ts'
import { buildCassette, createMockServer, createRecordingProxy, loadCassette, replay, type Cassette } from '../recordings/index.ts'
import { markdownTable, numberArg, round, summarize, writeResult } from './lib.ts'

const CALLS = numberArg('calls', 200)
const BLOCK = 20
const TTFE_RUNS = numberArg('ttfe-runs', 10)
const SLOW = { steps: 4, ms: 50 }
const CASSETTE_MESSAGES = 1000
const RUNS = numberArg('runs', 3)
const CONCURRENT = numberArg('clients', 100)
const MOCK_RUNS = numberArg('mock-runs', 9)
const CLI_ROUNDS = numberArg('cli-rounds', 5)

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

/**
 * The transport floor for a cassette's exact bytes: a server that answers the k-th request with the
 * k-th recorded answer (placeholders filled once, no matching, no bookkeeping). Against it, a raw
 * `node:http` client shows what the HTTP round trips alone cost; `replay()` shows the replay's own cost.
 */
async function nullServer(cassette: Cassette) {
  const fill = (text: string) => text.replace(/<session-\d+>/g, 'f'.repeat(32)).replace(/<event-(\d+)>/g, 'event-$1')
  const answers = cassette.interactions.map((interaction) => {
    const r = interaction.response!
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(r.headers)) if (!value.includes('<redacted:')) headers[name] = fill(value)
    const body = r.sse
      ? r.sse.map((e) => `${e.event !== 'message' ? `event: ${e.event}\n` : ''}${e.id ? `id: ${fill(e.id)}\n` : ''}data: ${fill(e.data !== undefined ? JSON.stringify(e.data) : (e.dataText ?? ''))}\n\n`).join('')
      : r.body !== undefined ? fill(JSON.stringify(r.body)) : (r.bodyText ?? '')
    return { status: r.status, headers, body, end: r.end.reason === 'complete' }
  })
  // Answers by HTTP method + JSON-RPC method and id (a Map lookup), in recorded order per key: a
  // stream GET and the next POST can arrive in either order.
  const keyOf = (method: string, body: unknown) => {
    const message = (Array.isArray(body) ? body[0] : body) as { id?: unknown; method?: unknown } | undefined
    return `${method} ${String(message?.method ?? '')} ${JSON.stringify(message?.id ?? null)}`
  }
  const queues = new Map<string, (typeof answers)[number][]>()
  const reset = () => {
    queues.clear()
    cassette.interactions.forEach((interaction, index) => {
      const key = keyOf(interaction.request.method, interaction.request.body)
      queues.set(key, [...(queues.get(key) ?? []), answers[index]!])
    })
  }
  reset()
  const server = http.createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (text += chunk))
    req.on('end', () => {
      const answer = queues.get(keyOf(req.method ?? 'GET', text ? JSON.parse(text) : undefined))?.shift()
      if (!answer) return void res.writeHead(404).end()
      res.writeHead(answer.status, answer.headers)
      if (answer.end) res.end(answer.body)
      else res.write(answer.body)
    })
  })
  // The mock's own keep-alive policy, so the floor differs from it only in the work it skips.
  leaveIdleConnectionsToClients(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    reset,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

/**
 * The same requests as a replay sends, by a bare `node:http` loop: each waits for the previous answer,
 * streams left open are not waited for. Returns the messages counted the way `replay()` counts them.
 */
async function rawClient(cassette: Cassette, base: URL): Promise<number> {
  const agent = new http.Agent({ keepAlive: true })
  const fill = (text: string) => text.replace(/<session-\d+>/g, 'f'.repeat(32)).replace(/<origin>/g, base.origin)
  let messages = 0
  const open: http.ClientRequest[] = []
  for (const interaction of cassette.interactions) {
    const r = interaction.request
    const body = r.body !== undefined ? fill(JSON.stringify(r.body)) : r.bodyText
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(r.headers)) if (!value.includes('<redacted:')) headers[name] = fill(value)
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
    messages += Array.isArray(r.body) ? r.body.length : r.body !== undefined ? 1 : 0
    const complete = interaction.response?.end.reason === 'complete'
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ hostname: base.hostname, port: base.port, path: r.path, method: r.method, headers, agent }, (res) => {
        res.setEncoding('utf8')
        let text = ''
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          messages += interaction.response?.sse ? text.split('\n\n').filter((frame) => frame.includes('data:')).length : text ? 1 : 0
          resolve()
        })
        if (!complete) resolve()
      })
      req.on('error', (error) => (complete ? reject(error) : resolve()))
      if (!complete) open.push(req)
      req.end(body)
    })
  }
  for (const req of open) req.destroy()
  agent.destroy()
  return messages
}

/** One light client session (node:http, no SDK) of the committed sdk/streamable-http cassette; latencies of its tools/calls. */
async function lightSession(base: URL, agent: http.Agent, latencies: number[]): Promise<void> {
  const post = (body: unknown, session?: string) =>
    new Promise<{ session?: string; text: string }>((resolve, reject) => {
      const text = JSON.stringify(body)
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(text)), 'mcp-protocol-version': '2025-11-25' }
      if (session) headers['mcp-session-id'] = session
      const req = http.request({ hostname: base.hostname, port: base.port, path: '/mcp', method: 'POST', headers, agent }, (res) => {
        let out = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (out += chunk))
        res.on('end', () => (res.statusCode! >= 400 || out.includes('"error"') ? reject(new Error(`mock answered ${res.statusCode}: ${out.slice(0, 300)}`)) : resolve({ session: res.headers['mcp-session-id'] as string | undefined, text: out })))
      })
      req.on('error', reject)
      req.end(text)
    })
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: cassetteInit })
  const session = init.session!
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)
  let id = 1
  for (const call of [{ name: 'add', arguments: { a: 2, b: 3 } }, { name: 'counter', arguments: {} }, { name: 'counter', arguments: {} }]) {
    const started = performance.now()
    await post({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: call }, session)
    latencies.push(performance.now() - started)
  }
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ hostname: base.hostname, port: base.port, path: '/mcp', method: 'DELETE', headers: { 'mcp-session-id': session }, agent }, (res) => (res.resume(), res.on('end', resolve)))
    req.on('error', reject)
    req.end()
  })
}
/**
 * The same session as `lightSession` over its own raw socket: HTTP/1.1 requests written as text and a
 * minimal response reader (content-length or chunked framing), like a load generator (wrk, autocannon).
 * Beside the node:http clients it shows how much of their latency under load is the clients' own work.
 */
async function rawSession(base: URL, init: unknown, latencies: number[]): Promise<void> {
  const socket = net.connect({ host: base.hostname, port: Number(base.port), noDelay: true })
  await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('error', reject)))
  let buffer = ''
  let waiting: (() => void) | undefined
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    waiting?.()
  })
  const exchange = (method: string, body: string | undefined, session?: string) =>
    new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
      socket.write(`${method} /mcp HTTP/1.1\r\nhost: ${base.host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n${session ? `mcp-session-id: ${session}\r\n` : ''}content-length: ${body ? Buffer.byteLength(body) : 0}\r\n\r\n${body ?? ''}`)
      const check = () => {
        const end = buffer.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buffer.slice(0, end)
        const length = /\r\ncontent-length: *(\d+)/i.exec(head)
        let total: number
        let text: string
        if (length) {
          total = end + 4 + Number(length[1])
          if (buffer.length < total) return
          text = buffer.slice(end + 4, total)
        } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const last = buffer.indexOf('\r\n0\r\n\r\n', end)
          const empty = buffer.startsWith('0\r\n\r\n', end + 4)
          if (last < 0 && !empty) return
          total = empty ? end + 9 : last + 7
          text = buffer.slice(end + 4, total)
        } else {
          total = end + 4
          text = ''
        }
        buffer = buffer.slice(total)
        waiting = undefined
        const status = Number(head.slice(9, 12))
        if (status >= 400 || text.includes('"error"')) reject(new Error(`mock answered ${status}: ${text.slice(0, 200)}`))
        else resolve({ status, headers: head, body: text })
      }
      waiting = check
      check()
    })
  const first = await exchange('POST', JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: init }))
  const session = /\r\nmcp-session-id: *(\S+)/i.exec(first.headers)![1]!
  await exchange('POST', JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), session)
  let id = 1
  for (const call of [{ name: 'add', arguments: { a: 2, b: 3 } }, { name: 'counter', arguments: {} }, { name: 'counter', arguments: {} }]) {
    const started = performance.now()
    await exchange('POST', JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: call }), session)
    latencies.push(performance.now() - started)
  }
  await exchange('DELETE', undefined, session)
  socket.destroy()
}

const committed = await loadCassette('recordings/cassettes/sdk/streamable-http.json')
const cassetteInit = (committed.interactions[0]!.request.body as { params: unknown }).params

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
  // Against the mock, with the transport floor beside it (interleaved, same run): a bare node:http
  // client against a server that answers without matching, and replay() against that server.
  const mock = await createMockServer(cassette)
  const floor = await nullServer(cassette)
  const mockRuns: number[] = []
  const floorRuns: number[] = []
  const replayFloorRuns: number[] = []
  const loadBefore = os.loadavg().map(round)
  let againstMock = await replay(cassette, { target: mock.url, waitMs: 10_000 })
  let floorMessages = await rawClient(cassette, floor.url)
  floor.reset()
  await replay(cassette, { target: floor.url, waitMs: 10_000, throwOnMismatch: false })
  for (let run = 0; run < MOCK_RUNS; run++) {
    floor.reset()
    let started = performance.now()
    floorMessages = await rawClient(cassette, floor.url)
    floorRuns.push(performance.now() - started)
    floor.reset()
    replayFloorRuns.push((await replay(cassette, { target: floor.url, waitMs: 10_000, throwOnMismatch: false })).durationMs)
    started = performance.now()
    againstMock = await replay(cassette, { target: mock.url, waitMs: 10_000 })
    mockRuns.push(againstMock.durationMs)
  }
  const loadAfter = os.loadavg().map(round)
  await floor.close()
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
  // The same 100 sessions from light node:http clients (no SDK): what the mock itself adds under load.
  const agent = new http.Agent({ keepAlive: true })
  // Warm-up first (JIT), unmeasured, as the SDK sessions above warmed this mock.
  for (let i = 0; i < 100; i++) await lightSession(sessionMock.url, agent, [])
  const lightAlone: number[] = []
  for (let i = 0; i < 20; i++) await lightSession(sessionMock.url, agent, lightAlone)
  const lightConcurrent: number[] = []
  const lightStarted = performance.now()
  await Promise.all(Array.from({ length: CONCURRENT }, () => lightSession(sessionMock.url, agent, lightConcurrent)))
  const lightWallMs = performance.now() - lightStarted
  const misses = sessionMock.errors.length
  await sessionMock.close()

  // And against `mcp-harness mock` in its own process, as a user runs it: the clients' work is not the mock's.
  const child = spawn(process.execPath, ['cli/cli.ts', 'mock', 'recordings/cassettes/sdk/streamable-http.json'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const cliUrl = await new Promise<URL>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const found = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)
      if (found) resolve(new URL(found[1]!))
    })
    child.once('exit', (code) => reject(new Error(`mcp-harness mock exited with ${code}: ${out}`)))
  })
  for (let i = 0; i < 200; i++) await lightSession(cliUrl, agent, [])
  const cliAlone: number[] = []
  for (let i = 0; i < 20; i++) await lightSession(cliUrl, agent, cliAlone)
  const cliConcurrent: number[] = []
  const cliStarted = performance.now()
  await Promise.all(Array.from({ length: CONCURRENT }, () => lightSession(cliUrl, agent, cliConcurrent)))
  const cliWallMs = performance.now() - cliStarted
  // The same burst again, a few times: the first one above (the figure the goal is about) also opens the
  // 100 connections; these show how much one burst varies on a loaded machine. Each round's p95 is its own.
  const cliRounds: { p50: number; p95: number; wallMs: number }[] = []
  for (let n = 0; n < CLI_ROUNDS; n++) {
    const latencies: number[] = []
    const started = performance.now()
    await Promise.all(Array.from({ length: CONCURRENT }, () => lightSession(cliUrl, agent, latencies)))
    const { p50, p95 } = summarize(latencies)
    cliRounds.push({ p50, p95, wallMs: round(performance.now() - started) })
  }
  agent.destroy()
  // Raw-socket clients against the same process (warmed the same way): the clients' share of the latency.
  for (let i = 0; i < 200; i++) await rawSession(cliUrl, cassetteInit, [])
  const rawConcurrent: number[] = []
  const rawStarted = performance.now()
  await Promise.all(Array.from({ length: CONCURRENT }, () => rawSession(cliUrl, cassetteInit, rawConcurrent)))
  const rawWallMs = performance.now() - rawStarted
  const rawRounds: number[] = []
  for (let n = 0; n < CLI_ROUNDS; n++) {
    const latencies: number[] = []
    await Promise.all(Array.from({ length: CONCURRENT }, () => rawSession(cliUrl, cassetteInit, latencies)))
    rawRounds.push(summarize(latencies).p95)
  }
  const cliExit = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGINT')
  await cliExit
  const perRequest = { direct: summarize(samples.direct), proxied: summarize(samples.proxied), ratioP50: round(summarize(samples.proxied).p50 / summarize(samples.direct).p50) }
  const health = { direct: summarize(samples.healthDirect), proxied: summarize(samples.healthProxied), ratioP50: round(summarize(samples.healthProxied).p50 / summarize(samples.healthDirect).p50) }
  const firstEvent = { direct: summarize(ttfe.direct), proxied: summarize(ttfe.proxied), toolDuration: summarize(ttfe.total), slow: SLOW }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
  const perSecond = (messages: number, ms: number) => Math.round((messages / ms) * 1000)
  const usPerMessage = (messages: number, ms: number) => round((ms * 1000) / messages)
  const throughput = {
    /** A message = one JSON-RPC message the client sent (each of a batch) or one answer it received (a JSON body or an SSE event). */
    messages: replayed.messages,
    interactions: cassette.interactions.length,
    emulator: { ms: median(replayMs), messagesPerSecond: perSecond(replayed.messages, median(replayMs)), sdkDirectMs: round(median(sdkMs)), ratioToSdk: round(median(replayMs) / median(sdkMs)), runs: RUNS },
    mock: {
      ms: median(mockRuns),
      messagesPerSecond: perSecond(againstMock.messages, median(mockRuns)),
      usPerMessage: usPerMessage(againstMock.messages, median(mockRuns)),
      best: { ms: Math.min(...mockRuns), messagesPerSecond: perSecond(againstMock.messages, Math.min(...mockRuns)) },
      runs: MOCK_RUNS,
      load: { before: loadBefore, after: loadAfter },
      // Where the cost per message goes: bare HTTP round trips, then the replay's own work, then the mock's.
      floor: { ms: round(median(floorRuns)), bestMs: round(Math.min(...floorRuns)), messages: floorMessages, messagesPerSecond: perSecond(floorMessages, median(floorRuns)), usPerMessage: usPerMessage(floorMessages, median(floorRuns)) },
      replayAgainstFloor: { ms: median(replayFloorRuns), bestMs: Math.min(...replayFloorRuns), messagesPerSecond: perSecond(againstMock.messages, median(replayFloorRuns)), usPerMessage: usPerMessage(againstMock.messages, median(replayFloorRuns)) },
      // Median of the per-run ratios: each run's three measures were taken back to back, under the same load.
      ratioToFloor: round(median(mockRuns.map((ms, i) => ms / floorRuns[i]!))),
      ratioToReplayFloor: round(median(mockRuns.map((ms, i) => ms / replayFloorRuns[i]!))),
    },
  }
  const sessions = { clients: CONCURRENT, misses, alone: summarize(alone), concurrent: summarize(concurrent), light: { alone: summarize(lightAlone), concurrent: summarize(lightConcurrent), wallMs: round(lightWallMs) }, cli: { alone: summarize(cliAlone), concurrent: summarize(cliConcurrent), wallMs: round(cliWallMs), rounds: cliRounds, roundsMedianP95: median(cliRounds.map((r) => r.p95)) }, cliRawClients: { concurrent: summarize(rawConcurrent), wallMs: round(rawWallMs), roundsP95: rawRounds, roundsMedianP95: median(rawRounds) } }
  const file = await writeResult('recordings', { calls: CALLS, perRequest, health, firstEvent, throughput, sessions })
  console.log(
    markdownTable(
      ['measure', 'direct', 'through the recording proxy', 'ratio / note'],
      [
        ['tools/call `add`, p50 (p95) ms', `${perRequest.direct.p50} (${perRequest.direct.p95})`, `${perRequest.proxied.p50} (${perRequest.proxied.p95})`, `×${perRequest.ratioP50} (n=${CALLS} each, interleaved)`],
        ['GET /health, p50 (p95) ms', `${health.direct.p50} (${health.direct.p95})`, `${health.proxied.p50} (${health.proxied.p95})`, `×${health.ratioP50}`],
        [`first SSE event of \`slow\` ${SLOW.steps}×${SLOW.ms} ms, p50 ms`, firstEvent.direct.p50, firstEvent.proxied.p50, `whole tool ${firstEvent.toolDuration.p50} ms: no buffering`],
        [`replay ${throughput.messages} messages (${throughput.interactions} requests) vs emulator, median ms`, `${throughput.emulator.sdkDirectMs} (TS SDK, same calls)`, `${throughput.emulator.ms} (replay)`, `×${throughput.emulator.ratioToSdk}; ${throughput.emulator.messagesPerSecond} msg/s`],
        [`${throughput.messages} messages: bare node:http loop vs null server (floor), median ms`, `${throughput.mock.floor.ms}`, '', `${throughput.mock.floor.messagesPerSecond} msg/s, ${throughput.mock.floor.usPerMessage} µs/msg`],
        [`replay ${throughput.messages} messages vs null server, median ms`, '', `${throughput.mock.replayAgainstFloor.ms}`, `${throughput.mock.replayAgainstFloor.messagesPerSecond} msg/s, ${throughput.mock.replayAgainstFloor.usPerMessage} µs/msg`],
        [`replay ${throughput.messages} messages vs mock, median (best) ms`, `${throughput.mock.floor.ms} (floor)`, `${throughput.mock.ms} (${throughput.mock.best.ms})`, `${throughput.mock.messagesPerSecond} (best ${throughput.mock.best.messagesPerSecond}) msg/s, ${throughput.mock.usPerMessage} µs/msg, ×${throughput.mock.ratioToFloor} the floor, ×${throughput.mock.ratioToReplayFloor} replay vs null server`],
        [`mock: tools/call latency, p50 (p95) ms, TS SDK clients`, `${sessions.alone.p50} (${sessions.alone.p95}) one client`, `${sessions.concurrent.p50} (${sessions.concurrent.p95}) ${CONCURRENT} clients at once`, `${misses} misses`],
        [`mock: tools/call latency, p50 (p95) ms, node:http clients`, `${sessions.light.alone.p50} (${sessions.light.alone.p95}) one client`, `${sessions.light.concurrent.p50} (${sessions.light.concurrent.p95}) ${CONCURRENT} clients at once`, `all ${CONCURRENT} sessions in ${sessions.light.wallMs} ms`],
        [`\`mcp-harness mock\` in its own process: tools/call p50 (p95) ms, node:http clients`, `${sessions.cli.alone.p50} (${sessions.cli.alone.p95}) one client`, `${sessions.cli.concurrent.p50} (${sessions.cli.concurrent.p95}) ${CONCURRENT} clients at once`, `all ${CONCURRENT} sessions in ${sessions.cli.wallMs} ms`],
        [`the same burst ${CLI_ROUNDS} more times: p95 per round, ms`, '', sessions.cli.rounds.map((r) => r.p95).join(', '), `median ${sessions.cli.roundsMedianP95}`],
        [`the same, raw-socket clients (the clients' own share): p50 (p95) ms, then p95 of ${CLI_ROUNDS} more bursts`, '', `${sessions.cliRawClients.concurrent.p50} (${sessions.cliRawClients.concurrent.p95}) ${CONCURRENT} clients at once; ${sessions.cliRawClients.roundsP95.join(', ')}`, `median ${sessions.cliRawClients.roundsMedianP95}; all ${CONCURRENT} sessions in ${sessions.cliRawClients.wallMs} ms`],
      ],
    ),
  )
  console.log(`\nWrote ${file}`)
} finally {
  await emulator.dispose()
}
