import { onTestFinished } from 'vitest'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'

/** The first protocol revision of the stateless (modern) era. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28'

/** The per-request `_meta` envelope a 2026-07-28 request carries. */
export function modernEnvelope(clientName = 'mcp-harness-raw'): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: clientName, version: '0.1.0' },
  }
}

/**
 * Connects the official SDK v2 client over Streamable HTTP with version negotiation: `'auto'`
 * probes with `server/discover` and falls back to `initialize`; `{ pin }` insists on a revision.
 * Closed automatically when the test finishes.
 * @example const client = await connectModernClient(new URL('/mcp-stateless', base), { pin: '2026-07-28' })
 */
export async function connectModernClient(url: URL, mode: 'auto' | 'legacy' | { pin: string } = { pin: MODERN_PROTOCOL_VERSION }): Promise<Client> {
  const client = new Client({ name: 'mcp-harness-modern', version: '0.1.0' }, { versionNegotiation: { mode } })
  await client.connect(new StreamableHTTPClientTransport(url))
  try {
    onTestFinished(() => client.close().catch(() => {}))
  } catch {
    // Outside a test: the caller closes it.
  }
  return client
}
