import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import type { TranscriptEvent } from '../../emulator/index.ts'
import { INACTIVITY_MESSAGE, WAIT_UNTIL_MESSAGE } from '../../emulator/plugins/io-context.ts'
import { connectClient } from '../helpers/clients.ts'

// Production limits scaled by 0.01: 70 s of inactivity -> 700 ms, 30 s of waitUntil -> 300 ms.
const SCALE = 0.01
const BEARER_CONFIG = 'server/variants/bearer-front-door/wrangler.jsonc'
const AUTH = { authorization: 'Bearer local-test-token' }

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: BEARER_CONFIG, timeouts: { scale: SCALE } })
})
afterAll(() => emulator?.dispose())

const harness = (type: string) => (event: TranscriptEvent) => event.layer === 'harness' && event.type === type
const requestOf = (exchange: unknown) => emulator.transcript.events.find((event) => event.layer === 'client' && event.type === 'request' && event.exchange === exchange)

// Runs first: KI-23 leaves the token's lock held for good, as it would in a production isolate.
describe('waitUntil after the response', () => {
  test('cancels a waitUntil task still pending 30 s (scaled) after the response, naming it', async () => {
    const init = await emulator.fetch('/mcp', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }),
    })
    expect(init.status).toBe(200)
    const sessionId = init.headers.get('mcp-session-id')
    await init.text()
    const sentAt = performance.now()
    // Ending the session schedules a usage report batched for 60 s in ctx.waitUntil.
    const deleted = await emulator.fetch('/mcp', { method: 'DELETE', headers: { ...AUTH, 'mcp-session-id': sessionId ?? '', 'mcp-protocol-version': '2025-11-25' } })
    await deleted.arrayBuffer()
    const event = await emulator.transcript.waitFor(harness('timeout:waitUntil'), 3_000)
    const afterMs = performance.now() - sentAt
    expect(event.message).toBe(WAIT_UNTIL_MESSAGE)
    expect(event.limitMs).toBe(300)
    expect(afterMs).toBeGreaterThanOrEqual(250)
    expect((event.pending as { name: string }[]).map((task) => task.name).join(' ')).toMatch(/fetch/)
    expect(event.request).toBe('DELETE /mcp')
  })
})

describe('KI-23: custom Bearer front door, pending work that never settles', () => {
  test('KI-23: the GET and POST to /mcp are cancelled with "IoContext timed out due to inactivity" naming the pending work', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: AUTH })
    // The handshake succeeded; the client's GET stream now holds the front door's per-token lock.
    const listed = client.client.listTools().then(
      () => 'answered',
      (error: Error) => `failed: ${error.message}`,
    )
    // How fast this fails is a timing claim (bench territory); here: it fails instead of hanging.
    expect(await listed).toMatch(/^failed: /)

    // Both requests time out, each after the scaled inactivity limit of its own IoContext.
    const timedOut = (request: string) => (event: TranscriptEvent) => harness('timeout:inactivity')(event) && event.request === request
    const timeouts = await Promise.all(['GET /mcp', 'POST /mcp'].map((request) => emulator.transcript.waitFor(timedOut(request), 3_000)))
    for (const event of timeouts) expect(event.message).toBe(INACTIVITY_MESSAGE)
    expect(timeouts.map((event) => (requestOf(event.exchange) as { method?: string })?.method)).toEqual(['GET', 'POST'])
    // The transcript names what was pending: the POST's handler, stuck behind the lock; the GET's lock-release task.
    const pending = timeouts.flatMap((event) => (event.pending as { kind: string; name: string }[]).map((task) => `${task.kind}: ${task.name}`))
    expect(pending.some((name) => name.startsWith('handler: fetch handler for POST /mcp'))).toBe(true)
    expect(pending.some((name) => name.startsWith('waitUntil: holdTokenLockUntilSent'))).toBe(true)
    // What the client saw: both requests ended by the platform, not answered (a streamed GET's end is recorded as its stream unwinds).
    const ended = (exchange: unknown) => (event: TranscriptEvent) => event.layer === 'client' && event.type === 'end' && event.exchange === exchange
    const ends = await Promise.all(timeouts.map((event) => emulator.transcript.waitFor(ended(event.exchange), 3_000)))
    expect(ends.map((event) => event.reason)).toEqual(['timeout:inactivity', 'timeout:inactivity'])
    // Production's text is in the Worker's log, where `wrangler tail` shows it.
    const logs = () => emulator.transcript.filter({ layer: 'harness', type: 'worker-log' }).map((event) => String(event.line))
    await emulator.transcript.waitFor((event) => event.type === 'worker-log' && String(event.line).includes(INACTIVITY_MESSAGE), 2_000).catch(() => undefined)
    expect(logs().filter((line) => line.includes(INACTIVITY_MESSAGE)).length).toBeGreaterThan(0)
    await client.close().catch(() => {})
  })

  test('KI-23: from then on, a new initialize with the same token fails: the lock it waits on belongs to a request that has ended', async () => {
    // The cancelled GET never released the token's lock: every reconnect (a new client, Inspector's
    // "Connect" again) waits on a promise created by that ended request. Measured on workerd
    // 1.20261117 (the runtime of wrangler 4.164): with `handle_cross_request_promise_resolution`
    // (on for this compatibility date) the wait throws at once (the client gets production's 500 "error code: 1101", the transcript the cause); older
    // runtimes left it pending until production cancelled it for inactivity.
    const retry = await connectClient(emulator.url, { transport: 'streamable-http', headers: AUTH }).then(
      () => 'connected',
      (error: Error) => `failed: ${error.message}`,
    )
    expect(retry).toMatch(/^failed: /)
    const initialize = emulator.transcript.events.filter((event) => event.layer === 'client' && event.type === 'request' && (event.body as { method?: string } | undefined)?.method === 'initialize').at(-1)
    const outcome = await emulator.transcript.waitFor(
      (event) => (event.layer === 'client' && event.type === 'response' && event.exchange === initialize?.exchange) || (harness('timeout:inactivity')(event) && event.exchange === initialize?.exchange),
      5_000,
    )
    if (outcome.layer === 'client') {
      // The Worker threw: the client sees production's 1101, the transcript the cause.
      expect(outcome.status).toBe(500)
      expect(retry).toMatch(/error code: 1101/)
      const thrown = await emulator.transcript.waitFor((event) => event.layer === 'harness' && event.type === 'uncaught-exception', 2_000)
      expect(String(thrown.message)).toMatch(/created by a request that has since ended/)
    } else {
      expect(outcome).toMatchObject({ request: 'POST /mcp', message: INACTIVITY_MESSAGE })
    }
  })

  test('KI-23: the same front door without the timeouts model hangs instead of failing', async () => {
    // Control: standalone workerd enforces no inactivity limit, so the POST is still pending 1.5 s later.
    const bare = await createEmulator({ config: BEARER_CONFIG })
    try {
      const client = await connectClient(bare.url, { transport: 'streamable-http', headers: AUTH })
      const result = await Promise.race([
        client.client.listTools().then(() => 'answered', () => 'failed'),
        new Promise((resolve) => setTimeout(() => resolve('still pending'), 1_500)),
      ])
      expect(result).toBe('still pending')
      expect(bare.transcript.events.filter(harness('timeout:inactivity'))).toEqual([])
      await client.close().catch(() => {})
    } finally {
      await bare.dispose()
    }
  })
})
