import { z } from 'zod'
import type { FrontContext } from '../internal/front.ts'
import type { Transcript } from '../../core/transcript.ts'
import type { EmulatorPlugin } from './types.ts'

/**
 * A model of the browser's CORS enforcement, after the Fetch standard (https://fetch.spec.whatwg.org/):
 * which requests need a preflight, whether the preflight and the response pass, and which response
 * headers a page's script may read.
 * @note The preflight cache (Fetch §4.9 "CORS-preflight cache") is not modelled: every non-simple
 * request is checked against a fresh preflight, which is what a browser does on first contact.
 */

/** The plugin's name, and its key in the emulator options. */
export const CORS = 'cors'

/** The request credentials mode (Fetch §2.2.5 "credentials mode"); `fetch()` defaults to `same-origin`. */
export type CredentialsMode = 'omit' | 'same-origin' | 'include'

/** A cross-origin request as a page's script issues it. */
export interface CorsRequest {
  method: string
  url: string
  /** The page's origin, e.g. `http://127.0.0.1:5173`. */
  origin: string
  headers?: HeadersInit
  credentials?: CredentialsMode
}

/** The parts of a response the CORS checks read. */
export interface CorsResponse {
  status: number
  headers: HeadersInit
}

/** Why a browser refused a request: the stage, a machine-readable reason, the header at fault, and Chromium's wording. */
export interface CorsBlock {
  stage: 'preflight' | 'response'
  reason:
    | 'preflight-status'
    | 'missing-allow-origin'
    | 'origin-mismatch'
    | 'wildcard-with-credentials'
    | 'multiple-allow-origin'
    | 'missing-allow-credentials'
    | 'method-not-allowed'
    | 'header-not-allowed'
  /** The response header that is missing or wrong (or, for `header-not-allowed`, the request header refused). */
  header: string
  message: string
}

/** What a browser would do with one request/response pair. */
export interface CorsVerdict {
  /** Whether the browser sends a preflight first (Fetch §4.1 main fetch, step "use-CORS-preflight"). */
  preflight: boolean
  /** The request headers that make the request non-simple. */
  unsafeHeaders: string[]
  /** Whether the page's script receives the response. */
  allowed: boolean
  blocked?: CorsBlock
  /** Response headers the script asked to read but cannot (not safelisted, not exposed). */
  hidden: string[]
  /** Response headers the script can read. */
  readable: string[]
}

const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST'])
const SAFELISTED_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'])
// Fetch §2.2.2 "CORS-safelisted response-header name".
const SAFELISTED_RESPONSE_HEADERS = new Set(['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'])
// Headers a browser sets itself; a script cannot, so they never count as unsafe (Fetch §2.2.2 "forbidden request-header").
const BROWSER_SET_HEADERS = new Set(['origin', 'host', 'connection', 'content-length', 'referer', 'user-agent', 'accept-encoding', 'cookie', 'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-dest'])

/** Forbidden request-header names (Fetch §2.2.2), including the `Sec-` and `Proxy-` prefixes. */
function isBrowserSet(name: string): boolean {
  return BROWSER_SET_HEADERS.has(name) || name.startsWith('sec-') || name.startsWith('proxy-')
}

/** True for a CORS-unsafe request-header byte (Fetch §2.2.2). */
function hasUnsafeByte(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true
    if ('"():<>?@[\\]{}'.includes(char)) return true
  }
  return false
}

/** Fetch §2.2.2 "CORS-safelisted request-header": name and value both qualify. */
export function isSafelistedRequestHeader(name: string, value: string): boolean {
  if (value.length > 128) return false
  switch (name.toLowerCase()) {
    case 'accept':
      return !hasUnsafeByte(value)
    case 'accept-language':
    case 'content-language':
      return /^[0-9A-Za-z *,\-.;=]*$/.test(value)
    case 'content-type': {
      if (hasUnsafeByte(value)) return false
      const essence = value.split(';')[0]!.trim().toLowerCase()
      return SAFELISTED_CONTENT_TYPES.has(essence)
    }
    case 'range':
      return /^bytes=\d*-\d*$/.test(value)
    default:
      return false
  }
}

/** Fetch §2.2.2 "CORS-unsafe request-header names": sorted, lower-cased, the ones that force a preflight. */
export function unsafeRequestHeaderNames(headers: HeadersInit = {}): string[] {
  const names = new Set<string>()
  let safelistedBytes = 0
  const list = new Headers(headers)
  list.forEach((value, name) => {
    if (isBrowserSet(name)) return
    if (isSafelistedRequestHeader(name, value)) safelistedBytes += name.length + value.length
    else names.add(name)
  })
  // "If safelistValueSize is greater than 1024, then for each name of potentiallyUnsafeNames, append name."
  if (safelistedBytes > 1024) list.forEach((_value, name) => !isBrowserSet(name) && names.add(name))
  return [...names].sort()
}

