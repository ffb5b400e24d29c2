import { createHash, randomBytes } from 'node:crypto'
import { CookieJar, runBrowser, type BrowserOptions } from './oauth-browser.ts'

/** The redirect URI scripted clients register: a loopback URL nothing listens on (the browser stops there). */
export const CLIENT_REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback'

/** RFC 8414 authorization server metadata, the fields the flow uses. */
export interface AuthServerMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  registration_endpoint?: string
  revocation_endpoint?: string
  code_challenge_methods_supported?: string[]
  [field: string]: unknown
}

/** RFC 9728 protected resource metadata. */
export interface ResourceMetadata {
  resource: string
  authorization_servers: string[]
  [field: string]: unknown
}

export interface Discovery {
  /** The `WWW-Authenticate` challenge of an unauthenticated API call. */
  challenge: string
  resourceMetadataUrl: string
  resource: ResourceMetadata
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
}

/**
 * Follows MCP discovery from an unauthenticated API call: 401 challenge → protected resource
 * metadata → authorization server metadata. Refuses to leave `base`'s origin (nothing reaches the network).
 */
export async function discover(base: URL | string, apiPath = '/mcp'): Promise<Discovery> {
  const origin = new URL(base).origin
  const local = (url: string) => {
    if (new URL(url).origin !== origin) throw new Error(`[mcp-harness] discovery points at ${url}, outside ${origin} (KI-24)`)
    return url
  }
  const api = await fetch(new URL(apiPath, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  })
  const challenge = api.headers.get('www-authenticate') ?? ''
  if (api.status !== 401 || !challenge) throw new Error(`[mcp-harness] expected 401 with WWW-Authenticate from ${apiPath}, got ${api.status}`)
  const resourceMetadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? new URL('/.well-known/oauth-protected-resource', base).href
  const prm = await fetch(local(resourceMetadataUrl))
  if (!prm.ok) {
    // KI-24: a server configured for another public origin publishes its documents only there.
    const server = await fetch(new URL('/.well-known/oauth-authorization-server', base))
    const listed = server.ok ? ((await server.json()) as { protected_resources?: string[] }).protected_resources ?? [] : []
    const elsewhere = listed.filter((resource) => new URL(resource).origin !== origin)
    throw new Error(
      `[mcp-harness] discovery failed: ${resourceMetadataUrl} answered ${prm.status}${/resource_metadata=/.test(challenge) ? '' : ' and the 401 challenge names no resource_metadata'}` +
        (elsewhere.length ? `; the server's resource is ${elsewhere.join(', ')}, outside ${origin} (KI-24)` : ''),
    )
  }
  const resource = (await prm.json()) as ResourceMetadata
  if (new URL(resource.resource).origin !== origin) throw new Error(`[mcp-harness] the protected resource is ${resource.resource}, outside ${origin} (KI-24)`)
  const issuer = resource.authorization_servers[0]
  const server = (await (await fetch(local(new URL('/.well-known/oauth-authorization-server', issuer).href))).json()) as AuthServerMetadata
  return { challenge, resourceMetadataUrl, resource, server }
}

/** Dynamic client registration (RFC 7591) of a public client using PKCE. */
export async function registerClient(server: AuthServerMetadata, options: { redirectUris?: string[]; name?: string; confidential?: boolean } = {}): Promise<RegisteredClient> {
  const response = await fetch(server.registration_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: options.name ?? 'mcp-harness scripted client',
      redirect_uris: options.redirectUris ?? [CLIENT_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: options.confidential ? 'client_secret_post' : 'none',
    }),
  })
  if (response.status !== 201) throw new Error(`[mcp-harness] registration failed: HTTP ${response.status} ${await response.text()}`)
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
  const response = await fetch(server.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(entries) })
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

/** The vitest helper is the package's `signIn()` (the same flow `mcp-harness token` runs). */
export { signIn } from '../../emulator/sign-in/flow.ts'
export type { SignInResult as SignIn, SignInOptions } from '../../emulator/sign-in/flow.ts'

/** Runs the authorization code flow up to the code, without redeeming it. */
export async function authorizeForCode(base: URL | string, server: AuthServerMetadata, client: RegisteredClient, options: BrowserOptions & { resource?: string } = {}) {
  const { verifier, challenge } = pkce()
  const url = authorizationUrl(server, client, { challenge, resource: options.resource })
  const browser = await runBrowser(base, url, options, new CookieJar())
  const code = browser.reachedClient ? (browser.finalUrl.searchParams.get('code') ?? '') : ''
  return { verifier, code, browser, state: url.searchParams.get('state') ?? '' }
}

/** Reads `.dev.vars`-style `KEY=value` lines (comments and blanks ignored). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1')
  }
  return vars
}
