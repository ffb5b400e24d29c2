import { createMcpHandler } from 'agents/mcp/server'
import { McpServer } from '@modelcontextprotocol/server'
import { z } from 'zod'
import { SERVER_NAME } from './env'

/** Path of the stateless (SDK v2, MCP 2026-07-28 + legacy stateless lane) entry. */
export const STATELESS_PATH = '/mcp-stateless'

/**
 * A fresh SDK v2 McpServer for one request: `createMcpHandler` builds one per HTTP exchange.
 * @example createMcpHandler(createStatelessServer, { route: '/mcp-stateless' })
 */
export function createStatelessServer({ era }: { era: 'legacy' | 'modern' }): McpServer {
  const server = new McpServer({ name: `${SERVER_NAME}-stateless`, version: '0.1.0' })
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  )
  server.registerTool(
    'routing',
    { description: 'Echoes the routing headers (Mcp-Method, Mcp-Name, MCP-Protocol-Version) this call arrived with' },
    async (ctx) => {
      const headers = ctx.http?.req?.headers
      const routing = {
        era,
        mcpMethod: headers?.get('mcp-method') ?? null,
        mcpName: headers?.get('mcp-name') ?? null,
        protocolVersion: headers?.get('mcp-protocol-version') ?? null,
        sessionId: headers?.get('mcp-session-id') ?? null,
      }
      return { content: [{ type: 'text', text: JSON.stringify(routing) }] }
    },
  )
  return server
}

/** The Worker-side handler of the stateless entry (a Worker `fetch` signature). */
export const statelessHandler = createMcpHandler(createStatelessServer, { route: STATELESS_PATH })
