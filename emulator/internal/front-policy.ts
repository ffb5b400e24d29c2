import type http from 'node:http'

/**
 * What a client of the front door may send on to the Worker, and what it may not. The front door is
 * the one way in: a client reaches the user's Worker and nothing else (no internal Worker, no
 * Miniflare control header, no harness stamp).
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, never travel past a proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer'])

/**
 * Headers Cloudflare's edge sets itself on every request to a Worker, replacing what a client sent, so
 * a client can never choose their value in production:
 * https://developers.cloudflare.com/fundamentals/reference/http-headers/ (CF-Connecting-IP,
 * CF-Connecting-IPv6, CF-EW-Via, CF-IPCountry, CF-Pseudo-IPv4, CF-RAY, CF-Visitor, CF-Worker).
 * Other `cf-*` names (e.g. `cf-access-jwt-assertion` on a Worker not behind Access) do reach a
 * Worker from a client, so they pass here too.
 */
export const CLOUDFLARE_SET_HEADERS = new Set(['cf-connecting-ip', 'cf-connecting-ipv6', 'cf-ew-via', 'cf-ipcountry', 'cf-pseudo-ipv4', 'cf-ray', 'cf-visitor', 'cf-worker'])

/**
 * Why a client request header is not forwarded, or undefined when it is.
 * - `mf-*`: Miniflare's entry Worker obeys them (`MF-Route-Override` picks the Worker,
 *   `MF-Original-URL` the URL, `MF-CF-Blob` the `request.cf`, `MF-Op*` its proxy);
 * - `x-mcp-harness-*`: the harness's own stamps, read by its Workers (hop tap, IoContext model);
 * - `host`: the front door names the Worker's origin itself, so a Host cannot pick a route;
 * - hop-by-hop headers and those named in `Connection`.
 */
export function droppedBecause(name: string, connectionTokens: ReadonlySet<string> = new Set()): string | undefined {
  if (HOP_BY_HOP.has(name) || connectionTokens.has(name)) return 'hop-by-hop'
  if (name === 'host') return 'host'
  if (name.startsWith('mf-')) return 'miniflare-internal'
  if (name.startsWith('x-mcp-harness-')) return 'harness-internal'
  if (CLOUDFLARE_SET_HEADERS.has(name)) return 'set-by-cloudflare'
  return undefined
}

/**
 * The client's headers as the Worker should get them: every value kept as sent (empty values too),
 * minus what `droppedBecause` names and what `skip` names.
 */
export function forwardedHeaders(req: http.IncomingMessage, skip: (name: string) => boolean = () => false): Headers {
  const connection = req.headers.connection
  const tokens = new Set((Array.isArray(connection) ? connection.join(',') : (connection ?? '')).split(',').map((token) => token.trim().toLowerCase()).filter(Boolean))
  const headers = new Headers()
  // rawHeaders keeps repeated headers and empty values exactly as sent.
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (droppedBecause(name, tokens) || skip(name)) continue
    headers.append(name, raw[i + 1]!)
  }
  return headers
}

/**
 * Paths Miniflare's entry Worker answers itself instead of the user's Worker (its platform proxy,
 * trigger handlers, live reload, local explorer, local R2/Images/Stream endpoints). `wrangler dev`
 * serves some of these for tooling; a client of the harness's front door reaches the Worker only.
 */
const MINIFLARE_PATHS = ['/cdn-cgi/platform-proxy', '/cdn-cgi/handler', '/cdn-cgi/mf', '/cdn-cgi/local', '/cdn-cgi/explorer']

/**
 * Checks a request target (RFC 9112 §3.2): only origin-form (`/path?query`) reaches the Worker.
 * Absolute-form (`http://host/path`) is for proxies and would let a client pick the Worker's host;
 * `//host/path` would be read as a host by URL parsers. Returns the refusal message, or undefined.
 */
