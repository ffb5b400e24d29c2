import { randomBytes } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { z } from 'zod'
import { faultResponse, jsonTokenEndpoint, parseProviderOptions, ProviderCore, ProviderOptionsSchema, type UpstreamProvider, type UpstreamUser } from './handlers.ts'
import { provider } from './github.ts'
import { SigningKeys } from './keys.ts'

const DASH = 'https://dash.cloudflare.com'
const API = 'https://api.cloudflare.com/client/v4'

const AccountSchema = z.object({ id: z.string().min(1), name: z.string().min(1) })

/** Options of `cloudflare()`: users, their accounts, API tokens and the account fixture data. */
export const CloudflareOptionsSchema = ProviderOptionsSchema.extend({
  /** Accounts every user can see (default one account). */
  accounts: z.array(AccountSchema).default([{ id: '023e105f4ecef8ad9ca31a8372d0c353', name: "Ada's Account" }]),
  /** API tokens accepted as `Authorization: Bearer <token>` (API-token mode), each for a user (login, id or email; default the first). */
  apiTokens: z.array(z.object({ token: z.string().min(8), user: z.string().optional(), status: z.enum(['active', 'disabled', 'expired']).default('active') })).default([]),
  /** Workers scripts the `workers/scripts` list returns for every account. */
  scripts: z.array(z.object({ id: z.string(), modified_on: z.string().optional() }).catchall(z.unknown())).default([{ id: 'my-mcp-worker' }, { id: 'cron-cleanup' }]),
  /** What `POST /graphql` answers as `data` (default: a small Workers invocations dataset). */
  graphql: z.record(z.string(), z.unknown()).optional(),
}).extend({ requirePkce: z.boolean().default(true) })
export type CloudflareOptions = z.input<typeof CloudflareOptionsSchema>

const DEFAULT_GRAPHQL = {
  viewer: {
    accounts: [{ workersInvocationsAdaptive: [{ dimensions: { scriptName: 'my-mcp-worker', status: 'success' }, sum: { requests: 42, errors: 0, subrequests: 7 }, quantiles: { cpuTimeP50: 1.2 } }] }],
  },
}

/** Cloudflare's API envelope. */
const envelope = (result: unknown, extra: Record<string, unknown> = {}) => ({ success: true, errors: [], messages: [], result, ...extra })
const failure = (status: number, code: number, message: string) => HttpResponse.json({ success: false, errors: [{ code, message }], messages: [], result: null }, { status })

/**
 * Cloudflare OAuth as Cloudflare's own MCP servers use it: `dash.cloudflare.com/oauth2/auth` (PKCE
 * S256 required) and `/oauth2/token` (refresh rotation), then the API: `/user`, `/accounts`,
 * `/user/tokens/verify` (API-token mode), `accounts/:id/workers/scripts` and `/graphql` fixture data.
 * @example cloudflare({ apiTokens: [{ token: 'cf-test-token-1234' }] })
 */
export function cloudflare(input: CloudflareOptions = {}): UpstreamProvider {
  const options = parseProviderOptions('cloudflare', CloudflareOptionsSchema, input)
  const core = new ProviderCore(options, [{ id: '7c5dae5552338874e5053f2534d2767a', email: 'ada@example.com', name: 'Ada Lovelace', login: 'ada' }])
  for (const apiToken of options.apiTokens) {
    const user = core.findUser(apiToken.user)
    if (!user) throw new Error(`[mcp-harness] cloudflare.apiTokens: no user "${apiToken.user}"`)
    if (apiToken.status === 'active') core.addToken(apiToken.token, user, 'api-token')
  }
  const authed = async (request: Request, endpoint: 'user' | 'api'): Promise<Response | UpstreamUser> => {
    const fault = await core.takeFault(endpoint)
    if (fault) return faultResponse(fault, 500)
    const user = core.userFor(request.headers.get('authorization'))
    // Cloudflare answers a bad token with HTTP 400/403 and code 9109/10000 depending on the route; 403 + 10000 is the common one.
    return user ?? failure(403, 10000, 'Authentication error')
  }
  const account = (id: string) => options.accounts.find((candidate) => candidate.id === id)
  const handlers = [
    jsonTokenEndpoint(`${DASH}/oauth2/token`, core),
    http.get(`${API}/user`, async ({ request }) => {
      const user = await authed(request, 'user')
      if (user instanceof Response) return user
      const [first, ...rest] = (user.name ?? '').split(' ')
      return HttpResponse.json(envelope({ id: String(user.id), email: user.email, first_name: first || null, last_name: rest.join(' ') || null, username: user.login ?? String(user.id), two_factor_authentication_enabled: true, suspended: false }))
    }),
    http.get(`${API}/accounts`, async ({ request }) => {
      const user = await authed(request, 'api')
      if (user instanceof Response) return user
      return HttpResponse.json(envelope(options.accounts.map((a) => ({ ...a, type: 'standard', settings: { enforce_twofactor: false } })), { result_info: { page: 1, per_page: 20, count: options.accounts.length, total_count: options.accounts.length } }))
    }),
    http.get(`${API}/user/tokens/verify`, async ({ request }) => {
      const match = /^bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')
      const listed = options.apiTokens.find((candidate) => candidate.token === match?.[1])
      if (!listed || listed.status !== 'active') return failure(401, 1000, 'Invalid API Token')
      return HttpResponse.json(envelope({ id: `tok_${Buffer.from(listed.token).toString('hex').slice(0, 16)}`, status: 'active' }, { messages: [{ code: 10000, message: 'This API Token is valid and active', type: null }] }))
    }),
    http.get(`${API}/accounts/:accountId/workers/scripts`, async ({ request, params }) => {
      const user = await authed(request, 'api')
      if (user instanceof Response) return user
      if (!account(String(params.accountId))) return failure(403, 10000, 'Authentication error')
      return HttpResponse.json(envelope(options.scripts.map((s) => ({ created_on: '2026-01-01T00:00:00Z', modified_on: '2026-11-01T00:00:00Z', usage_model: 'standard', ...s }))))
    }),
    http.post(`${API}/graphql`, async ({ request }) => {
      const user = await authed(request, 'api')
      if (user instanceof Response) return user
      const body = (await request.json().catch(() => null)) as { query?: unknown } | null
      if (!body || typeof body.query !== 'string') return HttpResponse.json({ data: null, errors: [{ message: 'failed to parse request body: expected a JSON object with a "query" string' }] }, { status: 400 })
      return HttpResponse.json({ data: options.graphql ?? DEFAULT_GRAPHQL, errors: null })
    }),
  ]
  return provider('cloudflare', 'cloudflare', [`${DASH}/oauth2/auth`], core, handlers)
}

