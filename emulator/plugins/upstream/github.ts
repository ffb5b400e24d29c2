import { http, HttpResponse } from 'msw'
import { faultResponse, ProviderCore, readTokenRequest, type ProviderOptions, type UpstreamProvider } from './handlers.ts'

const AUTHORIZE_URL = 'https://github.com/login/oauth/authorize'
const TOKEN_URL = 'https://github.com/login/oauth/access_token'
const USER_URL = 'https://api.github.com/user'
const EMAILS_URL = 'https://api.github.com/user/emails'

/**
 * A mocked GitHub OAuth app: authorize page, `login/oauth/access_token` with GitHub's quirks, and
 * `api.github.com/user`.
 * @example createEmulator({ config, upstream: { providers: [github({ users: [{ id: 1, login: 'octocat' }] })] } })
 */
export function github(options: ProviderOptions = {}): UpstreamProvider {
  const core = new ProviderCore(options, [{ id: 583231, login: 'octocat', name: 'The Octocat', email: 'octocat@example.com' }])
  const handlers = [
    http.post(TOKEN_URL, async ({ request }) => {
      // GitHub answers form-encoded unless asked for JSON, and reports OAuth errors as HTTP 200.
      const wantsJson = (request.headers.get('accept') ?? '').includes('application/json')
      const reply = (body: Record<string, string | number>) =>
        wantsJson
          ? HttpResponse.json(body)
          : new HttpResponse(new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])).toString(), {
              headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
            })
      const fault = await core.takeFault('token')
      if (fault?.error) return reply({ error: fault.error === 'invalid_grant' ? 'bad_verification_code' : fault.error, error_description: `Injected fault: ${fault.error}` })
      if (fault) return faultResponse(fault)
      const { form, basic } = await readTokenRequest(request)
      const result = core.grant(form, basic)
      if (!result.ok) {
        const error = result.error === 'invalid_grant' ? 'bad_verification_code' : result.error
        return reply({ error, error_description: result.errorDescription, error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors' })
      }
      return reply({ access_token: result.accessToken, token_type: 'bearer', scope: result.scope.replace(/ /g, ',') })
    }),
    http.get(USER_URL, async ({ request }) => {
      // The GitHub API refuses requests without a User-Agent (a classic Workers surprise).
      if (!request.headers.get('user-agent')) {
        return new HttpResponse('Request forbidden by administrative rules. Please make sure your request has a User-Agent header.', { status: 403 })
      }
      const fault = await core.takeFault('user')
      if (fault) return faultResponse(fault, 500)
      const user = core.userFor(request.headers.get('authorization'))
      if (!user) return HttpResponse.json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, { status: 401 })
      return HttpResponse.json({ id: user.id, login: user.login ?? String(user.id), name: user.name ?? null, email: user.email ?? null, avatar_url: `https://avatars.githubusercontent.com/u/${user.id}` })
    }),
    http.get(EMAILS_URL, ({ request }) => {
      const user = core.userFor(request.headers.get('authorization'))
      if (!user) return HttpResponse.json({ message: 'Bad credentials' }, { status: 401 })
      return HttpResponse.json(user.email ? [{ email: user.email, primary: true, verified: true, visibility: 'private' }] : [])
    }),
  ]
  return provider('github', 'github', AUTHORIZE_URL, core, handlers)
}

/** Wraps a provider core and its handlers into the public shape. */
export function provider(kind: UpstreamProvider['kind'], name: string, authorizeUrl: string, core: ProviderCore, handlers: UpstreamProvider['handlers']): UpstreamProvider {
  return {
    kind,
    name,
    clientId: core.options.clientId,
    clientSecret: core.options.clientSecret,
    authorizeUrl,
    handlers,
    users: core.options.users,
    authorize: (url, options) => core.authorize(url, options),
    fault: (endpoint, fault) => core.fault(endpoint, fault),
    advanceTime: (ms) => core.advanceTime(ms),
    revokeAll: () => core.revokeAll(),
    stats: core.stats,
  }
}
