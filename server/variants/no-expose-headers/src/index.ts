// KI-22: custom `corsOptions` that list the app's own header in `exposeHeaders` and thereby replace
// McpAgent's default (`mcp-session-id`). Responses still allow the origin, but a browser script
// cannot read `mcp-session-id`, so the client never learns its session and every request after
// `initialize` is refused (400, no session id).
import { ReferenceMcp } from '../../../src/reference-mcp'
import type { Env } from '../../../src/env'

export { ReferenceMcp }

const mcp = ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT', corsOptions: { exposeHeaders: 'x-request-id' } })

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname !== '/mcp') return new Response('Not found', { status: 404 })
    return mcp.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
