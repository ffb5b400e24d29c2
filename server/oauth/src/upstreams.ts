import type { OAuthEnv } from './env'

/** What the server keeps about a signed-in user: the props `whoami` returns. */
export interface UserProps extends Record<string, unknown> {
  /** `<provider>-<upstream id>`, also the grant's userId. */
  userId: string
  provider: string
  login?: string
  name?: string
  email?: string
}

/** An upstream identity provider as the server's default handler uses it. */
export interface Upstream {
  name: string
  authorizeUrl(options: { redirectUri: string; state: string; codeChallenge: string }): Promise<string>
  /** Exchanges the upstream's code for its access token; throws UpstreamError on any refusal. */
  exchange(options: { code: string; codeVerifier: string; redirectUri: string }): Promise<string>
  user(accessToken: string): Promise<UserProps>
}

/** A refusal or failure of the upstream provider, with what it said. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError'
  readonly status: number
  constructor(message: string, status = 502) {
    super(message)
    this.status = status
  }
}

const USER_AGENT = 'mcp-harness-oauth/0.1'

async function postForm(url: string, form: Record<string, string>, what: string): Promise<Record<string, unknown>> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      // GitHub answers form-encoded unless asked for JSON.
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': USER_AGENT },
      body: new URLSearchParams(form),
    })
  } catch (error) {
    throw new UpstreamError(`Failed to reach the ${what} token endpoint: ${(error as Error).message}`)
  }
  const text = await response.text()
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new UpstreamError(`Failed to exchange the ${what} code: the token endpoint answered HTTP ${response.status} with a non-JSON body`)
  }
  // GitHub reports OAuth errors with HTTP 200 and an `error` field: check the body, not only the status.
  if (!response.ok || typeof body.error === 'string' || typeof body.access_token !== 'string') {
    throw new UpstreamError(`Failed to exchange the ${what} code: HTTP ${response.status} ${String(body.error ?? 'no access_token')}`)
  }
  return body
}

async function getJson(url: string, token: string, what: string, scheme = 'Bearer'): Promise<Record<string, unknown>> {
  const response = await fetch(url, { headers: { authorization: `${scheme} ${token}`, accept: 'application/json', 'user-agent': USER_AGENT } })
  if (!response.ok) throw new UpstreamError(`Failed to fetch the ${what} user: HTTP ${response.status}`)
  return (await response.json()) as Record<string, unknown>
}

const withQuery = (base: string, params: Record<string, string>) => {
  const url = new URL(base)
  for (const [key, value] of Object.entries(params)) if (value) url.searchParams.set(key, value)
  return url.href
}

function githubUpstream(env: OAuthEnv): Upstream {
  return {
    name: 'github',
    async authorizeUrl({ redirectUri, state, codeChallenge }) {
      return withQuery('https://github.com/login/oauth/authorize', {
        client_id: env.UPSTREAM_CLIENT_ID,
        redirect_uri: redirectUri,
        scope: 'read:user user:email',
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      })
    },
    async exchange({ code, codeVerifier, redirectUri }) {
      const body = await postForm(
        'https://github.com/login/oauth/access_token',
        { client_id: env.UPSTREAM_CLIENT_ID, client_secret: env.UPSTREAM_CLIENT_SECRET, code, code_verifier: codeVerifier, redirect_uri: redirectUri },
        'GitHub',
      )
      return body.access_token as string
    },
    async user(token) {
      const user = await getJson('https://api.github.com/user', token, 'GitHub')
      return { userId: `github-${user.id}`, provider: 'github', login: user.login as string, name: (user.name as string) ?? undefined, email: (user.email as string) ?? undefined }
    },
  }
}

interface OidcEndpoints {
  authorization_endpoint: string
  token_endpoint: string
  userinfo_endpoint: string
}

const discovered = new Map<string, Promise<OidcEndpoints>>()

function oidcUpstream(env: OAuthEnv, name: string, issuer: string, scopes: string): Upstream {
  const endpoints = async (): Promise<OidcEndpoints> => {
    if (env.OIDC_AUTHORIZE_URL && env.OIDC_TOKEN_URL && env.OIDC_USERINFO_URL) {
      return { authorization_endpoint: env.OIDC_AUTHORIZE_URL, token_endpoint: env.OIDC_TOKEN_URL, userinfo_endpoint: env.OIDC_USERINFO_URL }
    }
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
    let pending = discovered.get(url)
    if (!pending) {
      pending = (async () => {
        const response = await fetch(url, { headers: { accept: 'application/json' } })
        if (!response.ok) throw new UpstreamError(`Failed to discover ${name} endpoints at ${url}: HTTP ${response.status}`)
        return (await response.json()) as OidcEndpoints
      })()
      discovered.set(url, pending)
      // A failed discovery is retried on the next sign-in, not cached for the isolate's life.
      pending.catch(() => discovered.delete(url))
    }
    return pending
  }
  return {
    name,
    async authorizeUrl({ redirectUri, state, codeChallenge }) {
      return withQuery((await endpoints()).authorization_endpoint, {
        client_id: env.UPSTREAM_CLIENT_ID,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: scopes,
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      })
    },
    async exchange({ code, codeVerifier, redirectUri }) {
      const body = await postForm(
        (await endpoints()).token_endpoint,
        { grant_type: 'authorization_code', client_id: env.UPSTREAM_CLIENT_ID, client_secret: env.UPSTREAM_CLIENT_SECRET, code, code_verifier: codeVerifier, redirect_uri: redirectUri },
        name,
      )
      return body.access_token as string
    },
    async user(token) {
      const user = await getJson((await endpoints()).userinfo_endpoint, token, name)
      return { userId: `${name}-${user.sub}`, provider: name, login: (user.nickname as string) ?? undefined, name: user.name as string, email: user.email as string }
    },
  }
}

/** The upstream chosen by the `UPSTREAM` var. */
export function selectUpstream(env: OAuthEnv): Upstream {
  switch (env.UPSTREAM) {
    case 'github':
      return githubUpstream(env)
    case 'google':
      return oidcUpstream(
        { ...env, OIDC_AUTHORIZE_URL: 'https://accounts.google.com/o/oauth2/v2/auth', OIDC_TOKEN_URL: 'https://oauth2.googleapis.com/token', OIDC_USERINFO_URL: 'https://openidconnect.googleapis.com/v1/userinfo' },
        'google',
        'https://accounts.google.com',
        'openid email profile',
      )
    case 'oidc':
      return oidcUpstream(env, 'oidc', env.OIDC_ISSUER ?? '', env.OIDC_SCOPES || 'openid profile email')
    default:
      throw new UpstreamError(`Failed to select the upstream provider: UPSTREAM is "${String(env.UPSTREAM)}"; expected github, google or oidc.`, 500)
  }
}
