import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { INACTIVITY_MESSAGE, PRODUCTION_LIMITS, resolveLimits, TimeoutsOptionsSchema, WAIT_UNTIL_MESSAGE } from './io-context.ts'

type Handler = { fetch(request: Request, env: unknown, ctx: FakeContext): Promise<Response> | Response }
type WrapDefault = (handler: Handler, limits?: Limits) => Handler
interface Limits {
  waitUntilMs: number
  inactivityMs: number
  wallMs: number
}
type WrapDurableObject = <T extends new (ctx: FakeContext, env: unknown) => object>(cls: T, limits?: Limits) => T
interface Report {
  kind: string
  message: string
  exchange: number
  request: string
  pending: { kind: string; name: string }[]
}

class FakeContext {
  readonly tasks: Promise<unknown>[] = []
  waitUntil(promise: Promise<unknown>): void {
    this.tasks.push(promise)
  }
  passThroughOnException(): void {}
}

const reports: Report[] = []
let wrapDefault: WrapDefault
let wrapDurableObject: WrapDurableObject
const platformFetch = globalThis.fetch

beforeAll(async () => {
  // The tracker reports through the platform's fetch (the outbound service in workerd); capture it.
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).startsWith('http://mcp-harness.internal/')) reports.push(JSON.parse(String(init?.body)) as Report)
    return new Response(null, { status: 204 })
  }) as typeof fetch
  const module = (await import('../workers/io-context.worker.js' as string)) as { wrapDefault: WrapDefault; wrapDurableObject: WrapDurableObject }
  wrapDefault = module.wrapDefault
  wrapDurableObject = module.wrapDurableObject
})
afterAll(() => {
  globalThis.fetch = platformFetch
})

const stamped = (exchange: number, limits = { waitUntilMs: 40, inactivityMs: 80 }) =>
  new Request('http://worker.test/mcp', { method: 'POST', headers: { 'x-mcp-harness-io': JSON.stringify({ exchange, ...limits }) } })
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('limits', () => {
  test('uses production limits by default and scales them', () => {
    expect(resolveLimits(TimeoutsOptionsSchema.parse({}))).toEqual({ waitUntilMs: PRODUCTION_LIMITS.waitUntilAfterResponseMs, inactivityMs: PRODUCTION_LIMITS.inactivityMs, wallMs: PRODUCTION_LIMITS.eventWallMs })
    expect(resolveLimits(TimeoutsOptionsSchema.parse({ scale: 0.01 }))).toEqual({ waitUntilMs: 300, inactivityMs: 700, wallMs: 9_000 })
    expect(resolveLimits(TimeoutsOptionsSchema.parse({ scale: 0.01, inactivityMs: 50, eventWallMs: 20 }))).toEqual({ waitUntilMs: 300, inactivityMs: 50, wallMs: 20 })
  })
})