/** Whether a browser preflights this request (Fetch §4.1 main fetch: unsafe method or unsafe headers). */
export function needsPreflight(request: Pick<CorsRequest, 'method' | 'headers'>): boolean {
  return !SAFELISTED_METHODS.has(request.method.toUpperCase()) || unsafeRequestHeaderNames(request.headers).length > 0
}

/** The OPTIONS request a browser sends first (Fetch §4.8 "CORS-preflight fetch", steps 1-4). */
export function preflightRequestFor(request: CorsRequest): Request {
  const headers = new Headers({ origin: request.origin, accept: '*/*', 'access-control-request-method': request.method.toUpperCase() })
  const unsafe = unsafeRequestHeaderNames(request.headers)
  if (unsafe.length) headers.set('access-control-request-headers', unsafe.join(','))
  return new Request(request.url, { method: 'OPTIONS', headers })
}

/** Fetch §2.2 "extracting header list values": a comma-separated header, trimmed, empty items dropped. */
function listValues(headers: Headers, name: string): string[] {
  const value = headers.get(name)
  if (value === null) return []
  return value.split(',').map((item) => item.trim()).filter(Boolean)
}

function blockedBy(request: CorsRequest, stage: CorsBlock['stage'], reason: CorsBlock['reason'], header: string, detail: string): CorsBlock {
  const prefix = `Access to fetch at '${request.url}' from origin '${request.origin}' has been blocked by CORS policy: `
  const where = stage === 'preflight' ? "Response to preflight request doesn't pass access control check: " : ''
  return { stage, reason, header, message: prefix + (reason === 'method-not-allowed' || reason === 'header-not-allowed' ? '' : where) + detail }
}

/** Fetch §4.10 "CORS check": the response's `Access-Control-Allow-Origin` (and credentials) against the request. */
export function corsCheck(request: CorsRequest, response: CorsResponse, stage: CorsBlock['stage'] = 'response'): CorsBlock | undefined {
  const headers = new Headers(response.headers)
  const credentials = request.credentials ?? 'same-origin'
  const allowOrigin = headers.get('access-control-allow-origin')
  // 1-2. "If origin is null, then return failure."
  if (allowOrigin === null) {
    return blockedBy(request, stage, 'missing-allow-origin', 'access-control-allow-origin', "No 'Access-Control-Allow-Origin' header is present on the requested resource.")
  }
  if (allowOrigin.includes(',')) {
    return blockedBy(request, stage, 'multiple-allow-origin', 'access-control-allow-origin', `The 'Access-Control-Allow-Origin' header contains multiple values '${allowOrigin}', but only one is allowed.`)
  }
  // 3. "If request's credentials mode is not "include" and origin is `*`, then return success."
  if (allowOrigin === '*') {
    if (credentials !== 'include') return undefined
    return blockedBy(request, stage, 'wildcard-with-credentials', 'access-control-allow-origin', "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.")
  }
  // 4. "If the result of byte-serializing a request origin with request is not origin, then return failure."
  if (allowOrigin !== request.origin) {
    return blockedBy(request, stage, 'origin-mismatch', 'access-control-allow-origin', `The 'Access-Control-Allow-Origin' header has a value '${allowOrigin}' that is not equal to the supplied origin.`)
  }
  // 5-7. With credentials, `Access-Control-Allow-Credentials` must be exactly `true`.
  if (credentials === 'include' && headers.get('access-control-allow-credentials') !== 'true') {
    return blockedBy(request, stage, 'missing-allow-credentials', 'access-control-allow-credentials', "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.")
  }
  return undefined
}

/** Fetch §4.8 "CORS-preflight fetch", steps 6-7: the preflight response against the actual request. */
export function checkPreflight(request: CorsRequest, preflight: CorsResponse): CorsBlock | undefined {
  // 7. "If a CORS check for request and response returns success and response's status is an ok status".
  const cors = corsCheck(request, preflight, 'preflight')
  if (cors) return cors
  if (preflight.status < 200 || preflight.status > 299) {
    return blockedBy(request, 'preflight', 'preflight-status', 'status', `It does not have HTTP ok status.`)
  }
  const headers = new Headers(preflight.headers)
  const credentials = request.credentials ?? 'same-origin'
  const method = request.method.toUpperCase()
  const methods = listValues(headers, 'access-control-allow-methods')
  const wildcardAllowed = credentials !== 'include'
  // 7.5. A method that is neither listed nor safelisted fails (`*` counts only without credentials).
  if (!methods.includes(method) && !SAFELISTED_METHODS.has(method) && !(wildcardAllowed && methods.includes('*'))) {
    return blockedBy(request, 'preflight', 'method-not-allowed', 'access-control-allow-methods', `Method ${method} is not allowed by Access-Control-Allow-Methods in preflight response.`)
  }
  const allowed = listValues(headers, 'access-control-allow-headers').map((name) => name.toLowerCase())
  for (const name of unsafeRequestHeaderNames(request.headers)) {
    // 7.7. "If request's header list contains `Authorization` and headerNames does not contain it, return a network error": `*` never covers it.
    const coveredByWildcard = wildcardAllowed && allowed.includes('*') && name !== 'authorization'
    if (!allowed.includes(name) && !coveredByWildcard) {
      return blockedBy(request, 'preflight', 'header-not-allowed', 'access-control-allow-headers', `Request header field ${name} is not allowed by Access-Control-Allow-Headers in preflight response.`)
    }
  }
  return undefined
}

