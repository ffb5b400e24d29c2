import { randomBytes, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import type { Emulator } from '../emulator.ts'
import { HarnessError, isHarnessError, type HarnessErrorCode } from '../../core/errors.ts'
import { parseOptions } from '../../core/zod-error.ts'
import { resolveInside } from '../../core/paths.ts'
import { leaveIdleConnectionsToClients } from '../../core/http-server.ts'
import type { HopFault, HopFaultHandle } from '../plugins/hop-faults.ts'
import {
  CassetteSaveRequestSchema,
  CONTROL_API_VERSION,
  CONTROL_PREFIX,
  CrashRequestSchema,
  EvictRequestSchema,
  FaultsRequestSchema,
  TranscriptQuerySchema,
  type CassetteSaveRequest,
} from './schema.ts'

/** Options of `startControlPlane`. */
export const ControlPlaneOptionsSchema = z
  .object({
    /** Loopback only: the control plane can evict, crash and read the transcript. */
    host: z.enum(['127.0.0.1', 'localhost', '::1']).default('127.0.0.1'),
    /** Port of the control plane; 0 takes a free one. */
    port: z.number().int().min(0).max(65535).default(0),
    /** Bearer token clients must send; a random one when omitted. */
    token: z.string().min(16, 'use at least 16 characters').optional(),
    /** The one folder `POST /v1/cassettes` writes into (paths in requests are relative to it). */
    cassettesDir: z.string().min(1).default('cassettes'),
  })
  .strict()
export type ControlPlaneOptions = z.input<typeof ControlPlaneOptionsSchema>

/**
 * What the control plane does with the help of other modules; the composition root (CLI, container)
 * passes them in, so the emulator does not import the modules that build on it.
 */
export interface ControlPlaneServices {
  /** Saves the emulator's transcript as a cassette (`POST /v1/cassettes`); `request.path` is already resolved inside the cassette folder. Without it that route answers 501. */
  saveCassette?: (emulator: Emulator, request: CassetteSaveRequest) => Promise<{ path: string; interactions: number }>
  /** Answers `GET /ui…` (the live view of `serve --ui`); the token comes in the query, as a browser cannot send the header. */
  ui?: (pathname: string, query: URLSearchParams) => { status: number; type: string; body: string }
}

/** A running control plane: the emulator's operations as JSON over HTTP on loopback. */
export interface ControlPlane {
  /** Base URL including the version prefix, e.g. `http://127.0.0.1:40123/v1/`. */
  readonly url: URL
  /** The bearer token every request must carry (`Authorization: Bearer <token>`). */
  readonly token: string
  close(): Promise<void>
}

const MAX_BODY_BYTES = 1 << 20
const FEATURES = ['health', 'urls', 'sessions', 'evict', 'crash', 'restart', 'faults', 'transcript', 'cassettes']
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

class ControlError extends Error {
  readonly status: number
  readonly code: HarnessErrorCode
  constructor(status: number, code: HarnessErrorCode, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

type Handler = (request: { query: URLSearchParams; body: () => Promise<unknown> }) => Promise<unknown>

/**
 * Serves the emulator's operations (health, URLs, evict, crash, restart, faults, transcript, cassette
 * save) as JSON on a loopback port, behind a random bearer token. API: `emulator/control/openapi.json`.
 * @example
 * const control = await startControlPlane(emulator)
 * await fetch(new URL('evict', control.url), { method: 'POST', headers: { authorization: `Bearer ${control.token}` }, body: JSON.stringify({ session }) })
 */
export async function startControlPlane(emulator: Emulator, input: ControlPlaneOptions = {}, services: ControlPlaneServices = {}): Promise<ControlPlane> {
  const options = parseOptions(ControlPlaneOptionsSchema, input, 'control plane options')
  const token = options.token ?? randomBytes(32).toString('base64url')
  const expected = Buffer.from(`Bearer ${token}`)
  let baseUrl = new URL('http://127.0.0.1/')
  const routes = buildRoutes(emulator, () => baseUrl, services, path.resolve(options.cassettesDir))

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
      res.end(JSON.stringify(body))
    }
    const fail = (status: number, code: HarnessErrorCode, message: string, headers: Record<string, string> = {}) =>
      send(status, { error: { code, message: `[mcp-harness] ${code}: ${message}` } }, headers)
    void (async () => {
      // A browser page must not reach this port through DNS rebinding: only loopback Host names pass.
      const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase()
      if (!LOOPBACK_HOSTS.has(hostName)) {
        return fail(403, 'ERR_CONTROL', `Failed to accept control request: Host "${req.headers.host ?? ''}" is not loopback. Use ${baseUrl.origin}.`)
      }
      const uiUrl = new URL(req.url ?? '/', baseUrl)
      if (services.ui && req.method === 'GET' && /^\/ui(\/|$)/.test(uiUrl.pathname)) {
        const fromQuery = Buffer.from(`Bearer ${uiUrl.searchParams.get('token') ?? ''}`)
        if (fromQuery.length !== expected.length || !timingSafeEqual(fromQuery, expected)) return fail(401, 'ERR_CONTROL', 'Failed to open the live view: missing or wrong token. Open the /ui URL printed by `mcp-harness serve --ui`.')
        const page = services.ui(uiUrl.pathname, uiUrl.searchParams)
        res.writeHead(page.status, { 'content-type': page.type, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        return void res.end(page.body)
      }
      const given = Buffer.from(req.headers.authorization ?? '')
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return fail(401, 'ERR_CONTROL', 'Failed to authorize control request: missing or wrong bearer token. Send "Authorization: Bearer <token>" with the token from the ready line ("control.token").', {
          'www-authenticate': 'Bearer realm="mcp-harness-control"',
        })
      }
      const url = new URL(req.url ?? '/', baseUrl)
      const route = url.pathname.startsWith(`${CONTROL_PREFIX}/`) ? routes[url.pathname.slice(CONTROL_PREFIX.length + 1)] : undefined
      if (!route) {
        return fail(404, 'ERR_CONTROL', `Failed to route ${req.method} ${url.pathname}: no such operation. Operations: ${Object.keys(routes).map((r) => `${CONTROL_PREFIX}/${r}`).join(', ')}.`)
      }
      const handler = route[req.method ?? 'GET']
      if (!handler) {
        return fail(405, 'ERR_CONTROL', `Failed to route ${req.method} ${url.pathname}: method not allowed. Allowed: ${Object.keys(route).join(', ')}.`, { allow: Object.keys(route).join(', ') })
      }
      try {
        const result = await handler({ query: url.searchParams, body: () => readJson(req) })
        send(200, result)
      } catch (error) {
        if (error instanceof ControlError) return fail(error.status, error.code, error.message)
        if (isHarnessError(error)) {
          const status = error.code === 'ERR_CONTROL' || error.code === 'ERR_OPTIONS' || error.code === 'ERR_PATH' ? 400 : error.code === 'ERR_UNKNOWN_SESSION' ? 404 : error.code === 'ERR_UNSUPPORTED' ? 501 : 500
          return send(status, { error: { code: error.code, message: error.message } })
        }
        fail(500, 'ERR_CONTROL', `Failed to run ${req.method} ${url.pathname}: ${(error as Error)?.message ?? String(error)}`)
      }
    })().catch(() => {
      if (!res.headersSent) fail(500, 'ERR_CONTROL', 'Failed to answer control request.')
    })
  })
  leaveIdleConnectionsToClients(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new HarnessError('ERR_PORT_IN_USE', `Failed to start the control plane: port ${options.port} is in use. Pick another port or 0 for a free one.`)
          : error,
      ),
    )
    server.listen(options.port, options.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  baseUrl = new URL(`http://${host}:${address.port}${CONTROL_PREFIX}/`)
  emulator.transcript.record({ layer: 'harness', type: 'control-plane', url: baseUrl.href })
  return {
    url: baseUrl,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function buildRoutes(emulator: Emulator, base: () => URL, services: ControlPlaneServices, cassettesDir: string): Record<string, Record<string, Handler>> {
  // Faults set over HTTP, so they can be listed and replaced; emulator.faults itself only adds and clears.
  const faults: { handle: HopFaultHandle; fault: HopFault }[] = []
  const listFaults = () => ({ faults: faults.map(({ handle, fault }) => ({ id: handle.id, fired: handle.fired, fault })) })
  const timed = async (work: () => Promise<unknown>) => {
    const started = performance.now()
    await work()
    return round(performance.now() - started)
  }
  return {
    health: { GET: async () => ({ ok: true, apiVersion: CONTROL_API_VERSION, worker: emulator.worker.name, features: FEATURES }) },
    urls: {
      GET: async () => ({
        base: emulator.url.href,
        mcp: new URL('/mcp', emulator.url).href,
        sse: new URL('/sse', emulator.url).href,
        control: base().href,
      }),
    },
    sessions: {
      GET: async () => {
        await emulator.settled()
        return { sessions: emulator.sessions() }
      },
    },
    evict: {
      POST: async ({ body }) => {
        const request = parseBody(EvictRequestSchema, await body(), 'evict')
        const session = request.session && request.transport && !request.session.includes(':') ? `${request.transport}:${request.session}` : request.session
        let evicted: string[] = []
        const ms = await timed(async () => {
          evicted = await emulator.evict({ session, webSockets: request.webSockets })
        })
        return { evicted, ms }
      },
    },
    crash: {
      POST: async ({ body }) => {
        parseBody(CrashRequestSchema, await body(), 'crash')
        return { ok: true, ms: await timed(() => emulator.crash()) }
      },
    },
    restart: { POST: async () => ({ ok: true, ms: await timed(() => emulator.restart()) }) },
    faults: {
      GET: async () => listFaults(),
      PUT: async ({ body }) => {
        const request = parseBody(FaultsRequestSchema, await body(), 'set hop faults')
        const target = emulator.faults
        for (const { handle } of faults.splice(0)) handle.remove()
        for (const fault of request.faults) faults.push({ handle: target.add(fault), fault })
        return listFaults()
      },
      DELETE: async () => {
        emulator.faults.clear()
        faults.length = 0
        return listFaults()
      },
    },
    transcript: {
      GET: async ({ query }) => {
        const filter = parseBody(TranscriptQuerySchema, Object.fromEntries(query), 'read the transcript')
        // The hop tap's reports reach Node a little after the answers: a read sees every step taken so far.
        await emulator.settled()
        // A cursor read: only the events from `since` on are looked at, not the whole transcript.
        const events = emulator.transcript
          .since(filter.since ?? 0)
          .filter((event) => (filter.layer === undefined || event.layer === filter.layer) && (filter.type === undefined || event.type === filter.type))
        return { events, next: emulator.transcript.nextSeq }
      },
      DELETE: async () => {
        // Reports of earlier traffic land before the reset, not after it.
        await emulator.settled()
        emulator.transcript.reset()
        return { ok: true }
      },
    },
    cassettes: {
      POST: async ({ body }) => {
        const request = parseBody(CassetteSaveRequestSchema, await body(), 'save a cassette')
        if (!services.saveCassette) throw new HarnessError('ERR_UNSUPPORTED', 'Failed to save a cassette: this control plane was started without the recordings module. Start it with `mcp-harness serve --control`.')
        // Only inside the cassette folder: a control client must not pick where files land.
        const file = await resolveInside(cassettesDir, request.path, 'cassette path')
        return services.saveCassette(emulator, { ...request, path: file })
      },
    },
  }
}

function parseBody<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => `${issue.path.length ? `"${issue.path.join('.')}": ` : ''}${issue.message}`).join('; ')
  throw new ControlError(400, 'ERR_CONTROL', `Failed to ${what}: ${issues}. See emulator/control/openapi.json.`)
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new ControlError(413, 'ERR_CONTROL', `Failed to read control request: body over ${MAX_BODY_BYTES} bytes.`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (!text) return {}
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ControlError(400, 'ERR_CONTROL', `Failed to parse control request: body is not JSON (${(error as Error).message}). Send a JSON object.`)
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
