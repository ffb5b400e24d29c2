/**
 * Robustness runs shared by the bench (`npm run bench -- robustness`, full size) and the smoke test
 * (`scenarios/robustness/*.test.ts`, small size): fuzzing the front door, churning sessions while
 * faults fire, and counting sessions until a warm call gets slow.
 *
 * Inputs come from fast-check (`fc.sample` with a seed): a well-kept generator library gives
 * reproducible, shrinkable inputs and mutation primitives we would otherwise hand-write. Every input
 * is named by `seed` + index, so a failure is replayed with the same seed.
 * @example const fuzz = await runFuzz(emulator.url, { seed: 42, runs: 10_000 })
 */
import net from 'node:net'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import type { TranscriptEvent } from '../../core/transcript.ts'
import { connectClient, type ScriptedClient, type TransportKind } from '../helpers/clients.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** What one fuzz input is, as bytes on a socket. */
export interface FuzzInput {
  kind: 'framing' | 'json-rpc' | 'sse-reconnect' | 'cassette'
  /** The raw request bytes (latin1), replayable with `sendRaw`. */
  raw: string
}

/** How the front door treated one input. */
export type FuzzOutcome =
  | { kind: 'status'; status: number; body: string; head: string }
  | { kind: 'closed' }
  | { kind: 'hang' }

export interface FuzzFailure {
  seed: number
  index: number
  input: FuzzInput
  why: string
}

export interface FuzzReport {
  seed: number
  inputs: number
  byKind: Record<string, number>
  hangs: number
  /** Error statuses (>= 400) answered with an empty body by the Worker path: no message for the client. */
  silentErrors: number
  /**
   * Malformed framing refused by Node's HTTP parser before any handler runs: a bare
   * `400 Bad Request` / `431` with `Connection: close` and no body (the reason phrase is the only message).
   */
  parserRejected: number
  closedWithoutStatus: number
  statuses: Record<string, number>
  /** Up to 3 server errors (5xx) per status, with what provoked them. */
  serverErrors: { index: number; kind: string; request: string; status: number; body: string }[]
  failures: FuzzFailure[]
}

/** Sends raw bytes on a fresh socket, half-closes, and reads the answer (bounded by `timeoutMs`). */
export function sendRaw(port: number, raw: string, timeoutMs: number): Promise<FuzzOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let data = ''
    let done = false
    const finish = (outcome: FuzzOutcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const parsed = (): FuzzOutcome => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(data)
      if (!match) return { kind: 'closed' }
      const split = data.indexOf('\r\n\r\n')
      return { kind: 'status', status: Number(match[1]), body: split >= 0 ? data.slice(split + 4) : '', head: split >= 0 ? data.slice(0, split) : data }
    }
    const timer = setTimeout(() => finish(data ? parsed() : { kind: 'hang' }), timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      data += chunk
      const head = data.indexOf('\r\n\r\n')
      // A stream is an answer: status and headers arrived; nothing says it must end.
      if (head >= 0 && /content-type:\s*text\/event-stream/i.test(data.slice(0, head))) finish(parsed())
      // One complete body is enough (keep-alive would otherwise wait for the next request).
      else if (head >= 0 && /\r\n0\r\n\r\n$/.test(data)) finish(parsed())
      else if (head >= 0) {
        const length = /content-length:\s*(\d+)/i.exec(data.slice(0, head))
        if (length && Buffer.byteLength(data.slice(head + 4), 'latin1') >= Number(length[1])) finish(parsed())
      }
    })
    socket.on('error', () => finish(data ? parsed() : { kind: 'closed' }))
    socket.on('close', () => finish(data ? parsed() : { kind: 'closed' }))
    // Send the bytes and keep the socket open, as most clients do (a half-closed client is answered
    // too; scenarios/security/front-door.test.ts covers that); only a request still unanswered after
    // `finOnSilenceMs` (a body shorter than its Content-Length, say) gets the FIN that tells the
    // server nothing more comes.
    let fin: NodeJS.Timeout | undefined
    socket.on('connect', () => {
      socket.write(raw, 'latin1')
      fin = setTimeout(() => {
        if (!data) socket.end()
      }, Math.min(2_000, timeoutMs / 3))
    })
    socket.on('close', () => clearTimeout(fin))
  })
}

