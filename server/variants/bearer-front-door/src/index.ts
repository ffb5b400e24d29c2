// KI-23: a hand-written Bearer-auth front door in front of McpAgent, without the OAuthProvider
// wrapper. Two patterns seen in such front doors, both with work that never settles:
//  1. A per-token lock ("one request per token at a time, so two initializes cannot race") that is
//     released when a response body has been sent. The GET stream McpAgent keeps open after
//     `initialize` is never "sent", so the lock stays held: the next POST to /mcp waits forever and
//     the GET carries a waitUntil task that never settles. Production cancels both after the
//     IoContext's inactivity timeout: "IoContext timed out due to inactivity, waitUntil tasks were
//     cancelled", and the client sees its GET and POST to /mcp cancelled.
//  2. Usage reports batched in `ctx.waitUntil` for a minute after the session ends (DELETE /mcp),
//     longer than production lets waitUntil run after the response (30 s): the report is cancelled.
import { ReferenceMcp } from '../../../src/reference-mcp'
import type { Env as ReferenceEnv } from '../../../src/env'

export { ReferenceMcp }

interface Env extends ReferenceEnv {
  API_TOKEN: string
  USAGE_URL?: string
}

const mcp = ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' })
const USAGE_BATCH_WINDOW_MS = 60_000

/** Tail of each token's lock chain: a request waits for the previous holder, then holds it. */
const tokenLocks = new Map<string, Promise<void>>()

async function acquireTokenLock(token: string): Promise<() => void> {
  const previous = tokenLocks.get(token) ?? Promise.resolve()
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  tokenLocks.set(token, previous.then(() => held))
  await previous
  return release
}

/** Releases the lock once the body has been sent; keeps the Worker alive until then. */
function holdTokenLockUntilSent(response: Response, release: () => void, ctx: ExecutionContext): Response {
  if (!response.body) {
    release()
    return response
  }
  let sent!: () => void
  const done = new Promise<void>((resolve) => (sent = resolve))
  // `flush` runs when the body ends normally: a stream that stays open, or is cancelled, never gets here.
  const body = response.body.pipeThrough(new TransformStream({ flush: () => sent() }))
  ctx.waitUntil(done.then(release))
  return new Response(body, response)
}

async function reportSessionEnd(env: Env, sessionId: string | null): Promise<void> {
  // Batch with other sessions ending within the window, then send once.
  await scheduler.wait(USAGE_BATCH_WINDOW_MS)
  if (env.USAGE_URL) await fetch(env.USAGE_URL, { method: 'POST', body: JSON.stringify({ sessionId, endedAt: Date.now() }) })
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname !== '/mcp') return new Response('Not found', { status: 404 })
    const authorization = request.headers.get('authorization') ?? ''
    const token = authorization.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : ''
    if (!token || token !== env.API_TOKEN) return new Response('Unauthorized', { status: 401, headers: { 'www-authenticate': 'Bearer' } })
    if (request.method === 'DELETE') ctx.waitUntil(reportSessionEnd(env, request.headers.get('mcp-session-id')))
    const release = await acquireTokenLock(token)
    let response: Response
    try {
      response = await mcp.fetch(request, env, ctx)
    } catch (error) {
      release()
      throw error
    }
    return holdTokenLockUntilSent(response, release, ctx)
  },
} satisfies ExportedHandler<Env>
