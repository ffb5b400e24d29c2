// Issue 11 item 5: the IoContext model covers Durable Object events (where McpAgent tools run) and the
// Worker's scheduled and queue handlers, with the limits production documents (PRODUCTION_LIMITS in
// emulator/plugins/io-context.ts), scaled. Each test checks when the cut happens and what the caller sees.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { createEmulator, type Emulator, type TranscriptEvent } from '../../emulator/index.ts'
import { INACTIVITY_MESSAGE, PRODUCTION_LIMITS, WAIT_UNTIL_MESSAGE } from '../../emulator/plugins/io-context.ts'
import { connectClient } from '../helpers/clients.ts'

const CONFIG = 'scenarios/fixtures/io-entry-points/wrangler.jsonc'
const timeout = (type: string, entry: string) => (event: TranscriptEvent) => event.layer === 'harness' && event.type === type && event.entry === entry
// Timers fire a little early or late under load: allow 5 % below the limit (never an upper bound).
const atLeast = (limitMs: number) => limitMs * 0.95

describe('Durable Object events (scale 0.01: 70 s of inactivity become 700 ms)', () => {
  const SCALE = 0.01
  const INACTIVITY = PRODUCTION_LIMITS.inactivityMs * SCALE
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: CONFIG, timeouts: { scale: SCALE } })
  })
  afterAll(() => emulator?.dispose())

  test('a waitUntil task a Durable Object leaves behind after answering is cancelled 70 s (scaled) after its last event, not 30 s', async () => {
    const sent = performance.now()
    const response = await emulator.fetch('/do/answer-then-flush?object=flush-1')
    // The caller gets its answer at once: waitUntil does not hold the response.
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('answered')
    const answeredAfter = performance.now() - sent
    const event = await emulator.transcript.waitFor(timeout('timeout:inactivity', 'durable-object'), 10_000)
    const cutAfter = performance.now() - sent
    expect(event).toMatchObject({ message: INACTIVITY_MESSAGE, limitMs: INACTIVITY, phase: 'after-response' })
    expect((event.pending as { kind: string; name: string }[]).map((task) => task.kind)).toEqual(['waitUntil'])
    expect(String((event.pending as { name: string }[])[0]?.name)).toMatch(/fetch/)
    // When: no earlier than the object's inactivity limit after the request, and later than a
    // Worker's 30 s waitUntil rule would have cut it after the answer (workerd's clock stands still
    // while an event runs, so its timers may count from a moment before the answer reached us).
    expect(cutAfter).toBeGreaterThanOrEqual(atLeast(INACTIVITY))
    expect(cutAfter - answeredAfter).toBeGreaterThan(PRODUCTION_LIMITS.waitUntilAfterResponseMs * SCALE)
  })

  test('a new event for the object postpones the cut of its leftover waitUntil task', async () => {
    const first = performance.now()
    await (await emulator.fetch('/do/answer-then-flush?object=flush-2')).text()
    // Half-way through the limit another request reaches the same object: production keeps it.
    await new Promise((resolve) => setTimeout(resolve, INACTIVITY / 2))
    const second = performance.now()
    expect(await (await emulator.fetch('/rpc/ping?object=flush-2')).text()).toBe('pong')
    await emulator.transcript.waitFor((event) => timeout('timeout:inactivity', 'durable-object')(event) && event.request === 'Tools flush-2', 10_000)
    const cutAt = performance.now()
    expect(cutAt - second).toBeGreaterThanOrEqual(atLeast(INACTIVITY))
    expect(cutAt - first).toBeGreaterThanOrEqual(atLeast(INACTIVITY * 1.5))
  })

  test('a tool in the object that never finishes is cancelled after the inactivity limit, and the Worker gets production\'s 1101 instead of a hang', async () => {
    const sent = performance.now()
    const response = await emulator.fetch('/do/stuck-tool?object=stuck-fetch')
    const after = performance.now() - sent
    // What the client sees: the Worker's stub.fetch rejected, the Worker threw, production answers 1101.
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('error code: 1101')
    expect(after).toBeGreaterThanOrEqual(atLeast(INACTIVITY))
    const event = emulator.transcript.events.find((e) => timeout('timeout:inactivity', 'durable-object')(e) && String(e.request).startsWith('fetch of Tools stuck-fetch'))
    expect(event).toMatchObject({ message: INACTIVITY_MESSAGE, phase: 'handler' })
  })

  test('an RPC call to a tool that never finishes rejects in the Worker with the inactivity error after the limit', async () => {
    const sent = performance.now()
    const response = await emulator.fetch('/rpc/stuck-tool?object=stuck-rpc')
    const after = performance.now() - sent
    expect(response.status).toBe(504)
    expect(await response.json()).toEqual({ rejected: INACTIVITY_MESSAGE })
    expect(after).toBeGreaterThanOrEqual(atLeast(INACTIVITY))
    expect(emulator.transcript.events.some((e) => timeout('timeout:inactivity', 'durable-object')(e) && e.request === 'RPC stuckTool() of Tools stuck-rpc')).toBe(true)
  })

  test('a hibernatable webSocketMessage handler that never finishes is cut after the inactivity limit; the socket stays open and later messages are answered', async () => {
    const socket = new WebSocket(new URL('/do/ws?object=sockets', emulator.url.href.replace('http', 'ws')))
    const received: string[] = []
    socket.on('message', (data) => received.push(data.toString()))
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    try {
      const sent = performance.now()
      socket.send('stuck')
      const event = await emulator.transcript.waitFor((e) => timeout('timeout:inactivity', 'durable-object')(e) && e.request === 'webSocketMessage of Tools sockets', 10_000)
      expect(performance.now() - sent).toBeGreaterThanOrEqual(atLeast(INACTIVITY))
      expect(event).toMatchObject({ phase: 'handler', pending: [{ kind: 'handler', name: 'webSocketMessage of Tools sockets (not finished)' }] })
      // What the client sees: no answer to the stuck message, the connection still open and serving.
      socket.send('after')
      for (let waited = 0; waited < 5_000 && !received.includes('echo: after'); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(received).toEqual(['echo: after'])
      expect(socket.readyState).toBe(WebSocket.OPEN)
    } finally {
      socket.terminate()
    }
  })

  test('an object whose work settles in time is left alone', async () => {
    const before = emulator.transcript.events.length
    expect(await (await emulator.fetch('/rpc/ping?object=quiet')).text()).toBe('pong')
    await new Promise((resolve) => setTimeout(resolve, INACTIVITY * 2))
    expect(emulator.transcript.events.slice(before).filter((e) => e.layer === 'harness' && String(e.type).startsWith('timeout:'))).toEqual([])
  })
})

