import { http, HttpResponse } from 'msw'
import { faultResponse, jsonTokenEndpoint, ProviderCore, type ProviderOptions, type UpstreamProvider } from './handlers.ts'
import { provider } from './github.ts'

const ISSUER = 'https://accounts.google.com'
const AUTHORIZE_URL = 'https://accounts.google.com/o/oauth2/v2/auth'
const TOKEN_URL = 'https://oauth2.googleapis.com/token'
const USERINFO_URLS = ['https://openidconnect.googleapis.com/v1/userinfo', 'https://www.googleapis.com/oauth2/v3/userinfo']

/**
 * A mocked Google OAuth client: OpenID discovery, the authorize page, `oauth2.googleapis.com/token`
 * (JSON, errors as HTTP 400) and the userinfo endpoints.
 * @example upstream: { providers: [google({ users: [{ id: '1234', email: 'ada@example.com', name: 'Ada' }] })] }
 */
export function google(options: ProviderOptions = {}): UpstreamProvider {
  const core = new ProviderCore(options, [{ id: '109876543210987654321', email: 'ada@example.com', name: 'Ada Lovelace' }])
  const handlers = [
    http.get(`${ISSUER}/.well-known/openid-configuration`, async () => {
      const fault = await core.takeFault('discovery')
      if (fault) return faultResponse(fault, 500)
      return HttpResponse.json({
        issuer: ISSUER,
        authorization_endpoint: AUTHORIZE_URL,
        token_endpoint: TOKEN_URL,
        userinfo_endpoint: USERINFO_URLS[0],
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['plain', 'S256'],
        scopes_supported: ['openid', 'email', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      })
    }),
    jsonTokenEndpoint(TOKEN_URL, core),
    ...USERINFO_URLS.map((url) =>
      http.get(url, async ({ request }) => {
        const fault = await core.takeFault('user')
        if (fault) return faultResponse(fault, 500)
        const user = core.userFor(request.headers.get('authorization'))
        if (!user) {
          return HttpResponse.json({ error: 'invalid_request', error_description: 'Invalid Credentials' }, { status: 401, headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } })
        }
        return HttpResponse.json({ sub: String(user.id), email: user.email, email_verified: true, name: user.name, picture: 'https://lh3.googleusercontent.com/a/default-user' })
      }),
    ),
  ]
  return provider('google', 'google', AUTHORIZE_URL, core, handlers)
}
