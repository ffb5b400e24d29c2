import { McpAgent } from 'agents/mcp'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker'
import { z } from 'zod'

export interface Env {
  MCP_OBJECT: DurableObjectNamespace<ReferenceMcp>
  SERVER_VERSION: string
}

type State = { counter: number }

export class ReferenceMcp extends McpAgent<Env, State, Record<string, unknown>> {
  // KI-30: the SDK's default AJV validator compiles code, which Workers forbid.
  server = new McpServer(
    { name: 'mcp-harness-reference', version: '0.1.0' },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  )
  initialState: State = { counter: 0 }
  // KI-11: deliberately kept in memory so that hibernation visibly loses it.
  memo = 0

  async init() {
    this.server.registerTool(
      'add',
      { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
    )
    this.server.registerTool(
      'counter',
      { description: 'Increments a count kept in Durable Object state (survives hibernation)' },
      async () => {
        this.setState({ counter: (this.state?.counter ?? 0) + 1 })
        return { content: [{ type: 'text', text: String(this.state.counter) }] }
      },
    )
    this.server.registerTool(
      'memo',
      { description: 'Increments a count kept in an instance field (lost on hibernation, KI-11)' },
      async () => {
        this.memo += 1
        return { content: [{ type: 'text', text: String(this.memo) }] }
      },
    )
  }
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url)
    if (pathname === '/health') {
      return Response.json({ name: 'mcp-harness-reference', version: env.SERVER_VERSION, transports: { mcp: '/mcp', sse: '/sse' } })
    }
    if (pathname === '/sse' || pathname.startsWith('/sse/')) {
      return ReferenceMcp.serveSSE('/sse', { binding: 'MCP_OBJECT' }).fetch(request, env, ctx)
    }
    if (pathname === '/mcp') {
      return ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' }).fetch(request, env, ctx)
    }
    return new Response('Not found', { status: 404 })
  },
} satisfies ExportedHandler<Env>