export function refuseTarget(method: string, target: string | undefined): string | undefined {
  const shown = JSON.stringify(`${method} ${target ?? ''}`)
  if (!target || !target.startsWith('/') || target.startsWith('//')) {
    return `[mcp-harness] Failed to accept ${shown}: the front door takes origin-form request targets only (a path such as /mcp, RFC 9112 §3.2.1). Absolute URLs and "//host" targets are proxy requests; send the path, with the host in the Host header.`
  }
  // As the runtime will see it: dot segments resolved (`/x/../cdn-cgi/mf` is `/cdn-cgi/mf`).
  const path = new URL(target, 'http://front.invalid').pathname.toLowerCase()
  if (MINIFLARE_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) {
    return `[mcp-harness] Failed to accept ${shown}: ${path} is a Miniflare-internal endpoint, not part of your Worker; the front door does not expose it.`
  }
  return undefined
}

/**
 * Methods the Workers runtime cannot carry: the Fetch standard forbids them in a Request
 * (https://fetch.spec.whatwg.org/#forbidden-method: CONNECT, TRACE, TRACK), so no Worker ever
 * receives one: Cloudflare's edge refuses them before any Worker runs (TRACE with 405 Method Not
 * Allowed; its docs name no answer). The front door answers 405 for all three.
 */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])
/** The methods a Worker can receive, for the Allow header of a 405 (RFC 9110 §15.5.6 requires one). */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/** A refusal the front door writes itself: status, headers and a message that says why. */
export interface Refusal {
  status: number
  headers: Record<string, string>
  message: string
}

/** Refuses a method no Worker can receive (405 with Allow), or undefined when the Worker gets it. */
export function refuseMethod(method: string, target: string | undefined): Refusal | undefined {
  const name = method.toUpperCase()
  if (!FORBIDDEN_METHODS.has(name)) return undefined
  return {
    status: 405,
    headers: { allow: ALLOWED_METHODS },
    message: `[mcp-harness] Failed to accept ${JSON.stringify(`${method} ${target ?? ''}`)}: ${name} cannot reach a Worker (a forbidden method in the Workers runtime, as in every fetch implementation); Cloudflare answers it with 405 Method Not Allowed, and so does the front door. Use one of ${ALLOWED_METHODS}.`,
  }
}

/**
 * How to answer a request Node's HTTP parser could not read (its `clientError`), or undefined when
 * the client is gone and nothing can be answered. Node's codes: `HPE_*` from llhttp, plus its own
 * timeouts. The client gets a status and a sentence, never the bytes it sent (they may hold secrets).
 */
export function answerMalformed(error: { code?: string; reason?: string; message?: string }): Refusal | undefined {
  const code = error.code ?? 'UNKNOWN'
  if (code === 'ECONNRESET' || code === 'EPIPE') return undefined
  const detail = (error.reason ?? error.message ?? '').replace(/[\r\n]+/g, ' ').slice(0, 200)
  const say = (status: number, why: string): Refusal => ({
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
    message: `[mcp-harness] Failed to read the request: ${why} (${code}${detail ? `: ${detail}` : ''}). The front door closes this connection; send a well-formed HTTP/1.1 request.`,
  })
  if (code === 'HPE_HEADER_OVERFLOW') return say(431, 'its header section is larger than the front door accepts')
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return say(408, 'it did not arrive completely in time')
  if (code === 'HPE_INVALID_METHOD') return say(400, 'the request line does not start with an HTTP method')
  if (code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || code === 'HPE_INVALID_TRANSFER_ENCODING') return say(400, 'its body framing is ambiguous (Content-Length together with Transfer-Encoding, or an invalid Transfer-Encoding), which could smuggle a second request')
  if (code === 'HPE_INVALID_CHUNK_SIZE') return say(400, 'its chunked body is malformed')
  if (code.startsWith('HPE_INVALID_HEADER') || code === 'HPE_INVALID_CONSTANT' || code === 'HPE_LF_EXPECTED' || code === 'HPE_CR_EXPECTED') return say(400, 'its header section is malformed')
  return say(400, 'it is not well-formed HTTP/1.1')
}

/**
 * Whether a client that half-closes (shuts down its write side) gives up its request. A request
 * already complete whose answer has not started is still awaited: HTTP/1.1 lets a client send its
 * request and then half-close (RFC 9112 §9.6), and it must get its response. Once a response streams,
 * the end of the client's side is how a closed reader shows (an SSE client going away), so it
 * cancels the request, as it does when the connection drops.
 */
export function halfCloseCancels(state: { requestComplete: boolean; headersSent: boolean }): boolean {
  return !state.requestComplete || state.headersSent
}
