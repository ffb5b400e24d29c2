import { ReferenceMcp } from './reference-mcp'
import { SERVER_NAME, transportPaths, type Env } from './env'
import { guardOrigin } from './origin-guard'
import { STATELESS_PATH, statelessHandler } from './stateless'

export { ReferenceMcp }
export type { Env }

const streamableHttp = ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' })
const legacySse = ReferenceMcp.serveSSE('/sse', { binding: 'MCP_OBJECT' })

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url)
    if (pathname === '/health') {
      return Response.json({ name: SERVER_NAME, version: env.SERVER_VERSION, transports: transportPaths() })
    }
    if (pathname === STATELESS_PATH) return statelessHandler(request, env, ctx)
    const isSse = pathname === '/sse' || pathname.startsWith('/sse/')
    if (pathname !== '/mcp' && !isSse) return new Response('Not found', { status: 404 })
    // Preflights carry no credentials or payload; the CORS answer stays McpAgent's.
    const rejected = request.method === 'OPTIONS' ? undefined : guardOrigin(request, env)
    if (rejected) return rejected
    return (isSse ? legacySse : streamableHttp).fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
