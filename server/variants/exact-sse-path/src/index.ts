// KI-04: the reference server routed with exact path comparisons. GET /sse works, but the legacy
// transport posts every message to /sse/message, which `pathname === "/sse"` never matches: the
// SSE client connects, then its initialize gets 404.
import { ReferenceMcp } from '../../../src/reference-mcp'
import { SERVER_NAME, transportPaths, type Env } from '../../../src/env'

export { ReferenceMcp }

const streamableHttp = ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' })
const legacySse = ReferenceMcp.serveSSE('/sse', { binding: 'MCP_OBJECT' })

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url)
    if (pathname === '/health') return Response.json({ name: SERVER_NAME, version: env.SERVER_VERSION, transports: transportPaths() })
    if (pathname === '/mcp') return streamableHttp.fetch(request, env, ctx)
    // The bug: the message route /sse/message is not "/sse".
    if (pathname === '/sse') return legacySse.fetch(request, env, ctx)
    return new Response('Not found', { status: 404 })
  },
} satisfies ExportedHandler<Env>