/** Builds a request with a correct Content-Length from parts. */
function request(method: string, target: string, headers: [string, string][], body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([n, v]) => `${n}: ${v}`)]
  if (body || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`)
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

const MCP_HEADERS: [string, string][] = [
  ['Content-Type', 'application/json'],
  ['Accept', 'application/json, text/event-stream'],
]

/** Header-safe text (visible ASCII and spaces), sometimes long. */
const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.~!*'.split('')), maxLength: 40 })
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 60 }).filter((s) => !s.includes('\r\n\r\n')),
  fc.integer({ min: 1, max: 80 }).map((kb) => 'x'.repeat(kb * 1024)),
)

/** Odd request lines, duplicate and oversized headers, bad chunked encoding. */
function framing(sessions: string[]): fc.Arbitrary<FuzzInput> {
  const method = fc.constantFrom('GET', 'POST', 'DELETE', 'OPTIONS', 'PUT', 'HEAD', 'PATCH', 'CONNECT', 'TRACE', 'get', 'P0ST', '', 'GET GET')
  const target = fc.oneof(
    fc.constantFrom('/mcp', '/sse', '/sse/message', '/', '*', '//', '/mcp?x=%zz', '/%00', '/..%2f..%2fetc', 'http://127.0.0.1/mcp', 'mcp', '/mcp#frag', `/sse/message?sessionId=${sessions[1] ?? 'x'}`),
    token.map((t) => `/${t}`),
    fc.integer({ min: 1, max: 64 }).map((kb) => `/${'a'.repeat(kb * 1024)}`),
  )
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', 'HTTX/1.1', '')
  const header = fc.tuple(
    fc.oneof(fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Host', 'Content-Type', 'Accept', 'mcp-session-id', 'Connection', 'Expect', 'Upgrade', 'Last-Event-ID', 'X-Dup'), token.filter((t) => t.length > 0)),
    headerValue,
  )
  const chunked = fc.array(
    fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`),
      fc.constantFrom('zz\r\nabc\r\n', '5\r\nab\r\n', '-1\r\n\r\n', 'ffffffffffffffff\r\nx\r\n', '3;ext=1\r\nabc\r\n', '0\r\nTrailer: x\r\n\r\n', '\r\n', '1\nA\n'),
    ),
    { maxLength: 5 },
  )
  return fc.record({ method, target, version, headers: fc.array(header, { maxLength: 8 }), body: fc.oneof(fc.constant(''), chunked.map((c) => c.join('') + '0\r\n\r\n'), chunked.map((c) => c.join(''))), duplicates: fc.array(fc.constantFrom('Content-Length: 5', 'Content-Length: 0', 'Content-Length: -1', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Host: a', 'Host: mcp-harness-control.invalid', 'MF-Route-Override: mcp-harness-control'), { maxLength: 3 }) }).map(({ method, target, version, headers, body, duplicates }) => ({
    kind: 'framing' as const,
    raw: `${method} ${target} ${version}\r\nHost: 127.0.0.1\r\n${[...headers.map(([n, v]) => `${n}: ${v}`), ...duplicates].map((l) => `${l}\r\n`).join('')}\r\n${body}`,
  }))
}

