import { randomBytes } from 'node:crypto'
import { http, HttpResponse, type RequestHandler } from 'msw'
import { z } from 'zod'
import { faultResponse, jsonTokenEndpoint, parseProviderOptions, ProviderCore, ProviderOptionsSchema, readTokenRequest, type GrantOk, type UpstreamProvider, type UpstreamUser } from './handlers.ts'
import { provider } from './github.ts'
import { accessTokenHash, SigningKeys } from './keys.ts'

/** Where an OpenID provider serves each endpoint (absolute URLs). */
export interface OidcEndpoints {
  /** Base under which `/.well-known/openid-configuration` (and RFC 8414's document) live. */
  discoveryBase: string
  /** Browser-facing authorize pages; the first is announced in discovery. */
  authorize: string[]
  /** Token endpoints; the first is announced. */
  token: string[]
  /** UserInfo endpoints; the first is announced. */
  userinfo: string[]
  jwks: string
}

/** How a provider differs from plain OpenID Connect Core. */
export interface OidcSpec {
  kind: string
  name: string
  /** The `iss` claim (Auth0's ends with a slash, Google's does not). */
  issuer: string
  endpoints: OidcEndpoints
  /** Slack answers every API call with HTTP 200 and `ok: true|false`. */
  dialect?: 'standard' | 'slack'
  /** Extra claims for the ID token and userinfo (e.g. Slack's team id). */
  claims?: (user: UpstreamUser) => Record<string, unknown>
  /** A userinfo endpoint with its own shape (Google's v2 userinfo). */
  userinfoShape?: (url: string, user: UpstreamUser, standard: Record<string, unknown>) => Record<string, unknown>
  /** Handlers for the provider's other URLs (Slack's `oauth.v2.access`). */
  extraHandlers?: (core: ProviderCore, sign: (grant: GrantOk) => Promise<Record<string, unknown>>) => RequestHandler[]
  defaultUser: UpstreamUser
}

/** Options every OpenID provider takes on top of the shared ones. */
export const OidcCommonOptionsSchema = ProviderOptionsSchema.extend({
  /** JWS algorithm of ID tokens and JWT access tokens. */
  alg: z.enum(['RS256', 'ES256']).default('RS256'),
  /** `jwt`: access tokens are signed JWTs (Auth0 with an audience, WorkOS, Stytch, Logto); `opaque`: random strings. */
  accessTokenFormat: z.enum(['opaque', 'jwt']).default('opaque'),
  /** `aud` of JWT access tokens (default: the client id). */
  audience: z.string().optional(),
})

/** Options of the generic `oidc()` provider. */
export const OidcOptionsSchema = OidcCommonOptionsSchema.extend({
  /** The issuer URL, e.g. `https://tenant.auth0.example`; discovery lives under it. */
  issuer: z.string().url().default('https://idp.example.com'),
  /** A display name for the transcript (default: the issuer's host). */
  name: z.string().optional(),
  /** Endpoint paths (or absolute URLs) under the issuer; defaults follow Auth0's layout. */
  authorizePath: z.string().default('/authorize'),
  tokenPath: z.string().default('/oauth/token'),
  userinfoPath: z.string().default('/userinfo'),
  jwksPath: z.string().default('/.well-known/jwks.json'),
  /** The `iss` claim exactly (default: the issuer with a trailing slash, as Auth0). */
  issuerClaim: z.string().optional(),
})
export type OidcProviderOptions = z.input<typeof OidcOptionsSchema>
type OidcCommonOptions = z.output<typeof OidcCommonOptionsSchema>

/**
 * An OpenID Connect provider done properly: discovery with `jwks_uri`, ID tokens signed with a
 * `jose` key (`nonce`, `at_hash`, `auth_time`), userinfo, refresh rotation and expiry, key rotation.
 * Presets (Auth0, WorkOS, Logto, Descope, Stytch, Slack, Google) are specs on top of it.
 */
