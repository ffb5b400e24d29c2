import { createHash, randomBytes } from 'node:crypto'
import { http, HttpResponse, type RequestHandler } from 'msw'
import { applyFieldRedactors, applyJsonRedactors, defaultRedactors, DEFAULT_REDACTED_FIELDS } from '../../../core/redact/index.ts'
import { redactUrlQuery } from '../../../core/redact/event.ts'
import { z } from 'zod'
import { HarnessError } from '../../../core/errors.ts'

/** A user the mocked provider signs in: `id` is the subject, other fields are the profile. */
export const UpstreamUserSchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]),
    login: z.string().optional(),
    name: z.string().optional(),
    email: z.string().optional(),
    /** GitHub organisations (logins) the user belongs to. */
    orgs: z.array(z.string()).optional(),
  })
  .catchall(z.unknown())

export type UpstreamUser = z.infer<typeof UpstreamUserSchema>

/** Which upstream endpoint a fault applies to. */
export type UpstreamEndpoint = 'token' | 'user' | 'discovery' | 'jwks' | 'api' | '*'

/** An injected upstream fault: a delay, an HTTP status, or an OAuth error; `times` limits how often. */
export interface UpstreamFault {
  delayMs?: number
  status?: number
  error?: 'invalid_grant' | 'invalid_client' | 'server_error' | 'temporarily_unavailable'
  times?: number
}

/** Options every mocked provider shares (validated once, when the provider is made). */
export const ProviderOptionsSchema = z.object({
  /** The OAuth app's client id (default `test-client-id`). */
  clientId: z.string().min(1).default('test-client-id'),
  /** The OAuth app's client secret (default `test-client-secret`): fake, never a real one. */
  clientSecret: z.string().min(1).default('test-client-secret'),
  /** Callback URLs registered for the app; unset accepts any loopback URL (KI-06 when set wrong). */
  redirectUris: z.array(z.string().url()).optional(),
  /** Users who can sign in; the first is the default (each provider has a default user). */
  users: z.array(UpstreamUserSchema).optional(),
  /** Scopes the app may be granted; unset accepts any. */
  scopes: z.array(z.string()).optional(),
  /** Lifetime of an authorization code (default 10 min, as GitHub). */
  codeTtlMs: z.number().int().positive().default(600_000),
  /** Lifetime of an access token in seconds (default 8 h). */
  tokenTtlS: z.number().int().positive().default(8 * 3600),
  /** Lifetime of a refresh token in seconds (default 30 days). */
  refreshTtlS: z.number().int().positive().default(30 * 24 * 3600),
  /** A used refresh token is revoked and a new one issued (OAuth 2.1 rotation; default true). */
  rotateRefreshTokens: z.boolean().default(true),
  /** Refuse authorize requests without an S256 `code_challenge` (Cloudflare's OAuth does). */
  requirePkce: z.boolean().default(false),
})

/** What a caller may pass: every field optional. */
export type ProviderOptions = z.input<typeof ProviderOptionsSchema>
type ResolvedProviderOptions = z.output<typeof ProviderOptionsSchema> & { users: UpstreamUser[] }

/**
 * Validates provider options once, naming the provider and the option path on failure.
 * @example parseProviderOptions('github', ProviderOptionsSchema, { users })
 */
export function parseProviderOptions<S extends z.ZodType>(provider: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {})
  if (result.success) return result.data
  const issue = result.error.issues[0]
  throw new HarnessError('ERR_OPTIONS', `Invalid option "${provider}.${issue.path.join('.')}": ${issue.message}. See docs/sign-in.md for the options of each provider.`)
}

/** What the browser gets from the provider's authorize page. */
export interface AuthorizeOutcome {
  status: number
  /** Where the provider sends the browser (the app's callback with `code` and `state`, or an error). */
  location?: string
  /** Set when the provider refused to redirect (shown as an error page). */
  error?: string
  errorDescription?: string
}