/** Valid, invalid and mutated JSON-RPC bodies on both transports' POST endpoints. */
function jsonRpc(sessions: string[]): fc.Arbitrary<FuzzInput> {
  const valid = fc.oneof(
    fc.constant({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } } }),
    fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.integer(), token, fc.constant(null)), method: fc.constantFrom('tools/list', 'ping', 'resources/list', 'prompts/list', 'tools/call'), params: fc.option(fc.record({ name: fc.constantFrom('add', 'counter', 'memo', 'nope'), arguments: fc.dictionary(token, fc.jsonValue({ maxDepth: 2 })) }), { nil: undefined }) }),
    fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constantFrom('notifications/initialized', 'notifications/cancelled', 'notifications/x') }),
  )
  const text = fc.oneof(
    valid.map((v) => JSON.stringify(v)),
    fc.array(valid, { maxLength: 4 }).map((v) => JSON.stringify(v)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.tuple(valid.map((v) => JSON.stringify(v)), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { minLength: 1, maxLength: 4 })).map(([s, edits]) => mutate(s, edits)),
    fc.string({ maxLength: 100 }),
  )
  const where = fc.oneof(
    fc.constantFrom(...sessions.filter((s) => s.startsWith('h:')).map((s) => ['/mcp', s.slice(2)] as const), ['/mcp', ''] as const, ['/mcp', 'not-a-session'] as const),
    fc.constantFrom(...sessions.filter((s) => s.startsWith('s:')).map((s) => [`/sse/message?sessionId=${s.slice(2)}`, ''] as const), ['/sse/message?sessionId=zzz', ''] as const, ['/sse/message', ''] as const),
  )
  const contentType = fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=latin1', '')
  return fc.tuple(where, text, contentType).map(([[target, session], body, type]) => ({
    kind: 'json-rpc' as const,
    raw: request('POST', target, [...(type ? [['Content-Type', type] as [string, string]] : []), ['Accept', 'application/json, text/event-stream'], ...(session ? [['mcp-session-id', session] as [string, string]] : [])], Buffer.from(body, 'utf8').toString('latin1')),
  }))
}

/** GET reconnects on both transports with odd `Last-Event-ID` values. */
function sseReconnect(sessions: string[]): fc.Arbitrary<FuzzInput> {
  const http = sessions.filter((s) => s.startsWith('h:')).map((s) => s.slice(2))
  const lastEventId = fc.oneof(fc.constantFrom('', '0', '-1', '999999999999999999999', 'NaN', '../', '\u0000', '1_2', 'streamable-http:0'), token, headerValue)
  return fc.tuple(fc.constantFrom('/mcp', '/sse'), fc.constantFrom(...http, 'unknown', ''), lastEventId).map(([target, session, id]) => ({
    kind: 'sse-reconnect' as const,
    raw: request('GET', target, [['Accept', 'text/event-stream'], ['Last-Event-ID', id], ...(target === '/mcp' && session ? [['mcp-session-id', session] as [string, string]] : [])]),
  }))
}

interface RecordedRequest {
  method: string
  path: string
  query?: Record<string, string>
  headers: Record<string, string>
  body?: unknown
}

/** Every request of the committed cassettes (recordings/cassettes/**.json). */
export function cassetteRequests(): RecordedRequest[] {
  const out: RecordedRequest[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.name.endsWith('.json')) {
        const cassette = JSON.parse(readFileSync(file, 'utf8')) as { interactions?: { request: RecordedRequest }[] }
        for (const interaction of cassette.interactions ?? []) out.push(interaction.request)
      }
    }
  }
  walk(path.join(ROOT, 'recordings', 'cassettes'))
  return out
}

/** Bodies mutated from committed cassettes, placeholders filled with live or bogus sessions. */
function cassette(sessions: string[]): fc.Arbitrary<FuzzInput> {
  const recorded = cassetteRequests().filter((r) => r.body !== undefined)
  const http = sessions.filter((s) => s.startsWith('h:')).map((s) => s.slice(2))
  const sse = sessions.filter((s) => s.startsWith('s:')).map((s) => s.slice(2))
  const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { maxLength: 5 })
  const valueSwap = fc.option(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 })), { nil: undefined })
  return fc.tuple(fc.constantFrom(...recorded), edits, valueSwap, fc.boolean()).map(([r, edit, swap, live]) => {
    const body = swap ? JSON.stringify(replaceLeaf(r.body, swap[0], swap[1])) : JSON.stringify(r.body)
    const fill = (s: string) => s.replace(/<session-\d+>/g, live ? (r.path.startsWith('/sse') ? sse[0] : http[0]) ?? 'x' : 'bogus-session')
    const query = new URLSearchParams(Object.fromEntries(Object.entries(r.query ?? {}).map(([k, v]) => [k, fill(String(v))]))).toString()
    const headers = Object.entries(r.headers).filter(([n]) => !['host', 'content-length', 'transfer-encoding', 'connection'].includes(n)).map(([n, v]) => [n, fill(v)] as [string, string])
    return { kind: 'cassette' as const, raw: request(r.method, `${r.path}${query ? `?${query}` : ''}`, headers, Buffer.from(mutate(body, edit), 'utf8').toString('latin1')) }
  })
}

