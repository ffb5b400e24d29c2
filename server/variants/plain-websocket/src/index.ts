// KI-32: the reference server plus `/feed?session=<id>`, a WebSocket on the session's Durable Object
// that echoes what it gets. The bug: the object accepts it with ws.accept(), which is not
// hibernatable, so the object stays in memory while the socket is open.
import { ReferenceMcp } from '../../../src/reference-mcp'
import reference from '../../../src/index'
import type { Env } from '../../../src/env'

export class PlainWebSocketMcp extends ReferenceMcp {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== '/feed') return super.fetch(request)
    const [client, server] = Object.values(new WebSocketPair())
    server.accept()
    server.addEventListener('message', (event) => server.send(`feed: ${String(event.data)}`))
    return new Response(null, { status: 101, webSocket: client })
  }
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url)
    if (url.pathname !== '/feed') return reference.fetch(request, env, ctx)
    const session = url.searchParams.get('session')
    if (!session || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade with ?session=<id>', { status: 400 })
    }
    const stub = env.MCP_OBJECT.get(env.MCP_OBJECT.idFromName(`streamable-http:${session}`))
    return stub.fetch(new Request('http://do/feed', { headers: request.headers }))
  },
} satisfies ExportedHandler<Env>