/** One mocked upstream provider: msw handlers for the Worker's calls plus the browser-facing authorize page. */
export interface UpstreamProvider {
  /** Which factory made it (`github`, `google`, `cloudflare`, `oidc`, `auth0`, …). */
  readonly kind: string
  readonly name: string
  readonly clientId: string
  readonly clientSecret: string
  /** URL of the browser-facing authorize page (matched by origin and path). */
  readonly authorizeUrl: string
  /** Every browser-facing authorize page this provider serves (e.g. Slack's OIDC and OAuth v2 pages). */
  readonly authorizeUrls: string[]
  /** msw handlers answering the Worker's server-to-server calls. */
  readonly handlers: RequestHandler[]
  readonly users: UpstreamUser[]
  /** Serves the authorize page as a browser would see it, signing in `user` (default: the first). */
  authorize(url: string | URL, options?: { user?: string; deny?: boolean }): AuthorizeOutcome
  /** Injects a fault on an endpoint until cleared (`undefined`) or used up (`times`). */
  fault(endpoint: UpstreamEndpoint, fault: UpstreamFault | undefined): void
  /** Moves this provider's clock forward (expires codes and tokens without sleeping). */
  advanceTime(ms: number): void
  /** Revokes every token and code (the user removed the app at the provider). */
  revokeAll(): void
  /** Rotates the signing key of providers that sign tokens (OIDC); returns the new key id. */
  rotateKeys?(options?: { keepPrevious?: boolean }): string
  /** Counts of what the provider issued and redeemed. */
  readonly stats: ProviderStats
}

export interface ProviderStats {
  codesIssued: number
  codesRedeemed: number
  tokensIssued: number
  refreshes: number
  userInfoCalls: number
}

interface CodeRecord {
  clientId: string
  redirectUri: string
  user: UpstreamUser
  scope: string
  expiresAt: number
  used: boolean
  challenge?: string
  nonce?: string
  authTime: number
}

interface TokenRecord {
  user: UpstreamUser
  scope: string
  expiresAt: number
  clientId: string
  nonce?: string
  authTime: number
}

/** The result a token endpoint builds a provider-specific response from. */
export type TokenGrantResult =
  | { ok: true; accessToken: string; refreshToken?: string; scope: string; expiresIn: number; user: UpstreamUser; clientId: string; nonce?: string; authTime: number; grantType: string }
  | { ok: false; status: number; error: string; errorDescription: string }

/** Mints an access token (e.g. a signed JWT); the default is an opaque random string. */
export type AccessTokenMinter = (grant: { user: UpstreamUser; scope: string; clientId: string; expiresAt: number }) => Promise<string>

/** Shared provider state: codes, tokens, faults and a clock that tests can move. */
export class ProviderCore {
  readonly options: ResolvedProviderOptions
  readonly stats: ProviderStats = { codesIssued: 0, codesRedeemed: 0, tokensIssued: 0, refreshes: 0, userInfoCalls: 0 }
  readonly #codes = new Map<string, CodeRecord>()
  readonly #tokens = new Map<string, TokenRecord>()
  readonly #refresh = new Map<string, TokenRecord>()
  readonly #faults = new Map<UpstreamEndpoint, UpstreamFault>()
  #offsetMs = 0
  /** Set by providers whose access tokens are JWTs. */
  mintAccessToken?: AccessTokenMinter

  constructor(options: z.output<typeof ProviderOptionsSchema>, defaultUsers: UpstreamUser[]) {
    this.options = { ...options, users: options.users?.length ? options.users : defaultUsers }
  }

  now(): number {
    return Date.now() + this.#offsetMs
  }

  advanceTime(ms: number): void {
    this.#offsetMs += ms
  }

  revokeAll(): void {
    this.#codes.clear()
    this.#tokens.clear()
    this.#refresh.clear()
  }

  fault(endpoint: UpstreamEndpoint, fault: UpstreamFault | undefined): void {
    if (fault) this.#faults.set(endpoint, { ...fault })
    else this.#faults.delete(endpoint)
  }

