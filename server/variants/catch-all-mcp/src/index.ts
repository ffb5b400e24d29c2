// KI-18: the reference server with a first-match route table whose first entry is a catch-all
// Streamable HTTP handler (added when /mcp was added). Every /sse request now reaches the
// Streamable HTTP transport, which refuses a GET without a session: legacy SSE clients fail.
import { ReferenceMcp } from '../../../src/reference-mcp'
import { SERVER_NAME, transportPaths, type Env } from '../../../src/env'

export { ReferenceMcp }

type Handler = { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> }

const ROUTES: [prefix: string, handler: Handler][] = [
  // The bug: "/" is a prefix of every path, and serve("/") answers every path ("/*").
  ['/', ReferenceMcp.serve('/', { binding: 'MCP_OBJECT' })],
  ['/sse', ReferenceMcp.serveSSE('/sse', { binding: 'MCP_OBJECT' })],
]

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url)
    if (pathname === '/health') return Response.json({ name: SERVER_NAME, version: env.SERVER_VERSION, transports: transportPaths() })
    const route = ROUTES.find(([prefix]) => pathname.startsWith(prefix))
    return route ? route[1].fetch(request, env, ctx) : new Response('Not found', { status: 404 })
  },
} satisfies ExportedHandler<Env>
