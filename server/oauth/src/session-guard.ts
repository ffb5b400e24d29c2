import type { OAuthEnv } from './env'
import type { UserProps } from './upstreams'

type Handler = { fetch(request: Request, env: OAuthEnv, ctx: ExecutionContext): Promise<Response> | Response }

/** How long an ownership record outlives the session's last claim (a week). */
const OWNER_TTL_S = 7 * 24 * 3600

const notFound = () =>
  new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }), {
    status: 404,
    headers: { 'content-type': 'application/json' },
  })

function sessionOf(request: Request): string | undefined {
  const header = request.headers.get('mcp-session-id')
  if (header) return `streamable-http:${header}`
  const query = new URL(request.url).searchParams.get('sessionId')
  return query ? `sse:${query}` : undefined
}

/** Reads the SSE stream's first `endpoint` event for the session id McpAgent chose. */
async function sseSessionId(stream: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < 8_192) {
      const { value, done } = await reader.read()
      if (done) return undefined
      text += decoder.decode(value, { stream: true })
      const id = /sessionId=([^&\s"]+)/.exec(text)?.[1]
      if (id) return id
    }
    return undefined
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/**
 * KI-26 guard: McpAgent binds props when a session's Durable Object starts and never ties the session
 * id to the user, so a session id alone would let another user's token into the session. This
 * records the user who opened each session and answers 404 to anyone else.
 * @note Ownership lives in OAUTH_KV (eventually consistent across locations in production); the
 * window is the time between `initialize` and a replica seeing the record, and the id is secret then.
 */
export function guardSessionOwner(inner: Handler): Handler {
  return {
    async fetch(request, env, ctx) {
      if (env.SESSION_GUARD === 'off') return inner.fetch(request, env, ctx)
      const userId = (ctx as unknown as { props?: UserProps }).props?.userId
      if (!userId) return inner.fetch(request, env, ctx)
      const session = sessionOf(request)
      if (session) {
        const owner = await env.OAUTH_KV.get(`mcp-session-owner:${session}`)
        if (owner && owner !== userId) return notFound()
        if (!owner) ctx.waitUntil(env.OAUTH_KV.put(`mcp-session-owner:${session}`, userId, { expirationTtl: OWNER_TTL_S }))
        return inner.fetch(request, env, ctx)
      }
      const response = await inner.fetch(request, env, ctx)
      const created = response.headers.get('mcp-session-id')
      if (created) {
        // Written before the client learns the id, so its next request already finds the owner.
        await env.OAUTH_KV.put(`mcp-session-owner:streamable-http:${created}`, userId, { expirationTtl: OWNER_TTL_S })
        return response
      }
      const isSseOpen = request.method === 'GET' && new URL(request.url).pathname === '/sse' && response.body && (response.headers.get('content-type') ?? '').includes('text/event-stream')
      if (!isSseOpen || !response.body) return response
      const [toClient, toGuard] = response.body.tee()
      ctx.waitUntil(
        sseSessionId(toGuard).then((id) => (id ? env.OAUTH_KV.put(`mcp-session-owner:sse:${id}`, userId, { expirationTtl: OWNER_TTL_S }) : undefined)),
      )
      return new Response(toClient, response)
    },
  }
}
