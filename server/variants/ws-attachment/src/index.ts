// KI-14: the reference server plus `/room?session=<id>&name=<who>&keep=memory|attachment`, a chat
// WebSocket on the session's Durable Object, accepted with ctx.acceptWebSocket() so the object can
// hibernate with the socket open. Each message is echoed as "<who>: <text>".
// keep=memory is the bug: who is on the socket lives in a Map, gone after hibernation.
// keep=attachment is the fix: it travels with the socket (serializeAttachment).
import { ReferenceMcp } from '../../../src/reference-mcp'
import reference from '../../../src/index'
import type { Env } from '../../../src/env'

const ROOM_TAG = 'room'

export class RoomMcp extends ReferenceMcp {
  readonly members = new Map<WebSocket, string>()

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (url.pathname !== '/room') return super.fetch(request)
    const [client, server] = Object.values(new WebSocketPair())
    this.ctx.acceptWebSocket(server, [ROOM_TAG])
    const who = url.searchParams.get('name') ?? 'anonymous'
    if (url.searchParams.get('keep') === 'attachment') server.serializeAttachment({ who })
    else this.members.set(server, who)
    return new Response(null, { status: 101, webSocket: client })
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (!this.ctx.getTags(ws).includes(ROOM_TAG)) return super.webSocketMessage?.(ws, message)
    const who = this.members.get(ws) ?? (ws.deserializeAttachment() as { who?: string } | null)?.who
    ws.send(who ? `${who}: ${String(message)}` : `unknown connection: ${String(message)}`)
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
    if (!this.ctx.getTags(ws).includes(ROOM_TAG)) return super.webSocketClose?.(ws, code, reason, wasClean)
    this.members.delete(ws)
  }
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url)
    if (url.pathname !== '/room') return reference.fetch(request, env, ctx)
    const session = url.searchParams.get('session')
    if (!session || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade with ?session=<id>', { status: 400 })
    }
    const stub = env.MCP_OBJECT.get(env.MCP_OBJECT.idFromName(`streamable-http:${session}`))
    return stub.fetch(new Request(`http://do/room${url.search}`, { headers: request.headers }))
  },
} satisfies ExportedHandler<Env>
