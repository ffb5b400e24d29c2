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
