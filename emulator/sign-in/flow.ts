/**
 * The OAuth flow an MCP client runs (MCP authorization spec, 2025-06-18 and later): protected
 * resource metadata (RFC 9728), authorization server metadata (RFC 8414), dynamic client
 * registration (RFC 7591), PKCE S256 (RFC 7636), the user's consent and upstream sign-in (the
 * headless browser), and the code exchange. Every failure names its step and what the server said.
 */
import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { HarnessError } from '../../core/errors.ts'
import { CookieJar, runBrowser, type BrowserOptions, type BrowserResult } from './browser.ts'

/** The redirect URI the headless client registers: a loopback URL nothing listens on (the browser stops there). */
export const CLIENT_REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback'

/** The steps of a sign-in, as failures name them. */
export type SignInStep = 'resource-metadata' | 'server-metadata' | 'registration' | 'consent' | 'upstream' | 'token'

/** RFC 8414 authorization server metadata, the fields the flow uses. */
export interface AuthServerMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  registration_endpoint?: string
  revocation_endpoint?: string
  code_challenge_methods_supported?: string[]
  scopes_supported?: string[]
  [field: string]: unknown
}

/** RFC 9728 protected resource metadata. */
export interface ResourceMetadata {
  resource: string
  authorization_servers: string[]
  scopes_supported?: string[]
  [field: string]: unknown
}

export interface Discovery {
  /** The `WWW-Authenticate` challenge of an unauthenticated API call ('' when the server sent none). */
  challenge: string
  resourceMetadataUrl?: string
  /** Absent for servers that publish only RFC 8414 metadata (pre-2025-06 MCP authorization). */
  resource?: ResourceMetadata
  server: AuthServerMetadata
}

export interface RegisteredClient {
  client_id: string
  client_secret?: string
  redirect_uris: string[]
  [field: string]: unknown
}

export interface TokenSet {
  access_token: string
  refresh_token?: string
  token_type: string
  expires_in?: number
  scope?: string
  [field: string]: unknown
}

/** Fails a sign-in step with what the server answered. */
export function signInError(step: SignInStep, what: string): HarnessError {
  return Object.assign(new HarnessError('ERR_SIGN_IN', `Failed to sign in at step "${step}": ${what}`), { step })
}

async function describe(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim()
  return `HTTP ${response.status}${text ? ` ${text.slice(0, 300)}` : ''}`
}

async function getJson<T>(url: string, step: SignInStep): Promise<T> {
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } })
  } catch (error) {
    throw signInError(step, `GET ${url} failed: ${(error as Error).message}`)
  }
  if (!response.ok) throw signInError(step, `GET ${url} answered ${await describe(response)}`)
  try {
    return (await response.json()) as T
  } catch {
    throw signInError(step, `GET ${url} answered HTTP ${response.status} that is not JSON`)
  }
}

/**
 * Follows MCP discovery from an unauthenticated call to `mcpUrl`: 401 challenge → protected
 * resource metadata → authorization server metadata. Refuses to leave the server's origin (KI-24).
 * @example const { server } = await discover('http://127.0.0.1:8788/mcp')
 */
export async function discover(mcpUrl: URL | string): Promise<Discovery> {
  const api = new URL(mcpUrl)
  const origin = api.origin
  const local = (url: string, step: SignInStep) => {
    if (new URL(url).origin !== origin) throw signInError(step, `discovery points at ${url}, outside ${origin} (KI-24: the server is configured for another public origin)`)
    return url
  }
  let challenge = ''
  try {
    const response = await fetch(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-harness sign-in', version: '0.1.0' } } }),
    })
    challenge = response.headers.get('www-authenticate') ?? ''
    await response.body?.cancel()
    if (response.status !== 401) throw signInError('resource-metadata', `POST ${api.href} without a token answered HTTP ${response.status}, not 401: the server does not ask for sign-in here (is this its MCP URL?)`)
  } catch (error) {
    if (error instanceof HarnessError) throw error
    throw signInError('resource-metadata', `POST ${api.href} failed: ${(error as Error).message}`)
  }
  const named = /resource_metadata="([^"]+)"/.exec(challenge)?.[1]
  // RFC 9728 §3.1: the path-specific document first, then the root one.
  const candidates = named ? [named] : [`${origin}/.well-known/oauth-protected-resource${api.pathname === '/' ? '' : api.pathname}`, `${origin}/.well-known/oauth-protected-resource`]
  let resource: ResourceMetadata | undefined
  let resourceMetadataUrl: string | undefined
  for (const candidate of candidates) {
    const response = await fetch(local(candidate, 'resource-metadata')).catch(() => undefined)
    if (response?.ok) {
      resource = (await response.json()) as ResourceMetadata
      resourceMetadataUrl = candidate
      break
    }
    await response?.body?.cancel()
    if (named) throw signInError('resource-metadata', `GET ${candidate} (named by the 401 challenge) answered ${response ? `HTTP ${response.status}` : 'nothing'}`)
  }
  if (resource && new URL(resource.resource).origin !== origin) throw signInError('resource-metadata', `the protected resource is ${resource.resource}, outside ${origin} (KI-24)`)
  const issuer = resource?.authorization_servers?.[0] ?? origin
  const issuerUrl = new URL(local(issuer, 'server-metadata'))
  // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
  const path = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname
  let server: AuthServerMetadata | undefined
  let lastError: unknown
  for (const url of [`${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`, `${issuerUrl.origin}/.well-known/openid-configuration${path}`]) {
    try {
      server = await getJson<AuthServerMetadata>(url, 'server-metadata')
      break
    } catch (error) {
      lastError = error
    }
  }
  if (!server) {
    // 401 without any OAuth document: a server that takes a static bearer token, not a sign-in.
    if (!resource) throw signInError('resource-metadata', `${api.href} answered 401 (${challenge || 'no WWW-Authenticate'}) but ${origin} publishes neither protected-resource nor authorization-server metadata: it expects a static bearer token, not an OAuth sign-in`)
    throw lastError
  }
  return { challenge, resourceMetadataUrl, resource, server }
}