/** Fetch §2.2.6 "CORS-filtered response": the header names a script may read from a CORS response. */
export function readableResponseHeaders(request: Partial<CorsRequest>, response: CorsResponse): string[] {
  const headers = new Headers(response.headers)
  const exposed = listValues(headers, 'access-control-expose-headers').map((name) => name.toLowerCase())
  const all = exposed.includes('*') && request.credentials !== 'include'
  const readable: string[] = []
  headers.forEach((_value, name) => {
    if (name === 'set-cookie') return
    if (SAFELISTED_RESPONSE_HEADERS.has(name) || exposed.includes(name) || all) readable.push(name)
  })
  return readable
}

/** The MCP response headers a browser client needs to read. */
export const MCP_READ_HEADERS = ['mcp-session-id', 'www-authenticate']

/**
 * What a browser would do with one request: preflight needed or not, preflight and response checks,
 * and which of `read` the script cannot see.
 * @example corsVerdict({ request: { method: 'POST', url, origin, headers: { 'content-type': 'application/json' } }, preflight, response })
 */
export function corsVerdict(input: { request: CorsRequest; preflight?: CorsResponse; response?: CorsResponse; read?: string[] }): CorsVerdict {
  const { request, preflight, response } = input
  const read = (input.read ?? MCP_READ_HEADERS).map((name) => name.toLowerCase())
  const unsafeHeaders = unsafeRequestHeaderNames(request.headers)
  const needed = needsPreflight(request)
  const base = { preflight: needed, unsafeHeaders, hidden: [] as string[], readable: [] as string[] }
  if (needed) {
    if (!preflight) throw new TypeError('corsVerdict: this request needs a preflight; pass the preflight response.')
    const blocked = checkPreflight(request, preflight)
    if (blocked) return { ...base, allowed: false, blocked }
  }
  if (!response) return { ...base, allowed: true }
  const blocked = corsCheck(request, response)
  if (blocked) return { ...base, allowed: false, blocked }
  const readable = readableResponseHeaders(request, response)
  return { ...base, allowed: true, hidden: hiddenHeaders(response, readable, read), readable }
}

/** The headers of `read` that the response carries but a script cannot read. */
function hiddenHeaders(response: CorsResponse, readable: string[], read: string[]): string[] {
  const present = new Set<string>()
  new Headers(response.headers).forEach((_value, name) => present.add(name))
  return read.map((name) => name.toLowerCase()).filter((name) => present.has(name) && !readable.includes(name))
}

export const CorsOptionsSchema = z.object({
  /**
   * `false` (default): requests that carry a cross-origin `Origin` are judged and the verdicts recorded;
   * traffic is unchanged (a real browser enforces). `true`: the front door also acts as the browser for
   * non-browser clients: it sends the preflight, drops blocked requests as a network error, and hides
   * unexposed response headers.
   */
  enforce: z.boolean().default(false),
  /** The credentials mode the modelled page uses (`fetch()` defaults to `same-origin`). */
  credentials: z.enum(['omit', 'same-origin', 'include']).default('same-origin'),
  /** Response headers the client needs to read; reported as `cors:header-hidden` when not exposed. */
  read: z.array(z.string().min(1)).default([...MCP_READ_HEADERS]),
})

export type CorsOptions = z.input<typeof CorsOptionsSchema>

/** The `harness` transcript events this plugin records. */
export type CorsEventType = 'cors:preflight' | 'cors:blocked' | 'cors:header-hidden' | 'cors:allowed'

/** What CORS reads of a front door request (its Fetch `Request` is not built for it: that costs every request). */
type FrontRequest = Pick<FrontContext, 'method' | 'url' | 'headers'>

/** The page origin of a request, when it is cross-origin to the front door (same-origin requests are not CORS requests). */
function crossOrigin(request: FrontRequest): string | undefined {
  const origin = request.headers.get('origin')
  if (!origin || origin === 'null') return origin ?? undefined
  return origin === new URL(request.url).origin ? undefined : origin
}

