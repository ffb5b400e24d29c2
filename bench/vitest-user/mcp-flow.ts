// The same test body for both runners: MCP initialize, then tools/call `add`, over Streamable HTTP.
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
const PROTOCOL = '2025-06-18'

export async function initializeAndAdd(fetch: Fetch, url: string): Promise<string> {
  const post = async (body: unknown, session?: string) => {
    const headers: Record<string, string> = session ? { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL } : HEADERS
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })
    return { response, text: await response.text() }
  }
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } } })
  const session = init.response.headers.get('mcp-session-id')
  if (!session) throw new Error(`initialize answered ${init.response.status} without a session: ${init.text}`)
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)
  const call = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }, session)
  return call.text
}
