import type { CassetteMeta, Interaction } from './schema.ts'
import { rpcMessages } from '../match/request.ts'

type Transport = CassetteMeta['transport']

/**
 * The MCP transport(s) a recorded session used, from its traffic: `websocket` (a 101 upgrade),
 * `sse` (a GET stream that announced an `endpoint`, the legacy HTTP+SSE transport), `streamable-http`
 * (JSON-RPC POSTed to one endpoint that answers in the response, with or without `mcp-session-id`),
 * `mixed` when more than one, `other` when none (e.g. only OAuth traffic).
 * @example meta.transport = detectTransport(cassette.interactions)
 */
export function detectTransport(interactions: Interaction[]): Transport {
  const seen = new Set<Transport>()
  for (const i of interactions) {
    const response = i.response
    if (response?.status === 101 || response?.ws) {
      seen.add('websocket')
      continue
    }
    if (response?.sse?.some((e) => e.event === 'endpoint')) {
      seen.add('sse')
      continue
    }
    // Legacy SSE posts carry ?sessionId= and are answered 202 on the stream; Streamable HTTP answers in the response.
    if (i.request.query.sessionId !== undefined) {
      seen.add('sse')
      continue
    }
    const jsonRpc = i.request.method === 'POST' && rpcMessages(i.request.body).some((m) => m.jsonrpc === '2.0')
    if (jsonRpc && response && (i.request.headers['mcp-session-id'] !== undefined || response.headers['mcp-session-id'] !== undefined || response.sse !== undefined || rpcMessages(response.body).length > 0 || response.status === 202)) {
      seen.add('streamable-http')
    }
  }
  if (seen.size > 1) return 'mixed'
  return seen.values().next().value ?? 'other'
}
