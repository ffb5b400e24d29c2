import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { FrontContext } from '../internal/front.ts'
import type { EmulatorPlugin } from './types.ts'

/** The plugin's name, and its key in the emulator options. */
export const TIMEOUTS = 'timeouts'

/**
 * Production's limits (November 2026), the one place the model takes them from:
 * - waitUntil after a Worker's invocation (fetch response sent, scheduled/queue handler finished):
 *   tasks still pending 30 s later are cancelled
 *   (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil, and
 *   https://developers.cloudflare.com/workers/platform/limits/#duration: "cancellation will be delayed
 *   until the promise has completed or until an additional 30 seconds have elapsed").
 * - inactivity: an IoContext with pending work and no activity is cut with "IoContext timed out due
 *   to inactivity"; a Durable Object "will remain active for at least 70 seconds after the last
 *   client disconnects if [it] is still waiting on any ongoing work or outbound I/O", and is dropped
 *   70-140 s after its last event (https://developers.cloudflare.com/durable-objects/api/state/#waituntil,
 *   https://developers.cloudflare.com/durable-objects/concepts/durable-object-lifecycle/). The model
 *   uses the lower bound, the first moment production may cut, for Worker invocations and for every
 *   Durable Object event (fetch, RPC, alarm, WebSocket), and cuts a Durable Object's leftover
 *   `waitUntil` tasks that long after its last event ended (in a Durable Object waitUntil has no
 *   30 s rule of its own: the object's lifetime bounds it).
 * - wall clock of event invocations: Cron Triggers, Queue consumers and Durable Object alarms run
 *   at most 15 minutes (https://developers.cloudflare.com/workers/platform/limits/#duration,
 *   https://developers.cloudflare.com/queues/platform/limits/ "Consumer duration (wall clock time)
 *   15 minutes"); a fetch has no wall limit while its client stays connected.
 * - CPU time (30 s default per invocation) is not modelled: JavaScript cannot interrupt a busy loop
 *   from inside the isolate.
 * - hibernatable WebSocket events: no default limit; only an object that calls
 *   `ctx.setHibernatableWebSocketEventTimeout(ms)` gets one, and workerd enforces it locally with
 *   production's code, so it is not modelled here (scenarios/timeouts/hibernatable-event-timeout.test.ts).
 */
export const PRODUCTION_LIMITS = { waitUntilAfterResponseMs: 30_000, inactivityMs: 70_000, eventWallMs: 15 * 60_000 } as const

/** The production texts the model prints (Worker log) and records. */
export const INACTIVITY_MESSAGE = 'IoContext timed out due to inactivity, waitUntil tasks were cancelled'
export const WAIT_UNTIL_MESSAGE = 'waitUntil() tasks did not complete within the allowed time after invocation end and have been cancelled.'

export const TimeoutsOptionsSchema = z.object({
  /** Multiplies every production limit; `0.01` turns 70 s of inactivity into 700 ms. */
  scale: z.number().positive().max(1).default(1),
  /** How long `waitUntil` tasks may run after the response finished (default: production's 30 s, scaled). */
  waitUntilAfterResponseMs: z.number().int().positive().optional(),
  /** How long an IoContext with pending work may go without activity (default: production's 70 s, scaled). */
  inactivityMs: z.number().int().positive().optional(),
  /** How long a scheduled, queue or alarm handler may run (default: production's 15 min, scaled). */
  eventWallMs: z.number().int().positive().optional(),
})

export type TimeoutsOptions = z.input<typeof TimeoutsOptionsSchema>

/** The limits in force, after scaling. */
export function resolveLimits(options: z.output<typeof TimeoutsOptionsSchema>): { waitUntilMs: number; inactivityMs: number; wallMs: number } {
  const scaled = (ms: number) => Math.max(1, Math.round(ms * options.scale))
  return {
    waitUntilMs: options.waitUntilAfterResponseMs ?? scaled(PRODUCTION_LIMITS.waitUntilAfterResponseMs),
    inactivityMs: options.inactivityMs ?? scaled(PRODUCTION_LIMITS.inactivityMs),
    wallMs: options.eventWallMs ?? scaled(PRODUCTION_LIMITS.eventWallMs),
  }
}

