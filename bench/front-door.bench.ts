/**
 * Front-door benchmark: where a warm tool call's time goes between the client and workerd, and what
 * the whole path a client pays costs against calling the same Worker in-isolate.
 *
 * Part 1, the reference server (hop tap on), one Streamable HTTP session, the same `tools/call add`
 * request sent several ways, interleaved in blocks so that drift hits all alike:
 * - `front door`: the emulator's front door as shipped (straight to workerd's entry socket);
 * - `front door via dispatchFetch`: the same front door code forwarding through
 *   `Miniflare#dispatchFetch`, as the front door did before (no middlewares, so if anything it is
 *   favoured);
 * - `dispatchFetch`: bare `Miniflare#dispatchFetch` from Node, no front door;
 * - `emulator.fetch`: the same front door logic run in-process (what a test calling the harness pays);
 * - `workerd socket`: a keep-alive undici request straight to workerd's entry socket (the floor);
 * - `front door, tap off` and `workerd socket, tap off`: the same on an emulator without the hop tap.
 *
 * Part 2 (skip with --skip-plugin), a Worker project as users have it (scenarios/fixtures/installed-worker,
 * copied to a temporary folder with `@cloudflare/vitest-plugin@1.5.0` installed, as bench/vitest.bench.ts
 * does): the same raw JSON-RPC `add` timed from inside a vitest test with the plugin's in-isolate
 * `exports.default.fetch` (1.5's successor of `SELF.fetch`; p50/p95 taken inside the isolate), against
 * the harness's front door, its workerd socket and `dispatchFetch` on that same project, with and
 * without the hop tap. The plugin runs
 * in its own vitest process, so the two alternate by round (--rounds) rather than by block.
 * Writes bench/results/front-door.json and prints markdown tables.
 * @example npm run bench -- front-door --calls 400
 * @example npm run bench -- front-door --skip-plugin
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { spawn } from 'node:child_process'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent } from 'undici'
import { createEmulator, type Emulator } from '../emulator/index.ts'
import { FrontServer } from '../emulator/internal/front.ts'
import { Transcript } from '../core/transcript.ts'
import { openRawSession, ACCEPT_BOTH } from '../scenarios/helpers/raw.ts'
import { markdownTable, numberArg, round, summarize, writeResult } from './lib.ts'

const CALLS = numberArg('calls', 300)
const ROUNDS = numberArg('rounds', 3)
const SKIP_PLUGIN = process.argv.includes('--skip-plugin')
const BLOCK = 20
const WARMUP = 30
const VITEST_PLUGIN = '@cloudflare/vitest-plugin@1.5.0'
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100
type Lane = () => Promise<void>

const check = (text: string) => {
  if (!text.includes('"text":"5"')) throw new Error(`add answered: ${text.slice(0, 200)}`)
}

/** The lanes that reach one emulator: its front door, its workerd socket and dispatchFetch. */
async function lanesFor(emulator: Emulator, agent: Agent, label: string, withDispatch: boolean): Promise<Record<string, Lane>> {
  const runtime = await emulator.miniflare.ready
  const session = await openRawSession(emulator.url)
  const headers = { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.protocolVersion }
  let id = 100
  const body = () => JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } })
  const lanes: Record<string, Lane> = {
    [`front door${label}`]: async () => check(await (await fetch(new URL('/mcp', emulator.url), { method: 'POST', headers, body: body() })).text()),
    // What a test calling the harness pays: the front door's logic in-process, no loopback socket.
    [`emulator.fetch${label}`]: async () => check(await (await emulator.fetch('/mcp', { method: 'POST', headers, body: body() })).text()),
    [`workerd socket${label}`]: async () => {
      const answer = await agent.request({ origin: runtime.origin, path: '/mcp', method: 'POST', headers: { ...headers, host: emulator.url.host, 'accept-encoding': 'identity' }, body: body() })
      check(await answer.body.text())
    },
  }
  if (withDispatch) lanes[`dispatchFetch${label}`] = async () => check(await (await emulator.miniflare.dispatchFetch(new URL('/mcp', emulator.url).href, { method: 'POST', headers, body: body() })).text())
  return lanes
}

/** A Node proxy with nothing but the hop: body read, headers passed, answer streamed back. */
async function listenMinimalProxy(runtime: URL, host: string, agent: Agent, servers: http.Server[]): Promise<URL> {
  const skip = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers: string[] = ['host', host, 'accept-encoding', 'identity']
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (!skip.has(req.rawHeaders[i]!.toLowerCase()) && req.rawHeaders[i]!.toLowerCase() !== 'accept-encoding') headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
    const answer = await agent.request({ origin: runtime.origin, path: req.url ?? '/', method: (req.method ?? 'GET') as 'POST', headers, body: Buffer.concat(chunks) })
    const out: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !skip.has(name)) out[name] = value
    res.writeHead(answer.statusCode, out)
    for await (const chunk of answer.body) res.write(chunk)
    res.end()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
}

