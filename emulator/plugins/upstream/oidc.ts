import { http, HttpResponse } from 'msw'
import { faultResponse, jsonTokenEndpoint, ProviderCore, type ProviderOptions, type UpstreamProvider } from './handlers.ts'
import { provider } from './github.ts'

/** A generic OpenID Connect provider (Auth0, WorkOS AuthKit, Descope, Stytch, Cloudflare Access/OAuth...). */
export interface OidcProviderOptions extends ProviderOptions {
  /** The issuer URL, e.g. `https://tenant.auth0.example`; discovery lives under it. */
  issuer: string
  /** A display name for the transcript (default: the issuer's host). */
  name?: string
  /** Endpoint paths (or absolute URLs) under the issuer; defaults follow Auth0's layout. */
  authorizePath?: string
  tokenPath?: string
  userinfoPath?: string
}

/**
 * A mocked generic OIDC provider: `/.well-known/openid-configuration`, authorize, token (JSON,
 * `client_secret_post` or `client_secret_basic`, PKCE) and userinfo.
 * @example upstream: { providers: [oidc({ issuer: 'https://tenant.auth0.example' })] }
 */
export function oidc(options: OidcProviderOptions): UpstreamProvider {
  const issuer = options.issuer.replace(/\/$/, '')
  const at = (path: string) => (/^https?:/.test(path) ? path : `${issuer}${path}`)
  const authorizeUrl = at(options.authorizePath ?? '/authorize')
  const tokenUrl = at(options.tokenPath ?? '/oauth/token')
  const userinfoUrl = at(options.userinfoPath ?? '/userinfo')
  const core = new ProviderCore(options, [{ id: 'user_01HARNESS', email: 'grace@example.com', name: 'Grace Hopper' }])
  const handlers = [
    http.get(`${issuer}/.well-known/openid-configuration`, async () => {
      const fault = await core.takeFault('discovery')
      if (fault) return faultResponse(fault, 500)
      return HttpResponse.json({
        issuer: `${issuer}/`,
        authorization_endpoint: authorizeUrl,
        token_endpoint: tokenUrl,
        userinfo_endpoint: userinfoUrl,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: options.scopes ?? ['openid', 'profile', 'email', 'offline_access'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      })
    }),
    jsonTokenEndpoint(tokenUrl, core),
    http.get(userinfoUrl, async ({ request }) => {
      const fault = await core.takeFault('user')
      if (fault) return faultResponse(fault, 500)
      const user = core.userFor(request.headers.get('authorization'))
      if (!user) return HttpResponse.json({ error: 'invalid_token' }, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
      return HttpResponse.json({ sub: String(user.id), email: user.email, name: user.name, ...(user.login ? { nickname: user.login } : {}) })
    }),
  ]
  return provider('oidc', options.name ?? new URL(issuer).host, authorizeUrl, core, handlers)
}
