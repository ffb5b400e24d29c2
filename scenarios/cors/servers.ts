/**
 * The three servers the CORS model and Chromium must agree on, and what a browser page that
 * connects with the TypeScript SDK client sees on each.
 */
export interface CorsCase {
  /** Test label, with the known issue it reproduces. */
  name: string
  config: string
  /** Whether the SDK client in the page gets through initialize, tools/list and `add`. */
  connects: boolean
  /** The request a browser refuses, and the response header at fault (Fetch §4.8 / §4.10). */
  blocked?: { stage: 'preflight' | 'response'; header: string; messageIncludes: string }
  /** A response header the script needs but cannot read (Fetch §2.2.6). */
  hidden?: string
}

export const CORS_CASES: CorsCase[] = [
  { name: 'reference server (McpAgent corsOptions defaults)', config: 'server/wrangler.jsonc', connects: true },
  {
    name: 'KI-07: no OPTIONS answer',
    config: 'server/variants/no-options/wrangler.jsonc',
    connects: false,
    blocked: { stage: 'preflight', header: 'access-control-allow-origin', messageIncludes: "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource." },
  },
  {
    name: 'KI-22: mcp-session-id not exposed',
    config: 'server/variants/no-expose-headers/wrangler.jsonc',
    connects: false,
    hidden: 'mcp-session-id',
    // Without the session id the next request (notifications/initialized) is refused with a 400 that
    // carries no CORS headers, so the browser reports that response as blocked too.
    blocked: { stage: 'response', header: 'access-control-allow-origin', messageIncludes: "has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource." },
  },
]

/** A page origin on loopback that the reference server's Origin guard accepts (hostname 127.0.0.1, another port). */
export const PAGE_ORIGIN = 'http://127.0.0.1:5173'