const STAMP = 'x-mcp-harness-io'
const REPORT_HOST = 'mcp-harness.internal'
const REPORT_PATH = '/io-context'
const WORKER_SOURCE = new URL('../workers/io-context.worker.js', import.meta.url)

/** What the in-workerd tracker reports when it cancels work. */
const IoReportSchema = z.object({
  kind: z.enum(['inactivity', 'waitUntil', 'wall']),
  /** The handler the limit cut: a front-door fetch, the Worker's scheduled/queue, or a Durable Object's event. */
  entry: z.enum(['fetch', 'scheduled', 'queue', 'durable-object']).default('fetch'),
  message: z.string(),
  exchange: z.number().optional(),
  request: z.string(),
  phase: z.string(),
  pending: z.array(z.object({ kind: z.string(), name: z.string(), ageMs: z.number().optional() })),
  limits: z.object({ waitUntilMs: z.number(), inactivityMs: z.number(), wallMs: z.number().optional() }).passthrough(),
})


/**
 * Models the IoContext limits standalone workerd lacks, for every entry point: the Worker's fetch,
 * scheduled and queue handlers and every event of its Durable Objects (fetch, RPC, alarm, WebSocket).
 * `waitUntil` tasks are cancelled a set time after the invocation, an inactivity timeout cancels a
 * stuck handler and its tasks with production's message, and scheduled/queue/alarm handlers are cut
 * at their wall-clock limit. Opt-in: pass `timeouts` (production limits) or `timeouts: { scale: 0.01 }`.
 * Records `harness` events `timeout:inactivity`, `timeout:waitUntil` and `timeout:wall` (with `entry`)
 * naming the pending work. What callers observe: the client of a front-door request cancelled for
 * inactivity sees its connection dropped; a Durable Object call cut by the model rejects in the
 * Worker with the inactivity error; a cut scheduled or queue handler fails (a queue batch is retried).
 * @example createEmulator({ config, timeouts: { scale: 0.01 } })
 */
export const timeoutsPlugin: EmulatorPlugin<z.ZodOptional<typeof TimeoutsOptionsSchema>> = {
  name: TIMEOUTS,
  options: TimeoutsOptionsSchema.optional(),
  async setup(ctx, options) {
    if (!options) return
    const limits = resolveLimits(options)
    const open = new Map<number, FrontContext>()
    ctx.transcript.on((event) => {
      if (event.layer === 'client' && event.type === 'end' && typeof event.exchange === 'number') open.delete(event.exchange)
    })
    ctx.addMiddleware({
      name: TIMEOUTS,
      onRequest(front) {
        open.set(front.exchange, front)
        front.headers.set(STAMP, JSON.stringify({ exchange: front.exchange, ...limits }))
        return undefined
      },
    })
    ctx.addOutboundHandler(async (request) => {
      const url = new URL(request.url)
      if (url.hostname !== REPORT_HOST || url.pathname !== REPORT_PATH) return undefined
      const report = IoReportSchema.parse(await request.json())
      ctx.transcript.record({
        layer: 'harness',
        type: `timeout:${report.kind}`,
        entry: report.entry,
        ...(report.exchange === undefined ? {} : { exchange: report.exchange }),
        request: report.request,
        message: report.message,
        phase: report.phase,
        pending: report.pending,
        limitMs: report.kind === 'inactivity' ? report.limits.inactivityMs : report.kind === 'wall' ? report.limits.wallMs : report.limits.waitUntilMs,
      })
      // The request's IoContext is gone: its client sees the request cancelled, not answered.
      if (report.kind === 'inactivity' && report.entry === 'fetch' && report.exchange !== undefined) open.get(report.exchange)?.cancel(`timeout:inactivity`)
      return new Response(null, { status: 204 })
    })
    // The runtime wraps the Worker's default export and each local Durable Object class; the limits
    // of invocations the front door cannot stamp (events, objects) are compiled in.
    const source = `const MODEL_LIMITS = ${JSON.stringify(limits)}\n${readFileSync(WORKER_SOURCE, 'utf8')}`
    ctx.wrapEntry({ name: 'io-context', source, exportName: 'wrapDefault', durableObjectExportName: 'wrapDurableObject' })
  },
}