/** Dynamic client registration (RFC 7591) of a public client using PKCE. */
export async function registerClient(server: AuthServerMetadata, options: { redirectUris?: string[]; name?: string; confidential?: boolean; scope?: string } = {}): Promise<RegisteredClient> {
  if (!server.registration_endpoint) throw signInError('registration', `the authorization server ${server.issuer} has no registration_endpoint (dynamic client registration); pass a registered client instead`)
  const response = await fetch(server.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: options.name ?? 'mcp-harness sign-in',
      redirect_uris: options.redirectUris ?? [CLIENT_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: options.confidential ? 'client_secret_post' : 'none',
      ...(options.scope ? { scope: options.scope } : {}),
    }),
  })
  if (response.status !== 201 && response.status !== 200) throw signInError('registration', `POST ${server.registration_endpoint} answered ${await describe(response)}`)
  return (await response.json()) as RegisteredClient
}

/** A PKCE pair (RFC 7636, S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** The authorization URL a client sends the user to. */
export function authorizationUrl(
  server: AuthServerMetadata,
  client: RegisteredClient,
  options: { challenge?: string; method?: string; redirectUri?: string; state?: string; resource?: string; scope?: string },
): URL {
  const url = new URL(server.authorization_endpoint)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', client.client_id)
  url.searchParams.set('redirect_uri', options.redirectUri ?? client.redirect_uris[0])
  url.searchParams.set('state', options.state ?? randomBytes(8).toString('hex'))
  if (options.challenge) {
    url.searchParams.set('code_challenge', options.challenge)
    url.searchParams.set('code_challenge_method', options.method ?? 'S256')
  }
  if (options.resource) url.searchParams.set('resource', options.resource)
  if (options.scope) url.searchParams.set('scope', options.scope)
  return url
}

/** POSTs a form to the token endpoint and returns status and JSON body. */
export async function tokenRequest(server: AuthServerMetadata, form: Record<string, string | undefined>): Promise<{ status: number; body: Record<string, unknown> }> {
  const entries = Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== undefined)
  const response = await fetch(server.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(entries) })
  const text = await response.text()
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    body = { text }
  }
  return { status: response.status, body }
}

/** Exchanges an authorization code (with its verifier) for tokens. */
export function exchangeCode(server: AuthServerMetadata, client: RegisteredClient, options: { code: string; verifier?: string; redirectUri?: string; resource?: string }) {
  return tokenRequest(server, {
    grant_type: 'authorization_code',
    code: options.code,
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uri: options.redirectUri ?? client.redirect_uris[0],
    code_verifier: options.verifier,
    resource: options.resource,
  })
}

/** Runs the authorization code flow up to the code, without redeeming it. */
export async function authorizeForCode(base: URL | string, server: AuthServerMetadata, client: RegisteredClient, options: BrowserOptions & { resource?: string; scope?: string; jar?: CookieJar } = {}) {
  const { verifier, challenge } = pkce()
  const url = authorizationUrl(server, client, { challenge, resource: options.resource, scope: options.scope })
  const browser = await runBrowser(base, url, options, options.jar ?? new CookieJar())
  // Only the client's own callback carries our code: a stop at the Worker's upstream callback has the upstream's.
  const code = browser.reachedClient ? (browser.finalUrl.searchParams.get('code') ?? '') : ''
  return { verifier, code, browser, state: url.searchParams.get('state') ?? '' }
}