/** Options of `cloudflareAccess()`. */
export const CloudflareAccessOptionsSchema = ProviderOptionsSchema.extend({
  /** The Zero Trust team domain: `<team>.cloudflareaccess.com`. */
  teamDomain: z.string().regex(/^[a-z0-9.-]+$/i).default('harness.cloudflareaccess.com'),
  /** The application's AUD tag (the `aud` claim). */
  aud: z.string().min(1).default('4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2'),
  alg: z.enum(['RS256', 'ES256']).default('RS256'),
})
export type CloudflareAccessOptions = z.input<typeof CloudflareAccessOptionsSchema>

/** A Cloudflare Access team: the certs endpoint, and assertions a test sends as `Cf-Access-Jwt-Assertion`. */
export interface CloudflareAccessProvider extends UpstreamProvider {
  readonly teamDomain: string
  readonly aud: string
  /** A signed application token for `user` (login, id or email; default the first), as Access adds to each request. */
  assertion(user?: string, options?: { expiresInS?: number; aud?: string }): Promise<string>
}

/**
 * Cloudflare Access in front of a Worker: `https://<team>.cloudflareaccess.com/cdn-cgi/access/certs`
 * (`keys`, `public_cert`, `public_certs`) and RS256 application tokens with the team's `iss` and the app's `aud`.
 * @example const access = cloudflareAccess(); fetch(url, { headers: { 'cf-access-jwt-assertion': await access.assertion() } })
 */
export function cloudflareAccess(input: CloudflareAccessOptions = {}): CloudflareAccessProvider {
  const options = parseProviderOptions('cloudflare-access', CloudflareAccessOptionsSchema, input)
  const core = new ProviderCore(options, [{ id: 'a1b2c3d4-0000-4000-8000-000000000001', email: 'ada@example.com', name: 'Ada Lovelace' }])
  const keys = new SigningKeys(options.alg)
  const issuer = `https://${options.teamDomain}`
  const handlers = [
    http.get(`${issuer}/cdn-cgi/access/certs`, async () => {
      const fault = await core.takeFault('jwks')
      if (fault) return faultResponse(fault, 500)
      const pems = keys.pems()
      const jwks = await keys.jwks()
      return HttpResponse.json({ ...jwks, public_cert: { kid: keys.currentKid, cert: pems[0] }, public_certs: jwks.keys.map((key, i) => ({ kid: key.kid, cert: pems[i] })) })
    }),
  ]
  const base = provider('cloudflare-access', 'cloudflare-access', [`${issuer}/cdn-cgi/access/login`], core, handlers, { rotateKeys: (rotation) => keys.rotate(rotation) })
  return {
    ...base,
    teamDomain: options.teamDomain,
    aud: options.aud,
    async assertion(login, assertionOptions = {}) {
      const user = core.findUser(login)
      if (!user) throw new Error(`[mcp-harness] cloudflare-access: no user "${login}"`)
      const now = Math.floor(core.now() / 1000)
      return keys.sign({
        aud: [assertionOptions.aud ?? options.aud],
        email: user.email,
        exp: now + (assertionOptions.expiresInS ?? 24 * 3600),
        iat: now,
        nbf: now,
        iss: issuer,
        type: 'app',
        identity_nonce: randomBytes(8).toString('hex'),
        sub: String(user.id),
        country: 'US',
      })
    },
  }
}
