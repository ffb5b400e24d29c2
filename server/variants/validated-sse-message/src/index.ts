// The fix of KI-37 (and KI-08 on the legacy route): the reference server, but POST /sse/message
// bodies are parsed in the Worker first; malformed JSON gets 400 with JSON-RPC -32700 instead of
// McpAgent's 500 with a stack trace.
import reference from '../../../src/index'
import type { Env } from '../../../src/env'

export { ReferenceMcp } from '../../../src/reference-mcp'

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url)
    if (request.method === 'POST' && pathname === '/sse/message') {
      try {
        JSON.parse(await request.clone().text())
      } catch {
        return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } }, { status: 400 })
      }
    }
    return reference.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