function requestHeaders(request: FrontRequest): Headers {
  const headers = new Headers(request.headers)
  for (const name of [...headers.keys()]) if (isBrowserSet(name)) headers.delete(name)
  return headers
}

/** Records a refusal with the status the server answered (the page never sees it; DevTools does). */
function recordBlock(transcript: Transcript, exchange: number, block: CorsBlock, status: number, synthetic: boolean): void {
  transcript.record({ layer: 'harness', type: 'cors:blocked', exchange, stage: block.stage, reason: block.reason, header: block.header, status, message: block.message, ...(synthetic ? { synthetic } : {}) })
}

/** Hides what a browser hides: a CORS-filtered response keeps only readable headers (Fetch §2.2.6). */
function filterResponse(response: Response, readable: string[]): Response {
  const headers = new Headers()
  response.headers.forEach((value, name) => readable.includes(name) && headers.set(name, value))
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}

/**
 * Judges every cross-origin request at the front door the way a browser would and records the
 * verdicts (`cors:preflight`, `cors:blocked`, `cors:header-hidden`, `cors:allowed`); with
 * `enforce: true` it also enforces them on clients that are not browsers.
 * @example createEmulator({ config, cors: { enforce: true } }) // then send `Origin: http://app.example`
 */
export const corsPlugin: EmulatorPlugin<typeof CorsOptionsSchema> = {
  name: CORS,
  options: CorsOptionsSchema,
  setup(ctx, options) {
    const modelled = new WeakMap<FrontContext, CorsRequest>()
    ctx.addMiddleware({
      name: CORS,
      async onRequest(front) {
        const { exchange, transcript } = front
        const request: FrontRequest = front
        const origin = crossOrigin(request)
        if (!origin) return undefined
        const requestedMethod = request.headers.get('access-control-request-method')
        if (request.method === 'OPTIONS' && requestedMethod) {
          // A real browser's preflight: judge it when its answer comes back.
          const headers = new Headers()
          for (const name of listValues(request.headers, 'access-control-request-headers')) headers.set(name, 'x')
          modelled.set(front, { method: requestedMethod, url: request.url, origin, headers, credentials: options.credentials })
          return undefined
        }
        const cors: CorsRequest = { method: request.method, url: request.url, origin, headers: requestHeaders(request), credentials: options.credentials }
        modelled.set(front, cors)
        if (!options.enforce || !needsPreflight(cors)) return undefined
        // Act as the browser: preflight first, and never let a refused request reach the Worker.
        const preflightRequest = preflightRequestFor(cors)
        const preflight = (await ctx.miniflare().dispatchFetch(preflightRequest.url, { method: 'OPTIONS', headers: preflightRequest.headers as never })) as unknown as Response
        await preflight.arrayBuffer().catch(() => undefined)
        const blocked = checkPreflight(cors, preflight)
        transcript.record({ layer: 'harness', type: 'cors:preflight', exchange, synthetic: true, method: cors.method, requestHeaders: unsafeRequestHeaderNames(cors.headers), status: preflight.status, ok: !blocked })
        if (blocked) {
          recordBlock(transcript, exchange, blocked, preflight.status, true)
          front.cancel('cors:blocked')
        }
        return undefined
      },
      onResponse(front, response) {
        const cors = modelled.get(front)
        if (!cors) return response
        const { transcript, exchange } = front
        const request: FrontRequest = front
        if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
          const blocked = checkPreflight(cors, response)
          transcript.record({ layer: 'harness', type: 'cors:preflight', exchange, method: cors.method, requestHeaders: unsafeRequestHeaderNames(cors.headers), status: response.status, ok: !blocked })
          if (blocked) recordBlock(transcript, exchange, blocked, response.status, false)
          return response
        }
        // The preflight (when one was needed) was judged on its own exchange; this is the response's CORS check.
        const blocked = corsCheck(cors, response)
        if (blocked) {
          recordBlock(transcript, exchange, blocked, response.status, false)
          if (options.enforce) front.cancel('cors:blocked')
          return response
        }
        const readable = readableResponseHeaders(cors, response)
        const hidden = hiddenHeaders(response, readable, options.read)
        for (const header of hidden) {
          transcript.record({
            layer: 'harness',
            type: 'cors:header-hidden',
            exchange,
            header,
            message: `A browser script cannot read the response header '${header}' from '${request.url}': it is not listed in Access-Control-Expose-Headers.`,
          })
        }
        if (hidden.length === 0) transcript.record({ layer: 'harness', type: 'cors:allowed', exchange, method: cors.method })
        return options.enforce ? filterResponse(response, readable) : response
      },
    })
  },
}