/** Runs lanes interleaved in blocks of BLOCK after a warm-up, `calls` samples each. */
async function measure(lanes: Record<string, Lane>, calls: number, samples: Record<string, number[]>): Promise<void> {
  for (const [lane, run] of Object.entries(lanes)) {
    samples[lane] ??= []
    for (let i = 0; i < WARMUP; i++) {
      await run().catch((error: Error) => {
        throw new Error(`[front-door bench] the ${lane} lane failed while warming up: ${error.message}`, { cause: error })
      })
    }
  }
  for (let done = 0; done < calls; done += BLOCK) {
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
}

const results: Record<string, unknown> = { calls: CALLS }

// Part 1: the reference server.
{
  const emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
  const untapped = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent', hop: { tap: false } })
  const before = new FrontServer({
    host: '127.0.0.1',
    port: 0,
    transcript: new Transcript(),
    upstream: { kind: 'dispatch', dispatch: (request) => emulator.miniflare.dispatchFetch(request.url, request as never) as unknown as Promise<Response> },
    middlewares: () => [],
  })
  const agent = new Agent({ keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000 })
  const extraFronts: FrontServer[] = []
  const minimalProxies: http.Server[] = []
  try {
    const beforeUrl = await before.listen()
    const lanes = await lanesFor(emulator, agent, '', true)
    const session = await openRawSession(emulator.url)
    const headers = { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.protocolVersion }
    let id = 100
    lanes['front door via dispatchFetch'] = async () =>
      check(await (await fetch(new URL('/mcp', beforeUrl), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }) })).text())
    Object.assign(lanes, await lanesFor(untapped, agent, ', tap off', false))
    // The front door's own cost, same run: a front door with no middlewares on the tap-off Worker's
    // socket, and the same with a middleware that reads ctx.request (every request builds its Fetch
    // Request and abort signal, as every request did before the Request was made lazily).
    const runtime = await untapped.miniflare.ready
    for (const [label, middlewares] of [
      ['front door alone, tap off', []],
      ['front door alone + ctx.request built, tap off', [{ name: 'reads-request', onRequest: (ctx: { request: Request }) => void ctx.request }]],
    ] as const) {
      const front = new FrontServer({ host: '127.0.0.1', port: 0, transcript: new Transcript(), upstream: { kind: 'runtime', url: () => runtime }, middlewares: () => [...middlewares] })
      extraFronts.push(front)
      const frontUrl = await front.listen()
      const bare = await openRawSession(frontUrl)
      const bareHeaders = { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': bare.sessionId, 'mcp-protocol-version': bare.protocolVersion }
      lanes[label] = async () =>
        check(await (await fetch(new URL('/mcp', frontUrl), { method: 'POST', headers: bareHeaders, body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }) })).text())
    }
    // What any Node hop costs, same run: the client's fetch straight to workerd's socket (the front
    // door lanes use fetch, the socket lanes undici's request), and a minimal proxy (keep-alive undici,
    // no checks, no middlewares, no transcript) in front of that socket.
    const untappedSession = await openRawSession(untapped.url)
    const untappedHeaders = { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': untappedSession.sessionId, 'mcp-protocol-version': untappedSession.protocolVersion }
    const addBody = () => JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } })
    lanes['fetch to workerd socket, tap off'] = async () =>
      check(await (await fetch(new URL('/mcp', runtime), { method: 'POST', headers: { ...untappedHeaders, host: untapped.url.host, 'accept-encoding': 'identity' }, body: addBody() })).text())
    const proxyUrl = await listenMinimalProxy(runtime, untapped.url.host, agent, minimalProxies)
    lanes['minimal Node proxy, tap off'] = async () => check(await (await fetch(new URL('/mcp', proxyUrl), { method: 'POST', headers: untappedHeaders, body: addBody() })).text())
    const samples: Record<string, number[]> = {}
    await measure(lanes, CALLS, samples)
    const summary = Object.fromEntries(Object.entries(samples).map(([lane, values]) => [lane, summarize(values)]))
    const base = summary.dispatchFetch!
    results.reference = {
      call: 'tools/call add (warm, Streamable HTTP, reference server)',
      lanes: summary,
      ratioToDispatchFetchP50: Object.fromEntries(Object.entries(summary).map(([lane, s]) => [lane, ratio(s.p50, base.p50)])),
    }
    console.log(markdownTable(['path, reference server (same run)', 'p50 ms', 'p95 ms', 'p50 vs dispatchFetch'], Object.entries(summary).map(([lane, s]) => [lane, s.p50, s.p95, `×${ratio(s.p50, base.p50)}`])))
  } finally {
    await agent.close()
    await before.close()
    for (const front of extraFronts) await front.close()
    for (const proxy of minimalProxies) {
      proxy.closeAllConnections()
      proxy.close()
    }
    await emulator.dispose()
    await untapped.dispose()
  }
}