  /** Applies a pending fault: waits for its delay, then returns the fault for the caller to answer with. */
  async takeFault(endpoint: Exclude<UpstreamEndpoint, '*'>): Promise<UpstreamFault | undefined> {
    const key = this.#faults.has(endpoint) ? endpoint : this.#faults.has('*') ? '*' : undefined
    if (!key) return undefined
    const fault = this.#faults.get(key)!
    if (fault.times !== undefined) {
      fault.times -= 1
      if (fault.times <= 0) this.#faults.delete(key)
    }
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
    return fault.status || fault.error ? fault : undefined
  }

  findUser(login?: string): UpstreamUser | undefined {
    if (!login) return this.options.users[0]
    return this.options.users.find((user) => String(user.login ?? user.id) === login || String(user.id) === login || user.email === login)
  }

  /** The authorize page: checks the app and its callback, signs the user in, redirects with a code. */
  authorize(url: string | URL, options: { user?: string; deny?: boolean } = {}): AuthorizeOutcome {
    const params = new URL(url).searchParams
    const clientId = params.get('client_id')
    const redirectUri = params.get('redirect_uri') ?? ''
    const state = params.get('state')
    if (clientId !== this.options.clientId) {
      return { status: 404, error: 'invalid_client', errorDescription: `No OAuth app has client_id "${clientId}".` }
    }
    if (!this.#redirectAllowed(redirectUri)) {
      // KI-06: the provider refuses a callback that is not registered for the app, and never redirects to it.
      return {
        status: 400,
        error: 'redirect_uri_mismatch',
        errorDescription: `The redirect_uri "${redirectUri}" is not registered for this app (registered: ${(this.options.redirectUris ?? []).join(', ') || 'loopback URLs'}).`,
      }
    }
    const back = new URL(redirectUri)
    if (state !== null) back.searchParams.set('state', state)
    const scope = params.get('scope') ?? ''
    const unknownScope = this.options.scopes && scope.split(/[ ,]+/).filter(Boolean).find((s) => !this.options.scopes!.includes(s))
    if (unknownScope) {
      back.searchParams.set('error', 'invalid_scope')
      back.searchParams.set('error_description', `Unknown scope ${unknownScope}`)
      return { status: 302, location: back.href }
    }
    if (options.deny) {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'The user has denied your application access.')
      return { status: 302, location: back.href }
    }
    const user = this.findUser(options.user)
    if (!user) return { status: 401, error: 'login_failed', errorDescription: `No user "${options.user}" at this provider (users: ${this.options.users.map((u) => u.login ?? u.email ?? u.id).join(', ')}).` }
    const method = params.get('code_challenge_method')
    if (this.options.requirePkce && (!params.get('code_challenge') || method !== 'S256')) {
      back.searchParams.set('error', 'invalid_request')
      back.searchParams.set('error_description', 'code_challenge with code_challenge_method=S256 is required.')
      return { status: 302, location: back.href }
    }
    const code = randomToken('code')
    this.#codes.set(code, {
      clientId,
      redirectUri,
      user,
      scope,
      expiresAt: this.now() + this.options.codeTtlMs,
      used: false,
      challenge: params.get('code_challenge') ? `${method ?? 'plain'}:${params.get('code_challenge')}` : undefined,
      nonce: params.get('nonce') ?? undefined,
      authTime: Math.floor(this.now() / 1000),
    })
    this.stats.codesIssued += 1
    back.searchParams.set('code', code)
    return { status: 302, location: back.href }
  }

  #redirectAllowed(redirectUri: string): boolean {
    let parsed: URL
    try {
      parsed = new URL(redirectUri)
    } catch {
      return false
    }
    if (this.options.redirectUris) return this.options.redirectUris.includes(redirectUri)
    return parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)
  }

  /** The token endpoint's logic for `authorization_code` and `refresh_token` grants. */
  async grant(form: URLSearchParams, basicAuth?: { clientId: string; clientSecret: string }): Promise<TokenGrantResult> {
    const clientId = basicAuth?.clientId ?? form.get('client_id')
    const clientSecret = basicAuth?.clientSecret ?? form.get('client_secret')
    if (clientId !== this.options.clientId || clientSecret !== this.options.clientSecret) {
      return { ok: false, status: 401, error: 'invalid_client', errorDescription: 'The client_id and/or client_secret passed are incorrect.' }
    }
    const grantType = form.get('grant_type') ?? 'authorization_code'
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? ''
      const record = this.#refresh.get(presented)
      if (!record || record.clientId !== clientId) return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The refresh token is invalid or revoked.' }
      if (record.expiresAt < this.now()) {
        this.#refresh.delete(presented)
        return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The refresh token has expired.' }
      }
      this.stats.refreshes += 1
      // Rotation: the presented refresh token is spent; replaying it later is refused.
      if (this.options.rotateRefreshTokens) this.#refresh.delete(presented)
      return this.#issue(record, grantType, this.options.rotateRefreshTokens ? undefined : presented)
    }
    if (grantType !== 'authorization_code') {
      return { ok: false, status: 400, error: 'unsupported_grant_type', errorDescription: `grant_type "${grantType}" is not supported.` }
    }
    const code = form.get('code') ?? ''
    const record = this.#codes.get(code)
    if (!record) return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The code passed is incorrect or expired.' }
    if (record.used) {
      this.#codes.delete(code)
      return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The code has already been used.' }
    }
    if (record.expiresAt < this.now()) return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The code passed is incorrect or expired.' }
    if (record.clientId !== clientId) return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The code was issued to another client.' }
    const redirectUri = form.get('redirect_uri')
    if (redirectUri !== null && redirectUri !== record.redirectUri) {
      return { ok: false, status: 400, error: 'redirect_uri_mismatch', errorDescription: 'The redirect_uri does not match the one used at authorize.' }
    }
    if (record.challenge) {
      const [method, challenge] = splitOnce(record.challenge, ':')
      const verifier = form.get('code_verifier') ?? ''
      const computed = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
      if (!verifier || computed !== challenge) return { ok: false, status: 400, error: 'invalid_grant', errorDescription: 'The code_verifier does not match the code_challenge.' }
    }
    record.used = true
    this.stats.codesRedeemed += 1
    return this.#issue({ ...record, expiresAt: 0 }, grantType)
  }

  async #issue(grant: TokenRecord, grantType: string, keepRefresh?: string): Promise<TokenGrantResult> {
    const expiresAt = this.now() + this.options.tokenTtlS * 1000
    const accessToken = this.mintAccessToken ? await this.mintAccessToken({ user: grant.user, scope: grant.scope, clientId: grant.clientId, expiresAt }) : randomToken('at')
    const refreshToken = keepRefresh ?? randomToken('rt')
    const record: TokenRecord = { user: grant.user, scope: grant.scope, clientId: grant.clientId, nonce: grant.nonce, authTime: grant.authTime, expiresAt }
    this.#tokens.set(accessToken, record)
    this.#refresh.set(refreshToken, { ...record, expiresAt: keepRefresh ? this.#refresh.get(keepRefresh)!.expiresAt : this.now() + this.options.refreshTtlS * 1000 })
    this.stats.tokensIssued += 1
    return { ok: true, accessToken, refreshToken, scope: grant.scope, expiresIn: this.options.tokenTtlS, user: grant.user, clientId: grant.clientId, nonce: grant.nonce, authTime: grant.authTime, grantType }
  }

  /** Registers a token that did not come from a grant (a Cloudflare API token, for instance). */
  addToken(token: string, user: UpstreamUser, scope = ''): void {
    this.#tokens.set(token, { user, scope, clientId: '', authTime: Math.floor(this.now() / 1000), expiresAt: Number.POSITIVE_INFINITY })
  }

  /** The live record behind an access token (scope, client), for endpoints that check scopes. */
  tokenRecord(authorization: string | null): TokenRecord | undefined {
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '')
    const record = match ? this.#tokens.get(match[1]) : undefined
    return record && record.expiresAt >= this.now() ? record : undefined
  }

  /** The user behind an `Authorization: token X` or `Bearer X` header, if the token is live. */
  userFor(authorization: string | null): UpstreamUser | undefined {
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '')
    if (!match) return undefined
    const record = this.#tokens.get(match[1])
    if (!record || record.expiresAt < this.now()) return undefined
    this.stats.userInfoCalls += 1
    return record.user
  }
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator)
  return [value.slice(0, at), value.slice(at + 1)]
}