describe('the in-workerd tracker', () => {
  test('leaves requests the front door did not stamp alone', async () => {
    const seen: Request[] = []
    const handler = wrapDefault({ fetch: (request) => (seen.push(request), new Response('ok')) })
    const request = new Request('http://worker.test/')
    await handler.fetch(request, {}, new FakeContext())
    expect(seen[0]).toBe(request)
  })

  test('strips the stamp before the Worker sees the request', async () => {
    const seen: Request[] = []
    const handler = wrapDefault({ fetch: (request) => (seen.push(request), new Response(null, { status: 202 })) })
    await handler.fetch(stamped(1), {}, new FakeContext())
    expect(seen[0]?.headers.has('x-mcp-harness-io')).toBe(false)
  })

  test('cancels a waitUntil task still pending after the limit and names its caller', async () => {
    const ctx = new FakeContext()
    function scheduleFlush(context: FakeContext) {
      context.waitUntil(new Promise(() => {}))
    }
    const handler = wrapDefault({
      fetch: (_request, _env, context) => {
        scheduleFlush(context)
        return new Response(null, { status: 204 })
      },
    })
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    await handler.fetch(stamped(2), {}, ctx)
    await settle(120)
    const report = reports.find((entry) => entry.exchange === 2)
    expect(report).toMatchObject({ kind: 'waitUntil', message: WAIT_UNTIL_MESSAGE, request: 'POST /mcp' })
    expect(report?.pending[0]?.name).toMatch(/^scheduleFlush /)
    // The promise workerd waits on has settled (not still pending): the platform may end the IoContext.
    const state = await Promise.race([Promise.all(ctx.tasks).then(() => 'settled'), new Promise((resolve) => setTimeout(() => resolve('pending'), 1_000))])
    expect(state).toBe('settled')
  })

  test('times out a handler with no activity, cancelling its tasks with the production message', async () => {
    const ctx = new FakeContext()
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const handler = wrapDefault({
      fetch: (_request, _env, context) => {
        context.waitUntil(new Promise(() => {}))
        return new Promise<Response>(() => {})
      },
    })
    const response = await handler.fetch(stamped(3), {}, ctx)
    expect(response.status).toBe(500)
    expect(error).toHaveBeenCalledWith(INACTIVITY_MESSAGE)
    const report = reports.find((entry) => entry.exchange === 3)
    expect(report?.kind).toBe('inactivity')
    expect(report?.pending.map((task) => task.kind)).toEqual(['handler', 'waitUntil'])
  })

  test('keeps a request whose body keeps flowing, and a task that settles in time', async () => {
    const ctx = new FakeContext()
    const handler = wrapDefault({
      fetch: (_request, _env, context) => {
        context.waitUntil(settle(20))
        let sent = 0
        const body = new ReadableStream({
          async pull(controller) {
            await settle(40)
            if (++sent > 4) controller.close()
            else controller.enqueue(new TextEncoder().encode('data: tick\n\n'))
          },
        })
        return new Response(body)
      },
    })
    const response = await handler.fetch(stamped(4), {}, ctx)
    // Five 40 ms gaps: 200 ms in all, beyond the 80 ms inactivity limit but never idle that long.
    expect(await response.text()).toBe('data: tick\n\n'.repeat(4))
    await settle(100)
    expect(reports.filter((entry) => entry.exchange === 4)).toEqual([])
  })
})