describe('scheduled, queue and alarm handlers (scale 0.001: the 15 min wall limit becomes 900 ms, waitUntil\'s 30 s 30 ms)', () => {
  const SCALE = 0.001
  const WALL = PRODUCTION_LIMITS.eventWallMs * SCALE
  const WAIT_UNTIL = PRODUCTION_LIMITS.waitUntilAfterResponseMs * SCALE
  let emulator: Emulator
  beforeAll(async () => {
    // Inactivity kept long so that the wall-clock limit is what cuts the stuck handlers.
    emulator = await createEmulator({ config: CONFIG, timeouts: { scale: SCALE, inactivityMs: 60_000 } })
  })
  afterAll(() => emulator?.dispose())

  test('a scheduled handler still running at its 15 min (scaled) wall-clock limit is cancelled and the run fails', async () => {
    const worker = await emulator.miniflare.getWorker()
    const sent = performance.now()
    const result = await worker.scheduled({ cron: 'stuck' })
    const after = performance.now() - sent
    expect(result.outcome).toBe('exception')
    expect(after).toBeGreaterThanOrEqual(atLeast(WALL))
    const event = await emulator.transcript.waitFor(timeout('timeout:wall', 'scheduled'), 5_000)
    expect(event).toMatchObject({ request: 'cron stuck', limitMs: WALL })
  })

  test('a scheduled handler that finishes in time succeeds, and its forgotten waitUntil task is cancelled 30 s (scaled) after it', async () => {
    const worker = await emulator.miniflare.getWorker()
    const sent = performance.now()
    const result = await worker.scheduled({ cron: 'forgotten-task' })
    expect(result.outcome).toBe('ok')
    const event = await emulator.transcript.waitFor(timeout('timeout:waitUntil', 'scheduled'), 5_000)
    expect(performance.now() - sent).toBeGreaterThanOrEqual(atLeast(WAIT_UNTIL))
    expect(event).toMatchObject({ message: WAIT_UNTIL_MESSAGE, request: 'cron forgotten-task', limitMs: WAIT_UNTIL })
  })

  test('a queue consumer still running at its 15 min (scaled) wall-clock limit is cancelled, and the invocation fails without acknowledging its message', async () => {
    const worker = await emulator.miniflare.getWorker()
    const sent = performance.now()
    const result = await worker.queue('jobs', [{ id: 'm-1', timestamp: new Date(), body: { kind: 'stuck' }, attempts: 1 }])
    const after = performance.now() - sent
    // What the queue sees: the invocation failed without acknowledging the message, so the batch is retried.
    expect(result.outcome).toBe('exception')
    expect(result.explicitAcks).toEqual([])
    expect(after).toBeGreaterThanOrEqual(atLeast(WALL))
    const event = await emulator.transcript.waitFor(timeout('timeout:wall', 'queue'), 5_000)
    expect(event).toMatchObject({ request: 'queue jobs (1 messages)', limitMs: WALL })
  })

  test('a Durable Object alarm still running at its 15 min (scaled) wall-clock limit is cancelled, and the alarm is retried as production retries a failed one', async () => {
    const sent = performance.now()
    expect((await emulator.fetch('/do/stuck-alarm?object=alarm-1')).status).toBe(202)
    const event = await emulator.transcript.waitFor(timeout('timeout:wall', 'durable-object'), 10_000)
    expect(performance.now() - sent).toBeGreaterThanOrEqual(atLeast(WALL))
    expect(event).toMatchObject({ request: 'alarm of Tools alarm-1', limitMs: WALL })
    // What the caller (the alarm scheduler) saw: a failed run, retried with retryCount 1.
    let runs: number[] = []
    for (let waited = 0; waited < 20_000 && runs.length < 2; waited += 250) {
      runs = (await (await emulator.fetch('/do/alarm-runs?object=alarm-1')).json()) as number[]
      if (runs.length < 2) await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(runs).toEqual([0, 1])
  }, 30_000)

  test('a message sent through the producer binding whose consumer is cut at the wall limit is delivered again, as production retries an unacknowledged batch', async () => {
    const before = emulator.transcript.events.filter(timeout('timeout:wall', 'queue')).length
    const attemptsSoFar = async () => ((await (await emulator.fetch('/')).json()) as { queueAttempts: number[] }).queueAttempts
    const earlier = (await attemptsSoFar()).length
    expect((await emulator.fetch('/send?kind=stuck')).status).toBe(202)
    // max_retries 1: the first delivery is cut, the retry is cut too, then the queue gives up.
    let attempts: number[] = []
    for (let waited = 0; waited < 20_000 && attempts.length < 2; waited += 250) {
      attempts = (await attemptsSoFar()).slice(earlier)
      if (attempts.length < 2) await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(attempts).toEqual([1, 2])
    await emulator.transcript.waitFor(() => emulator.transcript.events.filter(timeout('timeout:wall', 'queue')).length >= before + 2, 10_000)
  }, 40_000)

  test('a queue consumer that acknowledges in time succeeds, and its forgotten waitUntil task is cancelled after 30 s (scaled)', async () => {
    const worker = await emulator.miniflare.getWorker()
    const result = await worker.queue('jobs', [{ id: 'm-2', timestamp: new Date(), body: { kind: 'forgotten-task' }, attempts: 1 }])
    expect(result.outcome).toBe('ok')
    expect(result.explicitAcks).toEqual(['m-2'])
    expect(await emulator.transcript.waitFor(timeout('timeout:waitUntil', 'queue'), 5_000)).toMatchObject({ message: WAIT_UNTIL_MESSAGE })
  })
})

describe('an McpAgent session object (KI-32 variant: a waitUntil batch flush that never settles)', () => {
  const SCALE = 0.01
  const INACTIVITY = PRODUCTION_LIMITS.inactivityMs * SCALE
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: 'server/variants/waits-until/wrangler.jsonc', timeouts: { scale: SCALE } })
  })
  afterAll(() => emulator?.dispose())

  test("the session's leftover waitUntil is cut 70 s (scaled) after the object's last event, naming its caller, and the session keeps working", async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    try {
      // The call's event at the object (its upgrade fetch) starts after this moment: the cut comes at least the limit later.
      const lastCall = performance.now()
      expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
      const event = await emulator.transcript.waitFor((e) => timeout('timeout:inactivity', 'durable-object')(e) && JSON.stringify(e.pending).includes('startBatch'), 10_000)
      expect(performance.now() - lastCall).toBeGreaterThanOrEqual(atLeast(INACTIVITY))
      expect(event).toMatchObject({ message: INACTIVITY_MESSAGE, phase: 'after-response', request: expect.stringMatching(/^WaitsUntilMcp /) })
      // What the client sees: nothing broke; its next call is answered (production drops only the flush).
      expect(await client.text('add', { a: 1, b: 1 })).toBe('2')
    } finally {
      await client.close()
    }
  })
})

test('control: without the timeouts model the same stuck RPC tool and stuck scheduled run hang, as under wrangler dev', async () => {
  const bare = await createEmulator({ config: CONFIG })
  try {
    const pending = (promise: Promise<unknown>) => Promise.race([promise.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(() => resolve('still pending'), 1_500))])
    expect(await pending(bare.fetch('/rpc/stuck-tool?object=control'))).toBe('still pending')
    const worker = await bare.miniflare.getWorker()
    expect(await pending(worker.scheduled({ cron: 'stuck' }))).toBe('still pending')
    expect(bare.transcript.events.filter((event) => event.layer === 'harness' && String(event.type).startsWith('timeout:'))).toEqual([])
  } finally {
    await bare.dispose()
  }
}, 30_000)
