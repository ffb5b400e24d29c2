import { getResponse, type RequestHandler } from 'msw'
import { headersToRecord, type Transcript } from '../../../core/transcript.ts'
import type { PluginContext } from '../types.ts'
import { HarnessError } from '../../../core/errors.ts'
import { redactText, redactUrl, type UpstreamProvider } from './handlers.ts'
import { github } from './github.ts'
import { google } from './google.ts'
import { auth0, descope, logto, oidc, slack, stytch, workos } from './oidc.ts'
import { cloudflare, cloudflareAccess } from './cloudflare.ts'

import { UPSTREAM, UPSTREAM_BROWSER_PATH, type UpstreamPluginOptions, type UpstreamProviderName } from './plugin.ts'

export { UPSTREAM, UPSTREAM_BROWSER_PATH, UPSTREAM_PROVIDER_NAMES, UpstreamOptionsSchema, upstreamPlugin, type UpstreamHandler, type UpstreamOptions, type UpstreamProviderName } from './plugin.ts'

/**
 * The part of the upstream plugin that needs msw: outbound requests answered by the mocks, and the
 * providers' browser-facing authorize pages. The plugin loads it only when mocks are configured.
 */
export function setupMocks(ctx: PluginContext, options: UpstreamPluginOptions): void {
  const handlers = [...options.providers.flatMap((provider) => provider.handlers), ...options.handlers] as RequestHandler[]
  if (handlers.length > 0) {
    ctx.addOutboundHandler(async (request) => {
      const owner = options.providers.find((provider) => provider.handlers.some((handler) => handlerMatches(handler, request)))
      const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.clone().text()
      const exchange = ctx.transcript.nextExchange()
      const response = await getResponse(handlers, request)
      if (!response) return undefined
      recordExchange(ctx.transcript, exchange, owner?.name, request, body, response.clone())
      return response
    })
  }
  if (options.providers.length > 0) {
    ctx.addMiddleware({
      name: `${UPSTREAM}:browser`,
      onRequest({ url: href, transcript }) {
        const url = new URL(href)
        if (url.pathname !== UPSTREAM_BROWSER_PATH) return undefined
        return serveAuthorizePage(options.providers, url, transcript)
      },
    })
  }
}

function handlerMatches(handler: RequestHandler, request: Request): boolean {
  // msw keeps the handler's method and path in `info`; a cheap pre-check to name the provider.
  const info = (handler as unknown as { info?: { method?: unknown; path?: unknown } }).info
  if (!info || typeof info.path !== 'string') return false
  const method = typeof info.method === 'string' ? info.method : ''
  return (method === '' || method === request.method) && request.url.split('?')[0] === info.path
}

function recordExchange(transcript: Transcript, exchange: number, provider: string | undefined, request: Request, body: string, response: Response): void {
  transcript.record({
    layer: 'upstream',
    type: 'request',
    exchange,
    provider,
    method: request.method,
    url: redactUrl(request.url),
    headers: headersToRecord(request.headers),
    ...(body ? { body: redactText(body, request.headers.get('content-type')) } : {}),
  })
  void response.text().then((text) => {
    transcript.record({
      layer: 'upstream',
      type: 'response',
      exchange,
      provider,
      status: response.status,
      headers: headersToRecord(response.headers),
      ...(text ? { body: redactText(text, response.headers.get('content-type')) } : {}),
    })
  })
}

/** The browser's visit to a provider's authorize page: the driver passes the page URL as `url`. */
function serveAuthorizePage(providers: UpstreamProvider[], url: URL, transcript: Transcript): Response {
  const target = url.searchParams.get('url') ?? ''
  const provider = providers.find((candidate) => candidate.authorizeUrls.includes(target.split('?')[0]))
  if (!provider) {
    return new Response(`[mcp-harness] No mocked provider serves the authorize page ${target.split('?')[0]} (mocked: ${providers.flatMap((p) => p.authorizeUrls).join(', ')}).`, {
      status: 404,
      headers: { 'content-type': 'text/plain' },
    })
  }
  const outcome = provider.authorize(target, { user: url.searchParams.get('user') ?? undefined, deny: url.searchParams.get('deny') === '1' })
  transcript.record({
    layer: 'upstream',
    type: 'authorize',
    provider: provider.name,
    url: redactUrl(target),
    status: outcome.status,
    ...(outcome.location ? { location: redactUrl(outcome.location) } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
  })
  if (outcome.location) return new Response(null, { status: outcome.status, headers: { location: outcome.location } })
  return new Response(`${outcome.error}: ${outcome.errorDescription}`, { status: outcome.status, headers: { 'content-type': 'text/plain', 'x-oauth-error': outcome.error ?? '' } })
}

/**
 * Factories for mocked upstream providers.
 * @example upstream.github({ users: [{ id: 1, login: 'alice' }] })
 */
export const upstream = { github, google, cloudflare, cloudflareAccess, oidc, auth0, workos, logto, descope, stytch, slack }

/**
 * Every mocked provider by the name the harness config and `--upstream <name>[=users.json]` use.
 * Each factory takes one options object validated with zod (`{ users?, clientId?, clientSecret?, … }`)
 * and throws `ERR_OPTIONS` naming the option path when it is wrong.
 * @example UPSTREAM_PROVIDERS.github({ users: JSON.parse(readFileSync('users.json', 'utf8')) })
 */
export const UPSTREAM_PROVIDERS: Readonly<Record<UpstreamProviderName, (options?: Record<string, unknown>) => UpstreamProvider>> = {
  github: (options) => github(options as never),
  google: (options) => google(options as never),
  cloudflare: (options) => cloudflare(options as never),
  'cloudflare-access': (options) => cloudflareAccess(options as never),
  oidc: (options) => oidc((options ?? {}) as never),
  auth0: (options) => auth0(options as never),
  workos: (options) => workos(options as never),
  logto: (options) => logto(options as never),
  descope: (options) => descope(options as never),
  stytch: (options) => stytch(options as never),
  slack: (options) => slack(options as never),
}

/**
 * A mocked provider by name, for `--upstream <name>[=file.json]` and the harness config: the file
 * holds either the users array or the whole options object.
 * @example createUpstream('github', JSON.parse(readFileSync('users.json', 'utf8')))
 */
export function createUpstream(name: string, usersOrOptions: unknown[] | Record<string, unknown> = {}): UpstreamProvider {
  const make = (UPSTREAM_PROVIDERS as Record<string, ((options?: Record<string, unknown>) => UpstreamProvider) | undefined>)[name]
  if (!make) throw new HarnessError('ERR_OPTIONS', `Unknown upstream "${name}": expected one of ${Object.keys(UPSTREAM_PROVIDERS).join(', ')}.`)
  return make(Array.isArray(usersOrOptions) ? { users: usersOrOptions } : usersOrOptions)
}
