import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

/** What one MCP session attempt achieved: the same steps in a browser page and in Node. */
export interface McpRun {
  connected: boolean
  /** The JSON-RPC requests that got an answer, in order. */
  steps: string[]
  /** The session id as the client could read it (null when the header was hidden). */
  sessionId: string | null
  tools: string[]
  sum?: string
  error?: string
}

/**
 * Connects the TypeScript SDK client (Streamable HTTP), lists tools and calls `add {2, 3}`.
 * @example const run = await runMcp('http://127.0.0.1:8788/mcp')
 */
export async function runMcp(url: string, headers: Record<string, string> = {}): Promise<McpRun> {
  const steps: string[] = []
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } })
  const client = new Client({ name: 'mcp-harness-browser', version: '0.1.0' })
  try {
    await client.connect(transport)
    steps.push('initialize')
    const { tools } = await client.listTools()
    steps.push('tools/list')
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
    steps.push('tools/call')
    const first = (result.content as { type: string; text?: string }[])[0]
    const run: McpRun = { connected: true, steps, sessionId: transport.sessionId ?? null, tools: tools.map((tool) => tool.name), sum: first?.text }
    await transport.terminateSession().catch(() => {})
    await client.close().catch(() => {})
    return run
  } catch (error) {
    await client.close().catch(() => {})
    return { connected: false, steps, sessionId: transport.sessionId ?? null, tools: [], error: String((error as Error)?.message ?? error) }
  }
}

/** Sends a raw `initialize` and reports whether the script can read `mcp-session-id`, as a page sees it. */
export async function probeSessionHeader(url: string, headers: Record<string, string> = {}): Promise<{ status?: number; readable: boolean; error?: string }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '0' } } }),
    })
    await response.text()
    return { status: response.status, readable: response.headers.get('mcp-session-id') !== null }
  } catch (error) {
    return { readable: false, error: String((error as Error)?.message ?? error) }
  }
}
