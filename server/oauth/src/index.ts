import { OAuthProvider } from '@cloudflare/workers-oauth-provider'
import { ReferenceMcp } from '../../src/reference-mcp'
import { createAuthHandler } from './auth-handler'
import type { OAuthEnv } from './env'
import { guardSessionOwner } from './session-guard'

export { ReferenceMcp }
export type { OAuthEnv }

const streamableHttp = ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' })
const legacySse = ReferenceMcp.serveSSE('/sse', { binding: 'MCP_OBJECT' })

/** The MCP API behind the provider: `ctx.props` holds what /callback stored for the token's user. */
const mcpApi = guardSessionOwner({
  fetch(request, env, ctx) {
    const { pathname } = new URL(request.url)
    return (pathname === '/sse' || pathname.startsWith('/sse/') ? legacySse : streamableHttp).fetch(request, env, ctx)
  },
})

// One provider per origin, built on first use: workers-oauth-provider binds tokens to
// `resourceMetadata.resource`, which must be the origin clients actually reach (127.0.0.1 and
// localhost are different audiences), so it cannot be a constant of the bundle.
const providers = new Map<string, OAuthProvider<OAuthEnv>>()

function providerFor(origin: string, env: OAuthEnv): OAuthProvider<OAuthEnv> {
  let provider = providers.get(origin)
  if (!provider) {
    provider = new OAuthProvider<OAuthEnv>({
      apiRoute: ['/mcp', '/sse'],
      apiHandler: mcpApi as never,
      defaultHandler: createAuthHandler(origin) as never,
      authorizeEndpoint: '/authorize',
      tokenEndpoint: '/token',
      clientRegistrationEndpoint: '/register',
      scopesSupported: ['mcp', 'offline_access'],
      accessTokenTTL: Number(env.ACCESS_TOKEN_TTL) || 3600,
      resourceMetadata: { resource: origin, authorization_servers: [origin], resource_name: 'mcp-harness OAuth reference server' },
    })
    providers.set(origin, provider)
  }
  return provider
}

export default {
  fetch(request: Request, env: OAuthEnv, ctx: ExecutionContext) {
    // KI-24: behind a custom domain the public origin differs from the request's; PUBLIC_URL names it.
    const origin = env.PUBLIC_URL ? new URL(env.PUBLIC_URL).origin : new URL(request.url).origin
    return providerFor(origin, env).fetch(request, env, ctx)
  },
} satisfies ExportedHandler<OAuthEnv>
