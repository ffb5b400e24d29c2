// KI-07: a router that answers only the methods it has routes for. A browser's CORS preflight
// (OPTIONS) never reaches McpAgent's CORS answer and gets 405 without CORS headers, so the browser
// blocks every non-simple request (each MCP POST has `Content-Type: application/json`).
import { ReferenceMcp } from '../../../src/reference-mcp'
import type { Env } from '../../../src/env'

export { ReferenceMcp }

const mcp = ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' })
const ROUTED_METHODS = new Set(['GET', 'POST', 'DELETE'])

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname !== '/mcp') return new Response('Not found', { status: 404 })
    if (!ROUTED_METHODS.has(request.method)) return new Response('Method Not Allowed', { status: 405, headers: { allow: 'GET, POST, DELETE' } })
    return mcp.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
