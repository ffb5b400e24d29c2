// KI-10: McpAgent with the standalone MCP SDK pattern: an McpServer from the v2 package
// `@modelcontextprotocol/server` (what the SDK's own examples use) instead of the v1 McpServer that
// McpAgent serves. wrangler bundles it (it does not typecheck); the Durable Object throws at start.
import { McpAgent } from 'agents/mcp'
import { McpServer } from '@modelcontextprotocol/server'
import reference from '../../../src/index'
import type { Env } from '../../../src/env'

export class V2ServerMcp extends McpAgent<Env> {
  // @ts-expect-error The bug, which TypeScript also reports: McpAgent wants the v1 McpServer.
  server = new McpServer({ name: 'v2-server', version: '0.1.0' })

  async init() {
    this.server.registerTool('ping', { description: 'Answers pong' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }))
  }
}

export default reference
