import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { INACTIVITY_MESSAGE, PRODUCTION_LIMITS, resolveLimits, TimeoutsOptionsSchema, WAIT_UNTIL_MESSAGE } from './io-context.ts'

type Handler = { fetch(request: Request, env: unknown, ctx: FakeContext): Promise<Response> | Response }
type WrapDefault = (handler: Handler) => Handler
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
const platformFetch = globalThis.fetch

beforeAll(async () => {
  // The tracker reports through the platform's fetch (the outbound service in workerd); capture it.
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).startsWith('http://mcp-harness.internal/')) reports.push(JSON.parse(String(init?.body)) as Report)
    return new Response(null, { status: 204 })
  }) as typeof fetch
  const module = (await import('../workers/io-context.worker.js' as string)) as { wrapDefault: WrapDefault }
  wrapDefault = module.wrapDefault
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
