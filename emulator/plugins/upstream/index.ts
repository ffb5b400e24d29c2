import { createHash } from 'node:crypto'
import { getResponse, type RequestHandler } from 'msw'
import { z } from 'zod'
import { headersToRecord, type Transcript } from '../../../core/transcript.ts'
import type { EmulatorPlugin } from '../types.ts'
import { HarnessError } from '../../../core/errors.ts'
import { redactText, redactUrl, type UpstreamProvider } from './handlers.ts'
import { github } from './github.ts'
import { google } from './google.ts'
import { auth0, descope, logto, oidc, slack, stytch, workos } from './oidc.ts'
import { cloudflare, cloudflareAccess } from './cloudflare.ts'

export const UPSTREAM = 'upstream'

/** Path on the emulator's front door that serves a mocked provider's browser-facing authorize page. */
export const UPSTREAM_BROWSER_PATH = '/__mcp-harness/upstream/authorize'

/** An msw request handler for an upstream API (named here so emitted declarations need not reach into msw's internals). */
export interface UpstreamHandler extends RequestHandler {}

const isProvider = (value: unknown): value is UpstreamProvider =>
  typeof value === 'object' && value !== null && Array.isArray((value as UpstreamProvider).handlers) && typeof (value as UpstreamProvider).authorize === 'function'

export const UpstreamOptionsSchema = z.object({
  /** Mocked providers (`upstream.github()`, `upstream.google()`, `upstream.oidc({ issuer })`). */
  providers: z.array(z.custom<UpstreamProvider>(isProvider, 'expected a provider made by an upstream factory (upstream.github(), upstream.google(), upstream.cloudflare(), upstream.oidc(), …)')).default([]),
  /** Extra msw handlers for other upstream APIs the Worker calls. */
  handlers: z.array(z.custom<UpstreamHandler>((value) => typeof value === 'object' && value !== null)).default([]),
  /** KI-26: record `session:owner-changed` when one MCP session id is used with two token subjects. */
  auditSessionOwners: z.boolean().default(true),
  /** Where an outbound request no mock answers is reported besides the transcript (once per method and URL path; default `stderr`). */
  reportUnhandled: z.enum(['stderr', 'silent']).optional(),
  /** Derives the subject of a bearer token; the default reads workers-oauth-provider's `<userId>:<grantId>:<secret>`. */
  subjectOf: z.custom<(token: string) => string>((value) => typeof value === 'function').optional(),
})

export type UpstreamOptions = z.input<typeof UpstreamOptionsSchema>

/**
 * Mocked OAuth upstreams answered inside Miniflare's `outboundService` with msw handlers; their
 * browser-facing authorize pages are served at the front door under `UPSTREAM_BROWSER_PATH`.
 * @example createEmulator({ config: 'server/oauth', upstream: { providers: [upstream.github()] } })
 */
export const upstreamPlugin: EmulatorPlugin<typeof UpstreamOptionsSchema> = {
  name: UPSTREAM,
  options: UpstreamOptionsSchema,
  setup(ctx, options) {
    const handlers = [...options.providers.flatMap((provider) => provider.handlers), ...options.handlers]
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
    if (options.reportUnhandled !== 'silent') {
      // The emulator records the unhandled request; say it where a person running `serve` looks, too.
      const reported = new Set<string>()
      ctx.transcript.on((event) => {
        if (event.layer !== 'upstream' || event.type !== 'unhandled' || typeof event.url !== 'string') return
        const url = new URL(redactUrl(event.url))
        const key = `${String(event.method)} ${url.origin}${url.pathname}`
        if (reported.has(key)) return
        reported.add(key)
        process.stderr.write(`[mcp-harness] ERR_UNHANDLED_UPSTREAM: the Worker fetched ${String(event.method)} ${url.href}, which no upstream mock handles. Mock it: --upstream <${Object.keys(UPSTREAM_PROVIDERS).join('|')}> or upstream.handlers.\n`)
      })
    }
    if (options.auditSessionOwners) ctx.addMiddleware(sessionOwnerAudit(options.subjectOf ?? defaultSubjectOf))
  },
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

/** workers-oauth-provider tokens read `<userId>:<grantId>:<secret>`; anything else is keyed by its hash. */
function defaultSubjectOf(token: string): string {
  const parts = token.split(':')
  if (parts.length >= 3) return parts.slice(0, -2).join(':')
  return `token#${createHash('sha256').update(token).digest('hex').slice(0, 12)}`
}

/**
 * KI-26: a session id is a bearer capability. Tracks which token subject opened each MCP session
 * and records `session:owner-changed` when another subject uses it.
 */
function sessionOwnerAudit(subjectOf: (token: string) => string) {
  const owners = new Map<string, string>()
  const subjectByExchange = new Map<number, string>()
  let watching: (() => void) | undefined
  // Headers and URL only: building the exchange's Fetch Request for this would cost every request.
  const subjectFor = (headers: Headers) => {
    const match = /^bearer\s+(\S+)$/i.exec(headers.get('authorization') ?? '')
    return match ? subjectOf(match[1]) : undefined
  }
  const sessionOf = (headers: Headers, url: string) => {
    const header = headers.get('mcp-session-id')
    if (header) return `streamable-http:${header}`
    const query = new URL(url).searchParams.get('sessionId')
    return query ? `sse:${query}` : undefined
  }
  const claim = (transcript: Transcript, session: string, subject: string) => {
    const owner = owners.get(session)
    if (owner === undefined) owners.set(session, subject)
    else if (owner !== subject) transcript.record({ layer: 'harness', type: 'session:owner-changed', session, owner, subject, ki: 'KI-26' })
  }
  return {
    name: `${UPSTREAM}:session-owners`,
    onRequest({ headers, url, transcript, exchange }: { headers: Headers; url: string; transcript: Transcript; exchange: number }) {
      if (!watching) {
        // The SSE transport names its session in the first `endpoint` event of the GET stream.
        watching = transcript.on((event) => {
          if (event.layer !== 'client' || event.type !== 'sse' || event.event !== 'endpoint' || event.exchange === undefined) return
          const subject = subjectByExchange.get(event.exchange)
          const text = typeof event.dataText === 'string' ? event.dataText : String(event.data ?? '')
          const id = /sessionId=([^&\s"]+)/.exec(text)?.[1]
          if (subject && id) claim(transcript, `sse:${id}`, subject)
        })
      }
      const subject = subjectFor(headers)
      if (!subject) return undefined
      subjectByExchange.set(exchange, subject)
      const session = sessionOf(headers, url)
      if (session) claim(transcript, session, subject)
      return undefined
    },
    onResponse({ headers, transcript, exchange }: { headers: Headers; transcript: Transcript; exchange: number }, response: Response) {
      const subject = subjectByExchange.get(exchange)
      const id = response.headers.get('mcp-session-id')
      if (subject && id && !headers.get('mcp-session-id')) claim(transcript, `streamable-http:${id}`, subject)
      // Only an SSE stream may still name its session later (in its `endpoint` event).
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) subjectByExchange.delete(exchange)
      return response
    },
  }
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

/** Names of the mocked providers (`--upstream <name>`). */
export type UpstreamProviderName = 'github' | 'google' | 'cloudflare' | 'cloudflare-access' | 'oidc' | 'auth0' | 'workos' | 'logto' | 'descope' | 'stytch' | 'slack'

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