export function createOidcProvider(spec: OidcSpec, options: OidcCommonOptions): UpstreamProvider {
  const core = new ProviderCore(options, [spec.defaultUser])
  const keys = new SigningKeys(options.alg)
  const nowS = () => Math.floor(core.now() / 1000)
  const standardClaims = (user: UpstreamUser) => ({
    sub: String(user.id),
    ...(user.email ? { email: user.email, email_verified: true } : {}),
    ...(user.name ? { name: user.name } : {}),
    ...(user.login ? { preferred_username: user.login, nickname: user.login } : {}),
    ...spec.claims?.(user),
  })
  if (options.accessTokenFormat === 'jwt') {
    core.mintAccessToken = ({ user, scope, clientId, expiresAt }) =>
      keys.sign(
        { iss: spec.issuer, sub: String(user.id), aud: options.audience ?? clientId, client_id: clientId, scope, exp: Math.floor(expiresAt / 1000), iat: nowS(), jti: randomBytes(12).toString('base64url') },
        { typ: 'at+jwt' },
      )
  }
  /** The ID token for a grant: only when `openid` was granted (OIDC Core 3.1.2.1). */
  const idToken = async (grant: GrantOk): Promise<Record<string, unknown>> => {
    if (!/(^|[ ,])openid($|[ ,])/.test(grant.scope)) return {}
    const claims = {
      ...standardClaims(grant.user),
      iss: spec.issuer,
      aud: grant.clientId,
      exp: nowS() + options.tokenTtlS,
      iat: nowS(),
      auth_time: grant.authTime,
      at_hash: accessTokenHash(grant.accessToken),
      // The nonce binds the ID token to the authorize request; a refreshed ID token carries none.
      ...(grant.nonce && grant.grantType === 'authorization_code' ? { nonce: grant.nonce } : {}),
    }
    return { id_token: await keys.sign(claims) }
  }
  const { endpoints } = spec
  const discovery = {
    issuer: spec.issuer,
    authorization_endpoint: endpoints.authorize[0],
    token_endpoint: endpoints.token[0],
    userinfo_endpoint: endpoints.userinfo[0],
    jwks_uri: endpoints.jwks,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [options.alg],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: options.scopes ?? ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'email', 'email_verified', 'name'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  }
  const slack = spec.dialect === 'slack'
  const unauthorized = () =>
    slack ? HttpResponse.json({ ok: false, error: 'invalid_auth' }) : HttpResponse.json({ error: 'invalid_token' }, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
  const handlers: RequestHandler[] = [
    ...['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'].map((path) =>
      http.get(`${endpoints.discoveryBase}${path}`, async () => {
        const fault = await core.takeFault('discovery')
        if (fault) return faultResponse(fault, 500)
        return HttpResponse.json(discovery)
      }),
    ),
    http.get(endpoints.jwks, async () => {
      const fault = await core.takeFault('jwks')
      if (fault) return faultResponse(fault, 500)
      return HttpResponse.json(await keys.jwks(), { headers: { 'cache-control': 'public, max-age=300' } })
    }),
    ...endpoints.token.map((url) => (slack ? slackTokenEndpoint(url, core, idToken) : jsonTokenEndpoint(url, core, idToken))),
    ...endpoints.userinfo.flatMap((url) =>
      ['GET', 'POST'].map((method) =>
        (method === 'GET' ? http.get : http.post)(url, async ({ request }) => {
          const fault = await core.takeFault('user')
          if (fault) return faultResponse(fault, 500)
          const user = core.userFor(request.headers.get('authorization'))
          if (!user) return unauthorized()
          const standard = standardClaims(user)
          const body = spec.userinfoShape ? spec.userinfoShape(url, user, standard) : standard
          return HttpResponse.json(slack ? { ok: true, ...body } : body)
        }),
      ),
    ),
    ...(spec.extraHandlers?.(core, idToken) ?? []),
  ]
  return provider(spec.kind, spec.name, endpoints.authorize, core, handlers, { rotateKeys: (rotation) => keys.rotate(rotation) })
}

/** Slack's Web API answers HTTP 200 with `ok`; form or JSON bodies. */
function slackTokenEndpoint(url: string, core: ProviderCore, idToken: (grant: GrantOk) => Promise<Record<string, unknown>>): RequestHandler {
  return http.post(url, async ({ request }) => {
    const fault = await core.takeFault('token')
    if (fault?.error) return HttpResponse.json({ ok: false, error: fault.error })
    if (fault) return faultResponse(fault)
    const { form, basic } = await readTokenRequest(request)
    const result = await core.grant(form, basic)
    if (!result.ok) return HttpResponse.json({ ok: false, error: result.error === 'invalid_grant' ? 'invalid_code' : result.error })
    return HttpResponse.json({ ok: true, access_token: result.accessToken, token_type: 'Bearer', refresh_token: result.refreshToken, expires_in: result.expiresIn, ...(await idToken(result)) })
  })
}

const at = (base: string, path: string) => (/^https?:/.test(path) ? path : `${base}${path}`)
const strip = (url: string) => url.replace(/\/$/, '')

/**
 * A generic OpenID Connect provider under `issuer` (paths default to Auth0's layout).
 * @example upstream: { providers: [oidc({ issuer: 'https://idp.example', alg: 'ES256' })] }
 */
export function oidc(input: OidcProviderOptions = {}): UpstreamProvider {
  const options = parseProviderOptions('oidc', OidcOptionsSchema, input)
  const issuer = strip(options.issuer)
  return createOidcProvider(
    {
      kind: 'oidc',
      name: options.name ?? new URL(issuer).host,
      issuer: options.issuerClaim ?? `${issuer}/`,
      endpoints: {
        discoveryBase: issuer,
        authorize: [at(issuer, options.authorizePath)],
        token: [at(issuer, options.tokenPath)],
        userinfo: [at(issuer, options.userinfoPath)],
        jwks: at(issuer, options.jwksPath),
      },
      defaultUser: { id: 'user_01HARNESS', email: 'grace@example.com', name: 'Grace Hopper' },
    },
    options,
  )
}

const domainOptions = (example: string) => OidcCommonOptionsSchema.extend({ domain: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, `expected a host name such as ${example}`).default(example) })