function randomToken(prefix: string): string {
  return `mock_${prefix}_${randomBytes(18).toString('base64url')}`
}

/** Reads a form or JSON body the way OAuth token endpoints accept it. */
export async function readTokenRequest(request: Request): Promise<{ form: URLSearchParams; basic?: { clientId: string; clientSecret: string } }> {
  const text = await request.text()
  const type = request.headers.get('content-type') ?? ''
  const form = type.includes('json') ? new URLSearchParams(Object.entries(JSON.parse(text || '{}') as Record<string, string>)) : new URLSearchParams(text)
  const auth = /^basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')
  if (!auth) return { form }
  const [id, secret] = splitOnce(Buffer.from(auth[1], 'base64').toString('utf8'), ':')
  return { form, basic: { clientId: decodeURIComponent(id), clientSecret: decodeURIComponent(secret) } }
}

/** Successful grant fields a token endpoint answers with. */
export type GrantOk = Extract<TokenGrantResult, { ok: true }>

/**
 * The token endpoint of a provider that speaks plain RFC 6749 JSON (Google, OIDC, Cloudflare);
 * `extra` adds fields such as `id_token`. GitHub and Slack have their own quirks.
 */
export function jsonTokenEndpoint(url: string, core: ProviderCore, extra?: (grant: GrantOk) => Promise<Record<string, unknown>>): RequestHandler {
  return http.post(url, async ({ request }) => {
    const fault = await core.takeFault('token')
    if (fault) return faultResponse(fault)
    const { form, basic } = await readTokenRequest(request)
    const result = await core.grant(form, basic)
    if (!result.ok) return HttpResponse.json({ error: result.error, error_description: result.errorDescription }, { status: result.status })
    return HttpResponse.json({
      access_token: result.accessToken,
      refresh_token: result.refreshToken,
      expires_in: result.expiresIn,
      scope: result.scope,
      token_type: 'Bearer',
      ...(extra ? await extra(result) : {}),
    })
  })
}

