/**
 * The upstream plugin without msw: its options, and what it does when no mock is configured (the
 * KI-26 session-owner audit, reporting unhandled outbound requests). The mocks themselves
 * (./index.ts) load on demand.
 */
import { createHash } from 'node:crypto'
import type { RequestHandler } from 'msw'
import { z } from 'zod'
import type { Transcript } from '../../../core/transcript.ts'
import { redactUrlQuery } from '../../../core/redact/event.ts'
import type { EmulatorPlugin } from '../types.ts'
import type { UpstreamProvider } from './handlers.ts'

/** Names of the mocked providers (`--upstream <name>`). */
export type UpstreamProviderName = 'github' | 'google' | 'cloudflare' | 'cloudflare-access' | 'oidc' | 'auth0' | 'workos' | 'logto' | 'descope' | 'stytch' | 'slack'

/** The mocked providers' names, in the order `UPSTREAM_PROVIDERS` lists them. */
export const UPSTREAM_PROVIDER_NAMES: readonly UpstreamProviderName[] = ['github', 'google', 'cloudflare', 'cloudflare-access', 'oidc', 'auth0', 'workos', 'logto', 'descope', 'stytch', 'slack']

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
  async setup(ctx, options) {
    // msw and the providers' code load only when there is something to mock (a start without mocks skips them).
    if (options.providers.length > 0 || options.handlers.length > 0) (await import('./index.ts')).setupMocks(ctx, options)
    if (options.reportUnhandled !== 'silent') {
      // The emulator records the unhandled request; say it where a person running `serve` looks, too.
      const reported = new Set<string>()
      ctx.transcript.on((event) => {
        if (event.layer !== 'upstream' || event.type !== 'unhandled' || typeof event.url !== 'string') return
        const url = new URL(redactUrlQuery(event.url))
        const key = `${String(event.method)} ${url.origin}${url.pathname}`
        if (reported.has(key)) return
        reported.add(key)
        process.stderr.write(`[mcp-harness] ERR_UNHANDLED_UPSTREAM: the Worker fetched ${String(event.method)} ${url.href}, which no upstream mock handles. Mock it: --upstream <${UPSTREAM_PROVIDER_NAMES.join('|')}> or upstream.handlers.\n`)
      })
    }
    if (options.auditSessionOwners) ctx.addMiddleware(sessionOwnerAudit(options.subjectOf ?? defaultSubjectOf))
  },
}

/** The upstream plugin's options after validation. */
export type UpstreamPluginOptions = z.output<typeof UpstreamOptionsSchema>

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