/**
 * Auth0: `/authorize`, `/oauth/token`, `/userinfo`, `/.well-known/jwks.json`; `iss` ends with `/`.
 * @example auth0({ domain: 'tenant.us.auth0.com', accessTokenFormat: 'jwt', audience: 'https://mcp.example' })
 */
export function auth0(input: z.input<ReturnType<typeof domainOptions>> = {}): UpstreamProvider {
  const options = parseProviderOptions('auth0', domainOptions('tenant.us.auth0.com'), input)
  const base = `https://${options.domain}`
  return createOidcProvider(
    {
      kind: 'auth0',
      name: 'auth0',
      issuer: `${base}/`,
      endpoints: { discoveryBase: base, authorize: [`${base}/authorize`], token: [`${base}/oauth/token`], userinfo: [`${base}/userinfo`], jwks: `${base}/.well-known/jwks.json` },
      defaultUser: { id: 'auth0|65f0c0ffee', email: 'ada@example.com', name: 'Ada Lovelace', login: 'ada' },
    },
    options,
  )
}

/**
 * WorkOS AuthKit: `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userinfo`, `/oauth2/jwks`.
 * @example workos({ domain: 'acme.authkit.app' })
 */
export function workos(input: z.input<ReturnType<typeof domainOptions>> = {}): UpstreamProvider {
  const options = parseProviderOptions('workos', domainOptions('acme.authkit.app'), input)
  const base = `https://${options.domain}`
  return createOidcProvider(
    {
      kind: 'workos',
      name: 'workos',
      issuer: base,
      endpoints: { discoveryBase: base, authorize: [`${base}/oauth2/authorize`], token: [`${base}/oauth2/token`], userinfo: [`${base}/oauth2/userinfo`], jwks: `${base}/oauth2/jwks` },
      defaultUser: { id: 'user_01JHARNESS0000000000000000', email: 'ada@example.com', name: 'Ada Lovelace' },
    },
    options,
  )
}

/**
 * Logto: issuer `<endpoint>/oidc`; `/oidc/auth`, `/oidc/token`, `/oidc/me`, `/oidc/jwks`.
 * @example logto({ domain: 'tenant.logto.app' })
 */
export function logto(input: z.input<ReturnType<typeof domainOptions>> = {}): UpstreamProvider {
  const options = parseProviderOptions('logto', domainOptions('tenant.logto.app'), input)
  const base = `https://${options.domain}/oidc`
  return createOidcProvider(
    {
      kind: 'logto',
      name: 'logto',
      issuer: base,
      endpoints: { discoveryBase: base, authorize: [`${base}/auth`], token: [`${base}/token`], userinfo: [`${base}/me`], jwks: `${base}/jwks` },
      defaultUser: { id: 'logto-user-1', email: 'ada@example.com', name: 'Ada Lovelace', login: 'ada' },
    },
    options,
  )
}

const DescopeOptionsSchema = OidcCommonOptionsSchema.extend({ projectId: z.string().min(1).default('P2HARNESSPROJECT'), domain: z.string().default('api.descope.com') })

/**
 * Descope inbound apps: `/oauth2/v1/apps/{authorize,token,userinfo}`, JWKS `/<projectId>/.well-known/jwks.json`,
 * discovery under `/v1/apps/<projectId>`.
 * @example descope({ projectId: 'P2abc' })
 */
export function descope(input: z.input<typeof DescopeOptionsSchema> = {}): UpstreamProvider {
  const options = parseProviderOptions('descope', DescopeOptionsSchema, input)
  const base = `https://${options.domain}`
  const issuer = `${base}/v1/apps/${options.projectId}`
  return createOidcProvider(
    {
      kind: 'descope',
      name: 'descope',
      issuer,
      endpoints: {
        discoveryBase: issuer,
        authorize: [`${base}/oauth2/v1/apps/authorize`],
        token: [`${base}/oauth2/v1/apps/token`],
        userinfo: [`${base}/oauth2/v1/apps/userinfo`],
        jwks: `${base}/${options.projectId}/.well-known/jwks.json`,
      },
      defaultUser: { id: 'U2HARNESSUSER', email: 'ada@example.com', name: 'Ada Lovelace' },
    },
    options,
  )
}