/** A fault as an HTTP answer: an OAuth error body, or a bare status. */
export function faultResponse(fault: UpstreamFault, errorStatus = 400): Response {
  if (fault.error) return HttpResponse.json({ error: fault.error, error_description: `Injected fault: ${fault.error}` }, { status: fault.status ?? errorStatus })
  return new HttpResponse(`Injected upstream fault: HTTP ${fault.status}`, { status: fault.status ?? 500 })
}

/** Field names whose values never enter the transcript as they are (the redaction module's defaults). */
export const UPSTREAM_SECRET_FIELDS = new Set(DEFAULT_REDACTED_FIELDS)

/** Replaces secret fields of a form, JSON or query string with a placeholder; other text passes as is. */
export function redactText(text: string, contentType: string | null): unknown {
  if (!text) return undefined
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return applyJsonRedactors(JSON.parse(text), defaultRedactors)
    } catch {
      return text
    }
  }
  if (contentType?.includes('x-www-form-urlencoded') || /^[\w.-]+=[^\s]*(&[\w.-]+=[^\s]*)*$/.test(text)) {
    return Object.fromEntries(applyFieldRedactors(new URLSearchParams(text), defaultRedactors))
  }
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text
}

/** A URL with secret query parameters replaced (codes, states, tokens). */
export function redactUrl(url: string): string {
  return redactUrlQuery(url)
}