/** Byte-level edits: flip a char, cut at a point, insert a byte. */
function mutate(text: string, edits: [number, number, string][]): string {
  let out = text
  for (const [at, byte, op] of edits) {
    const i = out.length ? at % out.length : 0
    if (op === 'flip') out = out.slice(0, i) + String.fromCharCode(byte) + out.slice(i + 1)
    else if (op === 'cut') out = out.slice(0, i)
    else out = out.slice(0, i) + String.fromCharCode(byte) + out.slice(i)
  }
  return out
}

/** Replaces the n-th leaf (depth-first) of a JSON value. */
function replaceLeaf(value: unknown, n: number, next: unknown): unknown {
  let count = 0
  const leaves = (v: unknown): number => (v && typeof v === 'object' ? Object.values(v).reduce<number>((s, c) => s + leaves(c), 0) : 1)
  const target = n % Math.max(1, leaves(value))
  const walk = (v: unknown): unknown => {
    if (v && typeof v === 'object') {
      if (Array.isArray(v)) return v.map(walk)
      return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, walk(c)]))
    }
    return count++ === target ? next : v
  }
  return walk(value)
}

/** The generated inputs for a seed: a fixed mix of the four kinds, deterministic for (seed, runs, sessions). */
export function fuzzInputs(seed: number, runs: number, sessions: string[]): FuzzInput[] {
  const arbitrary = fc.oneof({ arbitrary: framing(sessions), weight: 3 }, { arbitrary: jsonRpc(sessions), weight: 3 }, { arbitrary: sseReconnect(sessions), weight: 1 }, { arbitrary: cassette(sessions), weight: 3 })
  return fc.sample(arbitrary, { seed, numRuns: runs })
}

export interface FuzzOptions {
  seed: number
  runs: number
  /** Live session ids: `h:<id>` Streamable HTTP, `s:<id>` SSE (targets for session-bound inputs). */
  sessions: string[]
  /** Every request must be answered or closed within this (default 10 s). */
  timeoutMs?: number
  concurrency?: number
  onProgress?: (done: number) => void
}

/** Sends the seed's inputs through the front door and counts what came back. */
export async function runFuzz(url: URL, options: FuzzOptions): Promise<FuzzReport> {
  const inputs = fuzzInputs(options.seed, options.runs, options.sessions)
  const port = Number(url.port)
  const report: FuzzReport = { seed: options.seed, inputs: 0, byKind: {}, hangs: 0, silentErrors: 0, parserRejected: 0, closedWithoutStatus: 0, statuses: {}, serverErrors: [], failures: [] }
  let next = 0
  const worker = async () => {
    while (next < inputs.length) {
      const index = next++
      const input = inputs[index]!
      const outcome = await sendRaw(port, input.raw, options.timeoutMs ?? 10_000)
      report.inputs++
      report.byKind[input.kind] = (report.byKind[input.kind] ?? 0) + 1
      if (outcome.kind === 'hang') {
        report.hangs++
        report.failures.push({ seed: options.seed, index, input, why: `no answer within ${options.timeoutMs ?? 10_000} ms` })
      } else if (outcome.kind === 'closed') {
        report.closedWithoutStatus++
        report.statuses.closed = (report.statuses.closed ?? 0) + 1
      } else {
        report.statuses[outcome.status] = (report.statuses[outcome.status] ?? 0) + 1
        if (outcome.status >= 500 && report.serverErrors.filter((e) => e.status === outcome.status).length < 3) report.serverErrors.push({ index, kind: input.kind, request: input.raw.slice(0, 400), status: outcome.status, body: outcome.body.slice(0, 300) })
        if (outcome.status >= 400 && !outcome.body.trim() && isParserRejection(outcome.head)) report.parserRejected++
        // A HEAD answer has no body by definition.
        else if (outcome.status >= 400 && !outcome.body.trim() && !input.raw.startsWith('HEAD ')) {
          report.silentErrors++
          if (report.failures.length < 50) report.failures.push({ seed: options.seed, index, input, why: `status ${outcome.status} with an empty body` })
        }
      }
      if (report.inputs % 500 === 0) options.onProgress?.(report.inputs)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker))
  return report
}

