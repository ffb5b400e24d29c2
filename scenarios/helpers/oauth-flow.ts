/**
 * The OAuth client steps scenarios script one by one are the package's own (`emulator/sign-in/flow.ts`,
 * what `signIn()` and `mcp-harness token` run); `discover` here is the strict variant the KI-24
 * scenarios assert on (it reports where the server's documents point instead).
 */
import type { AuthServerMetadata, ResourceMetadata } from '../../emulator/sign-in/flow.ts'

export { CLIENT_REDIRECT_URI, registerClient, pkce, authorizationUrl, tokenRequest, exchangeCode, authorizeForCode, signIn } from '../../emulator/sign-in/flow.ts'
export type { AuthServerMetadata, ResourceMetadata, RegisteredClient, TokenSet, SignInResult as SignIn, SignInOptions } from '../../emulator/sign-in/flow.ts'

export interface Discovery {
  /** The `WWW-Authenticate` challenge of an unauthenticated API call. */
  challenge: string
  resourceMetadataUrl: string
  resource: ResourceMetadata
  server: AuthServerMetadata
}

/**
 * Follows MCP discovery from an unauthenticated API call: 401 challenge → protected resource
 * metadata → authorization server metadata. Refuses to leave `base`'s origin (nothing reaches the network).
 */
export async function discover(base: URL | string, apiPath = '/mcp'): Promise<Discovery> {
  const origin = new URL(base).origin
  const local = (url: string) => {
    if (new URL(url).origin !== origin) throw new Error(`[mcp-harness] discovery points at ${url}, outside ${origin} (KI-24)`)
    return url
  }
  const api = await fetch(new URL(apiPath, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  })
  const challenge = api.headers.get('www-authenticate') ?? ''
  if (api.status !== 401 || !challenge) throw new Error(`[mcp-harness] expected 401 with WWW-Authenticate from ${apiPath}, got ${api.status}`)
  const resourceMetadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? new URL('/.well-known/oauth-protected-resource', base).href
  const prm = await fetch(local(resourceMetadataUrl))
  if (!prm.ok) {
    // KI-24: a server configured for another public origin publishes its documents only there.
    const server = await fetch(new URL('/.well-known/oauth-authorization-server', base))
    const listed = server.ok ? ((await server.json()) as { protected_resources?: string[] }).protected_resources ?? [] : []
    const elsewhere = listed.filter((resource) => new URL(resource).origin !== origin)
    throw new Error(
      `[mcp-harness] discovery failed: ${resourceMetadataUrl} answered ${prm.status}${/resource_metadata=/.test(challenge) ? '' : ' and the 401 challenge names no resource_metadata'}` +
        (elsewhere.length ? `; the server's resource is ${elsewhere.join(', ')}, outside ${origin} (KI-24)` : ''),
    )
  }
  const resource = (await prm.json()) as ResourceMetadata
  if (new URL(resource.resource).origin !== origin) throw new Error(`[mcp-harness] the protected resource is ${resource.resource}, outside ${origin} (KI-24)`)
  const issuer = resource.authorization_servers[0]
  const server = (await (await fetch(local(new URL('/.well-known/oauth-authorization-server', issuer).href))).json()) as AuthServerMetadata
  return { challenge, resourceMetadataUrl, resource, server }
}

/** Reads `.dev.vars`-style `KEY=value` lines (comments and blanks ignored). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1')
  }
  return vars
}