// Part 2: against @cloudflare/vitest-plugin's in-isolate call, on a Worker project as users have it.
if (!SKIP_PLUGIN) {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'))
  env.PATH = [path.dirname(process.execPath), process.env.PATH].join(path.delimiter)
  env.NO_COLOR = '1'
  const run = (command: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => (out += chunk))
      child.stderr.on('data', (chunk: Buffer) => (out += chunk))
      child.on('close', (code) => resolve({ code, out }))
    })
  const work = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-bench-front-'))
  const project = path.join(work, 'my-mcp-worker')
  try {
    await cp(path.join(root, 'scenarios/fixtures/installed-worker'), project, { recursive: true })
    const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', VITEST_PLUGIN], project)
    if (installed.code !== 0) throw new Error(`npm install ${VITEST_PLUGIN} failed:\n${installed.out.slice(-3000)}`)
    await writeFile(
      path.join(project, 'vitest.inisolate.config.ts'),
      `import { cloudflareTest } from '@cloudflare/vitest-plugin'\nimport { defineConfig } from 'vitest/config'\nexport default defineConfig({ plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.jsonc' } })], test: { testTimeout: 300_000, include: ['bench/in-isolate.test.ts'] } })\n`,
    )
    await cp(path.join(root, 'bench/vitest-user/in-isolate.test.ts'), path.join(project, 'bench/in-isolate.test.ts'))
    const perRound = Math.ceil(CALLS / ROUNDS)
    const inIsolate: number[] = []
    const samples: Record<string, number[]> = {}
    const emulator = await createEmulator({ config: path.join(project, 'wrangler.jsonc'), workerLog: 'silent' })
    const untapped = await createEmulator({ config: path.join(project, 'wrangler.jsonc'), workerLog: 'silent', hop: { tap: false } })
    const agent = new Agent({ keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000 })
    try {
      const lanes = { ...(await lanesFor(emulator, agent, '', true)), ...(await lanesFor(untapped, agent, ', tap off', false)) }
      for (let r = 0; r < ROUNDS; r++) {
        const result = await run(process.execPath, [path.join(project, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.inisolate.config.ts'], project)
        const line = /BENCH_SAMPLES (\[[^\n]*\])/.exec(result.out)
        if (result.code !== 0 || !line) throw new Error(`the in-isolate test failed (exit ${result.code}):\n${result.out.slice(-3000)}`)
        inIsolate.push(...(JSON.parse(line[1]!) as number[]).slice(0, perRound))
        await measure(lanes, perRound, samples)
      }
    } finally {
      await agent.close()
      await emulator.dispose()
      await untapped.dispose()
    }
    const summary: Record<string, ReturnType<typeof summarize>> = { [`in-isolate exports.default.fetch (${VITEST_PLUGIN})`]: summarize(inIsolate) }
    for (const [lane, values] of Object.entries(samples)) summary[lane] = summarize(values)
    const base = summary[`in-isolate exports.default.fetch (${VITEST_PLUGIN})`]!
    results.installedWorker = {
      call: 'tools/call add (warm, Streamable HTTP, scenarios/fixtures/installed-worker)',
      rounds: ROUNDS,
      lanes: summary,
      ratioToInIsolateP50: Object.fromEntries(Object.entries(summary).map(([lane, s]) => [lane, ratio(s.p50, base.p50)])),
      goal: 'front door (and emulator.fetch) <= 1.3× the in-isolate call (p50)',
    }
    console.log(`\n${markdownTable(['path, installed-worker fixture (same run)', 'p50 ms', 'p95 ms', 'p50 vs in-isolate'], Object.entries(summary).map(([lane, s]) => [lane, s.p50, s.p95, `×${ratio(s.p50, base.p50)}`]))}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

const file = await writeResult('front-door', results)
console.log(`\nwrote ${file}; machine load ${os.loadavg().map(round).join(' ')}`)