const StytchOptionsSchema = domainOptions('project.customers.stytch.dev').extend({
  /** Stytch's authorize page is the app's own (the Connected Apps login UI); default `<domain>/oauth2/authorize`. */
  authorizeUrl: z.string().url().optional(),
})

/**
 * Stytch Connected Apps: token `/v1/oauth2/token`, userinfo `/v1/oauth2/userinfo`, JWKS `/.well-known/jwks.json`;
 * access tokens are RS256 JWTs.
 * @example stytch({ domain: 'acme.customers.stytch.dev' })
 */
export function stytch(input: z.input<typeof StytchOptionsSchema> = {}): UpstreamProvider {
  const options = parseProviderOptions('stytch', StytchOptionsSchema, { accessTokenFormat: 'jwt', ...input })
  const base = `https://${options.domain}`
  return createOidcProvider(
    {
      kind: 'stytch',
      name: 'stytch',
      issuer: base,
      endpoints: { discoveryBase: base, authorize: [options.authorizeUrl ?? `${base}/oauth2/authorize`], token: [`${base}/v1/oauth2/token`], userinfo: [`${base}/v1/oauth2/userinfo`], jwks: `${base}/.well-known/jwks.json` },
      defaultUser: { id: 'user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6', email: 'ada@example.com', name: 'Ada Lovelace' },
    },
    options,
  )
}

const SlackOptionsSchema = OidcCommonOptionsSchema.extend({ teamId: z.string().default('T0HARNESS'), teamName: z.string().default('Harness') })

/**
 * Sign in with Slack (OIDC: `/openid/connect/authorize`, `api/openid.connect.token`,
 * `api/openid.connect.userInfo`, `/openid/connect/keys`) and Slack OAuth v2 (`/oauth/v2/authorize`,
 * `api/oauth.v2.access`). Errors are HTTP 200 with `ok: false`.
 * @example slack({ users: [{ id: 'U0123', email: 'ada@example.com', name: 'Ada' }] })
 */
export function slack(input: z.input<typeof SlackOptionsSchema> = {}): UpstreamProvider {
  const options = parseProviderOptions('slack', SlackOptionsSchema, input)
  const team = { id: options.teamId, name: options.teamName }
  return createOidcProvider(
    {
      kind: 'slack',
      name: 'slack',
      issuer: 'https://slack.com',
      dialect: 'slack',
      endpoints: {
        discoveryBase: 'https://slack.com',
        authorize: ['https://slack.com/openid/connect/authorize', 'https://slack.com/oauth/v2/authorize'],
        token: ['https://slack.com/api/openid.connect.token'],
        userinfo: ['https://slack.com/api/openid.connect.userInfo'],
        jwks: 'https://slack.com/openid/connect/keys',
      },
      claims: (user) => ({ 'https://slack.com/user_id': String(user.id), 'https://slack.com/team_id': team.id, 'https://slack.com/team_name': team.name }),
      extraHandlers: (core) => [
        http.post('https://slack.com/api/oauth.v2.access', async ({ request }) => {
          const { form, basic } = await readTokenRequest(request)
          const result = await core.grant(form, basic)
          if (!result.ok) return HttpResponse.json({ ok: false, error: result.error === 'invalid_grant' ? 'invalid_code' : result.error })
          return HttpResponse.json({
            ok: true,
            app_id: 'A0HARNESS',
            authed_user: { id: String(result.user.id), scope: result.scope, access_token: result.accessToken, token_type: 'user' },
            scope: result.scope,
            token_type: 'bot',
            access_token: result.accessToken,
            bot_user_id: 'B0HARNESS',
            team,
            enterprise: null,
            is_enterprise_install: false,
          })
        }),
        http.post('https://slack.com/api/auth.test', ({ request }) => {
          const user = core.userFor(request.headers.get('authorization'))
          return HttpResponse.json(user ? { ok: true, url: 'https://harness.slack.com/', team: team.name, team_id: team.id, user: user.login ?? user.name, user_id: String(user.id) } : { ok: false, error: 'invalid_auth' })
        }),
      ],
      defaultUser: { id: 'U0HARNESS1', email: 'ada@example.com', name: 'Ada Lovelace', login: 'ada' },
    },
    options,
  )
}
