import { http, HttpResponse } from 'msw'
import { faultResponse, parseProviderOptions, ProviderCore, ProviderOptionsSchema, readTokenRequest, type ProviderOptions, type UpstreamProvider, type UpstreamUser } from './handlers.ts'

const AUTHORIZE_URL = 'https://github.com/login/oauth/authorize'
const TOKEN_URL = 'https://github.com/login/oauth/access_token'
const API = 'https://api.github.com'

/** Options of `github()`: the shared provider options (users may list `orgs`). */
export const GithubOptionsSchema = ProviderOptionsSchema
export type GithubOptions = ProviderOptions

const profile = (user: UpstreamUser) => ({
  login: user.login ?? String(user.id),
  id: user.id,
  node_id: `U_mock${user.id}`,
  avatar_url: `https://avatars.githubusercontent.com/u/${user.id}`,
  html_url: `https://github.com/${user.login ?? user.id}`,
  type: 'User',
  site_admin: false,
  name: user.name ?? null,
  email: user.email ?? null,
})

const org = (login: string, index: number) => ({ login, id: 9000 + index, node_id: `O_mock${index}`, url: `${API}/orgs/${login}`, description: null })

/**
 * A mocked GitHub OAuth app: the authorize page, `login/oauth/access_token` with GitHub's quirks,
 * and the REST endpoints Octokit's `users.getAuthenticated`, email and org methods call.
 * @example createEmulator({ config, upstream: { providers: [github({ users: [{ id: 1, login: 'octocat', orgs: ['acme'] }] })] } })
 */
export function github(input: GithubOptions = {}): UpstreamProvider {
  const options = parseProviderOptions('github', GithubOptionsSchema, input)
  const core = new ProviderCore(options, [{ id: 583231, login: 'octocat', name: 'The Octocat', email: 'octocat@example.com' }])
  /** Every API call: User-Agent rule, faults, the token's user; answers GitHub's 401 body otherwise. */
  const api = (path: string, answer: (user: UpstreamUser, scope: string, params: Record<string, string>) => unknown) =>
    http.get(`${API}${path}`, async ({ request, params }) => {
      // The GitHub API refuses requests without a User-Agent (a classic Workers surprise).
      if (!request.headers.get('user-agent')) {
        return new HttpResponse('Request forbidden by administrative rules. Please make sure your request has a User-Agent header.', { status: 403 })
      }
      const fault = await core.takeFault(path === '/user' ? 'user' : 'api')
      if (fault) return faultResponse(fault, 500)
      const record = core.tokenRecord(request.headers.get('authorization'))
      const user = record && core.userFor(request.headers.get('authorization'))
      if (!record || !user) return HttpResponse.json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, { status: 401 })
      const body = answer(user, record.scope, params as Record<string, string>)
      if (body === undefined) return HttpResponse.json({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }, { status: 404 })
      // Octokit and GitHub apps read granted scopes from this header.
      return HttpResponse.json(body, { headers: { 'x-oauth-scopes': record.scope.replace(/[ ,]+/g, ', '), 'x-github-media-type': 'github.v3; format=json' } })
    })
  const emails = (user: UpstreamUser) => (user.email ? [{ email: user.email, primary: true, verified: true, visibility: 'private' }] : [])
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
      const result = await core.grant(form, basic)
      if (!result.ok) {
        const error = result.error === 'invalid_grant' ? 'bad_verification_code' : result.error
        return reply({ error, error_description: result.errorDescription, error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors' })
      }
      return reply({ access_token: result.accessToken, token_type: 'bearer', scope: result.scope.replace(/ /g, ',') })
    }),
    // octokit.rest.users.getAuthenticated
    api('/user', (user) => profile(user)),
    // octokit.rest.users.listEmailsForAuthenticatedUser (needs the user:email scope on real GitHub)
    api('/user/emails', (user, scope) => (/\buser(:email)?\b/.test(scope) || scope === '' ? emails(user) : undefined)),
    // octokit.rest.users.listPublicEmailsForAuthenticatedUser
    api('/user/public_emails', (user) => emails(user).map((email) => ({ ...email, visibility: 'public' }))),
    // octokit.rest.orgs.listForAuthenticatedUser
    api('/user/orgs', (user) => (user.orgs ?? []).map(org)),
    // octokit.rest.orgs.listMembershipsForAuthenticatedUser
    api('/user/memberships/orgs', (user) => (user.orgs ?? []).map((login, index) => ({ state: 'active', role: 'member', organization: org(login, index), user: profile(user) }))),
    // octokit.rest.orgs.listForUser
    api('/users/:username/orgs', (_, __, params) => {
      const target = core.options.users.find((candidate) => (candidate.login ?? String(candidate.id)) === params.username)
      return target ? (target.orgs ?? []).map(org) : undefined
    }),
    // octokit.rest.orgs.checkMembershipForUser: 204 when a member, 404 otherwise
    http.get(`${API}/orgs/:org/members/:username`, ({ request, params }) => {
      if (!core.userFor(request.headers.get('authorization'))) return HttpResponse.json({ message: 'Bad credentials' }, { status: 401 })
      const target = core.options.users.find((candidate) => (candidate.login ?? String(candidate.id)) === params.username)
      return new HttpResponse(null, { status: target?.orgs?.includes(String(params.org)) ? 204 : 404 })
    }),
  ]
  return provider('github', 'github', [AUTHORIZE_URL], core, handlers)
}

/** Wraps a provider core and its handlers into the public shape. */
export function provider(
  kind: string,
  name: string,
  authorizeUrls: string[],
  core: ProviderCore,
  handlers: UpstreamProvider['handlers'],
  extras: { rotateKeys?: UpstreamProvider['rotateKeys'] } = {},
): UpstreamProvider {
  return {
    kind,
    name,
    clientId: core.options.clientId,
    clientSecret: core.options.clientSecret,
    authorizeUrl: authorizeUrls[0],
    authorizeUrls,
    handlers,
    users: core.options.users,
    authorize: (url, options) => core.authorize(url, options),
    fault: (endpoint, fault) => core.fault(endpoint, fault),
    advanceTime: (ms) => core.advanceTime(ms),
    revokeAll: () => core.revokeAll(),
    stats: core.stats,
    ...extras,
  }
}