/** Node's default `clientError` answer: a status line and `Connection: close`, nothing else. */
function isParserRejection(head: string): boolean {
  const lines = head.split('\r\n')
  return /^HTTP\/1\.1 (400|431|413|414|505) /.test(lines[0] ?? '') && lines.slice(1).every((line) => /^connection: close$/i.test(line))
}

/** One line per failure, with what replays it. */
export function describeFailure(failure: FuzzFailure): string {
  return `seed ${failure.seed} input #${failure.index} (${failure.input.kind}): ${failure.why}; request ${JSON.stringify(failure.input.raw.slice(0, 300))}`
}

// ---------------------------------------------------------------------------------------------
// Churn

export interface ChurnOptions {
  seed: number
  sessions: number
  calls: number
  /** Sessions running at once (default 20). */
  parallel?: number
  /** Mean gap between faults (default 500 ms). */
  faultEveryMs?: number
  /** A call that neither answers nor fails within this is lost (default 30 s). */
  callTimeoutMs?: number
  onSessionDone?: (done: number) => void
}

export interface ChurnTarget {
  url: URL
  evict(): Promise<unknown>
  crash(): Promise<unknown>
  restart(): Promise<unknown>
  events(): readonly TranscriptEvent[]
}

export interface ChurnReport {
  seed: number
  sessions: number
  callsPlanned: number
  answered: number
  wrongAnswers: number
  clearErrors: number
  /** Calls that neither resolved nor rejected with a message within the bound. */
  lost: number
  /** JSON-RPC responses the transcript shows more than once for one session and id. */
  duplicated: number
  /** Requests the transcript shows with no response, and the client did not get a clear error for. */
  unansweredInTranscript: number
  reconnects: number
  /** Clients that could not connect again within 30 s (each attempt got a clear error). */
  reconnectFailures: number
  /** Calls skipped because their client could not reconnect. */
  notAttempted: number
  faults: Record<string, number>
  /** Outcomes per transport: where losses happen. */
  byTransport: Record<string, { answered: number; clearErrors: number; lost: number }>
  /** The first lost calls: which session, which call, and the last fault before it was sent. */
  lostSamples: { session: number; transport: string; call: number; lastFault: string; msSinceFault: number }[]
  errorMessages: Record<string, number>
  wallMs: number
}

/** A seeded PRNG (mulberry32): the fault schedule and the transport mix replay with the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Runs `sessions` x `calls` `add` calls across both transports with the TS SDK while evict / crash /
 * restart fire at seeded random times. A failed call reconnects its client (a new session) and the
 * remaining calls go on there.
 */