describe('Durable Object events', () => {
  const limits = { waitUntilMs: 20, inactivityMs: 80, wallMs: 150 }
  const never = () => new Promise<never>(() => {})
  class ObjectContext extends FakeContext {
    readonly id = { name: 'one', toString: () => 'abc' }
  }
  class Tools {
    calls = 0
    readonly ctx: FakeContext
    constructor(ctx: FakeContext, _env: unknown) {
      this.ctx = ctx
    }
    async stuck(): Promise<string> {
      await never()
      return 'unreachable'
    }
    async quick(): Promise<string> {
      this.calls++
      return 'quick'
    }
    count(): number {
      return ++this.calls
    }
    async fetch(): Promise<Response> {
      this.ctx.waitUntil(never())
      return new Response(null, { status: 204 })
    }
    async alarm(): Promise<void> {
      // Busy (activity) but never done: only the wall limit ends it.
      for (;;) {
        await settle(10)
        await globalThis.fetch('http://upstream.test/')
      }
    }
  }

  test('keeps the class name and leaves sync methods and their results as they are', () => {
    const Wrapped = wrapDurableObject(Tools, limits)
    expect(Wrapped.name).toBe('Tools')
    const object = new Wrapped(new ObjectContext(), {})
    expect(object.count()).toBe(1)
    expect(object).toBeInstanceOf(Tools)
  })

  test('an RPC call that never settles rejects with the inactivity error once the limit passes with no activity', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const object = new (wrapDurableObject(Tools, limits))(new ObjectContext(), {})
    const started = performance.now()
    await expect(object.stuck()).rejects.toThrow(INACTIVITY_MESSAGE)
    expect(performance.now() - started).toBeGreaterThanOrEqual(limits.inactivityMs * 0.9)
    expect(reports.at(-1)).toMatchObject({ kind: 'inactivity', request: 'RPC stuck() of Tools one' })
  })

  test('a waitUntil task left behind is cut the inactivity limit after the last event; each new event postpones it', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const ctx = new ObjectContext()
    const object = new (wrapDurableObject(Tools, limits))(ctx, {})
    const before = reports.length
    await object.fetch()
    // The platform's waitUntil got a promise that settles once the model cancels the task.
    expect(ctx.tasks).toHaveLength(1)
    await settle(50)
    expect(await object.quick()).toBe('quick')
    await settle(50)
    // 100 ms since the fetch, 50 ms since the last event: not cut yet.
    expect(reports.slice(before)).toEqual([])
    await settle(100)
    expect(reports.slice(before)).toMatchObject([{ kind: 'inactivity', entry: 'durable-object', phase: 'after-response', pending: [{ kind: 'waitUntil' }] }])
    expect(await Promise.race([ctx.tasks[0]!.then(() => 'settled'), settle(500).then(() => 'pending')])).toBe('settled')
  })

  test('a quiet response stream is not idle work: it is not cut, and neither are the leftovers while its reader is connected', async () => {
    class Streams {
      readonly ctx: FakeContext
      constructor(ctx: FakeContext) {
        this.ctx = ctx
      }
      async fetch(): Promise<Response> {
        this.ctx.waitUntil(settle(150))
        const body = new ReadableStream({
          async pull(controller) {
            await settle(200)
            controller.enqueue(new TextEncoder().encode('late'))
            controller.close()
          },
        })
        return new Response(body)
      }
    }
    const before = reports.length
    const object = new (wrapDurableObject(Streams as never, limits) as unknown as typeof Streams)(new ObjectContext())
    expect(await (await object.fetch()).text()).toBe('late')
    expect(reports.slice(before)).toEqual([])
  })

  test('an alarm still busy at its wall-clock limit is cancelled and rejects', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const object = new (wrapDurableObject(Tools, limits))(new ObjectContext(), {})
    const started = performance.now()
    await expect(object.alarm()).rejects.toThrow(/wall-clock limit \(150 ms here\)/)
    expect(performance.now() - started).toBeGreaterThanOrEqual(limits.wallMs * 0.9)
    expect(reports.at(-1)).toMatchObject({ kind: 'wall', entry: 'durable-object', request: 'alarm of Tools one' })
  })
})

describe('scheduled and queue handlers', () => {
  const limits = { waitUntilMs: 20, inactivityMs: 1_000, wallMs: 60 }
  test('a scheduled handler past its wall limit rejects; an object export keeps its this', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const handlers = {
      runs: 0,
      fetch: () => new Response('ok'),
      async scheduled(this: { runs: number }) {
        this.runs++
        await new Promise(() => {})
      },
    }
    const wrapped = wrapDefault(handlers as unknown as Handler, limits) as unknown as { scheduled(event: unknown, env: unknown, ctx: FakeContext): Promise<void> }
    await expect(wrapped.scheduled({ cron: 'nightly' }, {}, new FakeContext())).rejects.toThrow(/scheduled handler for cron nightly ran past its wall-clock limit/)
    expect(handlers.runs).toBe(1)
    expect(reports.at(-1)).toMatchObject({ kind: 'wall', entry: 'scheduled', request: 'cron nightly' })
  })

  test('a queue handler that finishes keeps its result; its leftover waitUntil is cut after the limit', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const ctx = new FakeContext()
    const wrapped = wrapDefault({ fetch: () => new Response('ok'), queue: async (_batch: unknown, _env: unknown, context: FakeContext) => context.waitUntil(new Promise(() => {})) } as unknown as Handler, limits) as unknown as {
      queue(batch: unknown, env: unknown, ctx: FakeContext): Promise<void>
    }
    await wrapped.queue({ queue: 'jobs', messages: [{}] }, {}, ctx)
    await settle(80)
    expect(reports.at(-1)).toMatchObject({ kind: 'waitUntil', entry: 'queue', request: 'queue jobs (1 messages)' })
  })
})
