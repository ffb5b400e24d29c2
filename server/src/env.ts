import type { ReferenceMcp } from './reference-mcp'

/** Bindings and vars of the reference Worker (see server/wrangler.jsonc). */
export interface Env {
  MCP_OBJECT: DurableObjectNamespace<ReferenceMcp>
  SERVER_VERSION: string
  /**
   * Extra browser Origin hostnames the MCP endpoints accept, comma-separated, or `*` to accept any
   * Origin. Localhost-class origins (and the endpoint's own workers.dev hostname) are always accepted.
   */
  ALLOWED_ORIGIN_HOSTNAMES?: string
}

/** The server name every entry reports. */
export const SERVER_NAME = 'mcp-harness-reference'

/** Paths of the MCP entries this Worker serves. */
export const transportPaths = () => ({ mcp: '/mcp', sse: '/sse', stateless: '/mcp-stateless' })