/** Options of `signIn()`. */
export const SignInOptionsSchema = z.object({
  /** The upstream user who signs in (login, id or email; default the provider's first user). */
  user: z.string().min(1).optional(),
  /** Scopes to ask for (default: what the 401 challenge or the resource metadata names). */
  scopes: z.array(z.string().min(1)).optional(),
  /** A client registered earlier (default: register a new public client). */
  client: z.object({ client_id: z.string().min(1), client_secret: z.string().optional(), redirect_uris: z.array(z.string()).min(1) }).catchall(z.unknown()).optional(),
  /** Approve (default) or deny at the Worker's consent page. */
  consent: z.enum(['approve', 'deny']).default('approve'),
  /** `auto`: Chromium takes over pages that need JavaScript; `never`: only the HTML browser. */
  javascript: z.enum(['auto', 'never']).default('auto'),
})
export type SignInOptions = z.input<typeof SignInOptionsSchema> & Pick<BrowserOptions, 'beforeStep' | 'denyUpstream' | 'maxSteps'>

/** What `signIn()` returns: tokens the TS SDK can use, and how the flow went. */
export interface SignInResult {
  tokens: TokenSet
  /** The authorization code and PKCE verifier the flow used (single-use; tests check they never leak). */
  code: string
  verifier: string
  client: RegisteredClient
  discovery: Discovery
  browser: BrowserResult
  /** Milliseconds per phase. */
  timings: { discoverMs: number; registerMs: number; authorizeMs: number; tokenMs: number; totalMs: number }
}

/** An emulator (anything with a `url`) or a URL: a bare origin means its `/mcp`. */
export type SignInTarget = { url: URL } | URL | string

function mcpUrlOf(target: SignInTarget): URL {
  const url = new URL(typeof target === 'object' && 'url' in target && !(target instanceof URL) ? target.url : (target as URL | string))
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/mcp'
  return url
}

/**
 * Signs in to an OAuth-protected MCP server headless, as a real client and user would: discovery,
 * registration, PKCE S256, consent (any approval form), mocked upstream sign-in, code exchange.
 * @example const { tokens } = await signIn(emulator, { user: 'octocat' }); new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${tokens.access_token}` } } })
 */
export async function signIn(target: SignInTarget, input: SignInOptions = {}): Promise<SignInResult> {
  const parsed = SignInOptionsSchema.safeParse(input)
  if (!parsed.success) throw new HarnessError('ERR_OPTIONS', `Invalid option "signIn.${parsed.error.issues[0].path.join('.')}": ${parsed.error.issues[0].message}`)
  const options = parsed.data
  const mcpUrl = mcpUrlOf(target)
  const t0 = performance.now()
  const discovery = await discover(mcpUrl)
  const t1 = performance.now()
  const scopeFromChallenge = /scope="([^"]+)"/.exec(discovery.challenge)?.[1]
  const scope = options.scopes?.join(' ') ?? scopeFromChallenge ?? discovery.resource?.scopes_supported?.join(' ')
  const client = (options.client as RegisteredClient | undefined) ?? (await registerClient(discovery.server, { scope }))
  const t2 = performance.now()
  const resource = discovery.resource?.resource
  const { verifier, code, browser } = await authorizeForCode(mcpUrl.origin, discovery.server, client, {
    ...input,
    user: options.user,
    consent: options.consent,
    javascript: options.javascript,
    resource,
    scope,
  })
  if (!code) {
    const error = browser.reachedClient ? browser.finalUrl.searchParams.get('error') : null
    const last = browser.steps.at(-1)
    const what = error
      ? `the client's callback got error=${error}${browser.finalUrl.searchParams.get('error_description') ? ` (${browser.finalUrl.searchParams.get('error_description')})` : ''}`
      : `the flow stopped at ${last?.method ?? 'GET'} ${browser.finalUrl.href.split('?')[0]}, which answered HTTP ${browser.lastStatus}${browser.lastBody ? `: ${browser.lastBody.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`
    if (browser.needsJavaScript) {
      const page = browser.finalUrl.href.split('?')[0]
      if (options.javascript === 'never') throw signInError('consent', `the page at ${page} needs JavaScript (it has no form the headless browser can submit) and javascript is 'never' (--no-javascript): allow Chromium to run it`)
      throw signInError('consent', `the page at ${page} needs JavaScript and no Chromium was found: install chromium or set CHROMIUM_PATH (the page has no form the headless browser can submit)`)
    }
    // Once the browser went to the upstream, a stop there or at the Worker's callback is the upstream sign-in's.
    const afterUpstream = browser.steps.some((step) => new URL(step.url).origin !== mcpUrl.origin)
    throw signInError(afterUpstream ? 'upstream' : 'consent', what)
  }
  const t3 = performance.now()
  const { status, body } = await exchangeCode(discovery.server, client, { code, verifier, resource })
  if (status !== 200 || typeof body.access_token !== 'string') throw signInError('token', `POST ${discovery.server.token_endpoint} answered HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`)
  const t4 = performance.now()
  const round = (ms: number) => Math.round(ms * 10) / 10
  return {
    tokens: body as TokenSet,
    code,
    verifier,
    client,
    discovery,
    browser,
    timings: { discoverMs: round(t1 - t0), registerMs: round(t2 - t1), authorizeMs: round(t3 - t2), tokenMs: round(t4 - t3), totalMs: round(t4 - t0) },
  }
}
