import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { FrontContext } from '../internal/front.ts'
import type { EmulatorPlugin } from './types.ts'

/** The plugin's name, and its key in the emulator options. */
export const TIMEOUTS = 'timeouts'

/**
 * Production's limits (November 2026):
 * - waitUntil: tasks still pending 30 s after the response are cancelled
 *   (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil, and
 *   https://developers.cloudflare.com/workers/platform/limits/#duration: "cancellation will be delayed
 *   until the promise has completed or until an additional 30 seconds have elapsed").
 * - inactivity: an object with pending work and no incoming events is dropped after 70-140 s
 *   (https://developers.cloudflare.com/durable-objects/concepts/durable-object-lifecycle/); the model
 *   uses the lower bound, the first moment production may cut.
 * - hibernatable WebSocket events: no default limit; only an object that calls
 *   `ctx.setHibernatableWebSocketEventTimeout(ms)` gets one, and workerd enforces it locally with
 *   production's code, so it is not modelled here (scenarios/timeouts/hibernatable-event-timeout.test.ts).
 */
export const PRODUCTION_LIMITS = { waitUntilAfterResponseMs: 30_000, inactivityMs: 70_000 } as const

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
})

export type TimeoutsOptions = z.input<typeof TimeoutsOptionsSchema>

/** The limits in force, after scaling. */
export function resolveLimits(options: z.output<typeof TimeoutsOptionsSchema>): { waitUntilMs: number; inactivityMs: number } {
  return {
    waitUntilMs: options.waitUntilAfterResponseMs ?? Math.max(1, Math.round(PRODUCTION_LIMITS.waitUntilAfterResponseMs * options.scale)),
    inactivityMs: options.inactivityMs ?? Math.max(1, Math.round(PRODUCTION_LIMITS.inactivityMs * options.scale)),
  }
}

const STAMP = 'x-mcp-harness-io'
const REPORT_HOST = 'mcp-harness.internal'
const REPORT_PATH = '/io-context'
const WORKER_SOURCE = new URL('../workers/io-context.worker.js', import.meta.url)

/** What the in-workerd tracker reports when it cancels work. */
const IoReportSchema = z.object({
  kind: z.enum(['inactivity', 'waitUntil']),
  message: z.string(),
  exchange: z.number(),
  request: z.string(),
  phase: z.string(),
  pending: z.array(z.object({ kind: z.string(), name: z.string(), ageMs: z.number().optional() })),
  limits: z.object({ waitUntilMs: z.number(), inactivityMs: z.number() }).passthrough(),
})


/**
 * Models the IoContext limits standalone workerd lacks: `waitUntil` tasks cancelled a set time after
 * the response, and an inactivity timeout that cancels a stuck request and its tasks with
 * production's message. Opt-in: pass `timeouts` (production limits) or `timeouts: { scale: 0.01 }`.
 * Records `harness` events `timeout:inactivity` and `timeout:waitUntil` naming the pending work; the
 * client of a request cancelled for inactivity sees its connection dropped, as in production.
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
        front.request.headers.set(STAMP, JSON.stringify({ exchange: front.exchange, ...limits }))
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
        exchange: report.exchange,
        request: report.request,
        message: report.message,
        phase: report.phase,
        pending: report.pending,
        limitMs: report.kind === 'inactivity' ? report.limits.inactivityMs : report.limits.waitUntilMs,
      })
      // The request's IoContext is gone: its client sees the request cancelled, not answered.
      if (report.kind === 'inactivity') open.get(report.exchange)?.cancel(`timeout:inactivity`)
      return new Response(null, { status: 204 })
    })
    // The runtime wraps the Worker's default export; named exports (Durable Object classes) stay.
    ctx.wrapEntry({ name: 'io-context', source: readFileSync(WORKER_SOURCE, 'utf8'), exportName: 'wrapDefault' })
  },
}