export async function runChurn(target: ChurnTarget, options: ChurnOptions): Promise<ChurnReport> {
  const random = prng(options.seed)
  const started = performance.now()
  const report: ChurnReport = { seed: options.seed, sessions: options.sessions, callsPlanned: options.sessions * options.calls, answered: 0, wrongAnswers: 0, clearErrors: 0, lost: 0, duplicated: 0, unansweredInTranscript: 0, reconnects: 0, reconnectFailures: 0, notAttempted: 0, faults: {}, byTransport: { 'streamable-http': { answered: 0, clearErrors: 0, lost: 0 }, sse: { answered: 0, clearErrors: 0, lost: 0 } }, lostSamples: [], errorMessages: {}, wallMs: 0 }
  const kinds: TransportKind[] = Array.from({ length: options.sessions }, () => (random() < 0.5 ? 'streamable-http' : 'sse'))
  const timeout = options.callTimeoutMs ?? 30_000
  const clientErrorKeys = new Set<string>()
  const churnSessions = new Set<string>()
  // Audit only this run's traffic: the emulator may have served other clients before.
  const fromSeq = target.events().at(-1)?.seq ?? -1
  let stop = false
  let lastFault = { kind: 'none', at: started }
  let faulting = Promise.resolve()
  // A fast machine can settle every call before the first fault's timer: the first fault also fires
  // once a third of the calls settled, so every run is a run under faults.
  let thirdSettled = () => {}
  const aThirdSettled = new Promise<void>((resolve) => (thirdSettled = resolve))
  const settledCalls = () => report.answered + report.wrongAnswers + report.clearErrors + report.lost
  const faults = (async () => {
    const faultRandom = prng(options.seed ^ 0x5eed)
    for (let first = true; !stop; first = false) {
      let wait: NodeJS.Timeout | undefined
      const timer = new Promise((resolve) => (wait = setTimeout(resolve, (options.faultEveryMs ?? 500) * (0.5 + faultRandom()))))
      await (first ? Promise.race([timer, aThirdSettled]) : timer)
      clearTimeout(wait)
      if (stop) break
      const pick = faultRandom()
      const kind = pick < 0.55 ? 'evict' : pick < 0.9 ? 'crash' : 'restart'
      report.faults[kind] = (report.faults[kind] ?? 0) + 1
      lastFault = { kind, at: performance.now() }
      faulting = (kind === 'evict' ? target.evict() : kind === 'crash' ? target.crash() : target.restart()).then(() => undefined, (error: Error) => {
        report.faults[`${kind}-failed`] = (report.faults[`${kind}-failed`] ?? 0) + 1
        report.errorMessages[`fault ${kind}: ${error.message}`] = (report.errorMessages[`fault ${kind}: ${error.message}`] ?? 0) + 1
      })
      await faulting
    }
  })()
  const noteError = (error: unknown) => {
    const message = (error as Error)?.message?.replace(/[0-9a-f]{16,}/g, '<id>').slice(0, 160) ?? ''
    report.errorMessages[message || '(no message)'] = (report.errorMessages[message || '(no message)'] ?? 0) + 1
    return message
  }
  const session = async (index: number) => {
    const kind = kinds[index]!
    let client: ScriptedClient | undefined
    const connect = async () => {
      // A restart takes seconds on a loaded machine; connects in between get a 502 naming it.
      const until = performance.now() + 30_000
      for (let attempt = 0; !client && performance.now() < until; attempt++) {
        try {
          client = await connectClient(target.url, { transport: kind, name: `churn-${index}` })
          churnSessions.add(client.sessionId())
        } catch (error) {
          noteError(error)
          await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)))
        }
      }
      if (!client) report.reconnectFailures++
    }
    let call = 0
    await connect()
    for (; call < options.calls && client; call++) {
      const current: ScriptedClient = client
      const fault = lastFault
      const sentAt = performance.now()
      const counts = report.byTransport[kind]!
      const lose = () => {
        report.lost++
        counts.lost++
        if (report.lostSamples.length < 20) report.lostSamples.push({ session: index, transport: kind, call, lastFault: fault.kind, msSinceFault: Math.round(sentAt - fault.at) })
      }
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<'lost'>((resolve) => (timer = setTimeout(() => resolve('lost'), timeout + 5_000)))
      const outcome = await Promise.race([
        current.client.callTool({ name: 'add', arguments: { a: index, b: call } }, undefined, { timeout }).then(
          (result) => ({ ok: true as const, text: (result.content as { text?: string }[])[0]?.text }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
        bound,
      ])
      clearTimeout(timer)
      if (settledCalls() + 1 >= report.callsPlanned / 3) thirdSettled()
      if (outcome === 'lost') lose()
      else if (outcome.ok) {
        if (outcome.text === String(index + call)) {
          report.answered++
          counts.answered++
        } else report.wrongAnswers++
      } else {
        const message = noteError(outcome.error)
        if (/timed out/i.test(message) || !message) lose()
        else {
          report.clearErrors++
          counts.clearErrors++
        }
        clientErrorKeys.add(current.sessionId())
        await current.close().catch(() => {})
        client = undefined
        report.reconnects++
        await connect()
      }
    }
    report.notAttempted += options.calls - call
    await client?.close().catch(() => {})
  }
  let nextSession = 0
  let sessionsDone = 0
  await Promise.all(
    Array.from({ length: options.parallel ?? 20 }, async () => {
      while (nextSession < options.sessions) {
        await session(nextSession++)
        options.onSessionDone?.(++sessionsDone)
      }
    }),
  )
  stop = true
  await faults
  await faulting
  const audit = auditTranscript(target.events().filter((event) => event.seq > fromSeq), clientErrorKeys, churnSessions)
  report.duplicated = audit.duplicated
  report.unansweredInTranscript = audit.unanswered
  report.wallMs = Math.round(performance.now() - started)
  return report
}

/**
 * Checks the transcript: every JSON-RPC request a client sent (per session and id) has at most one
 * response, and one unless the client of that session got an error.
 */
export function auditTranscript(events: readonly TranscriptEvent[], erroredSessions: Set<string>, onlySessions?: Set<string>): { requests: number; duplicated: number; unanswered: number } {
  const sessionOf = new Map<number, string>()
  const requests = new Map<string, number>()
  const responses = new Map<string, number>()
  const sessionFrom = (event: TranscriptEvent): string | undefined => {
    const headers = event.headers as Record<string, string> | undefined
    const query = typeof event.query === 'string' ? new URLSearchParams(event.query).get('sessionId') : null
    const text = typeof event.dataText === 'string' ? /sessionId=([^&\s]+)/.exec(event.dataText)?.[1] : undefined
    return headers?.['mcp-session-id'] ?? query ?? text
  }
  for (const event of events) {
    if (event.layer !== 'client' || event.exchange === undefined) continue
    const found = sessionFrom(event)
    if (found && !sessionOf.has(event.exchange)) sessionOf.set(event.exchange, found)
  }
  const messages = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value : [value]).filter((m): m is Record<string, unknown> => !!m && typeof m === 'object')
  for (const event of events) {
    if (event.layer !== 'client' || event.exchange === undefined) continue
    const session = sessionOf.get(event.exchange)
    if (!session || (onlySessions && !onlySessions.has(session))) continue
    const body = event.body ?? event.data
    for (const message of messages(body)) {
      if (message.id === undefined || message.id === null) continue
      const key = `${session} ${String(message.id)}`
      if (event.type === 'request' && typeof message.method === 'string') requests.set(key, (requests.get(key) ?? 0) + 1)
      if ((event.type === 'sse' || event.type === 'body') && message.method === undefined && ('result' in message || 'error' in message)) responses.set(key, (responses.get(key) ?? 0) + 1)
    }
  }
  let duplicated = 0
  let unanswered = 0
  for (const [key, count] of responses) if (count > 1) duplicated += count - 1
  for (const key of requests.keys()) if (!responses.has(key) && !erroredSessions.has(key.split(' ')[0]!)) unanswered++
  return { requests: requests.size, duplicated, unanswered }
}

// ---------------------------------------------------------------------------------------------
// Memory

/** RSS in bytes of a process and all its descendants, from /proc (Linux only; 0 elsewhere). */
export function treeRss(rootPid: number = process.pid): number {
  let entries: string[]
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return 0
  }
  const children = new Map<number, number[]>()
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)])
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0
  const visit = (pid: number) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
    } catch {
      return
    }
    for (const child of children.get(pid) ?? []) visit(child)
  }
  visit(rootPid)
  return total
}
