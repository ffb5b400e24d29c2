import {
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} from '@modelcontextprotocol/server'
import type { Env } from './env'

/**
 * DNS-rebinding protection for the McpAgent endpoints: the same Host/Origin policy that
 * `createMcpHandler` applies to the stateless entry, built from the SDK's own validators.
 * Returns a 403 JSON-RPC error response, or undefined when the request may proceed.
 * @example const rejected = guardOrigin(request, env); if (rejected) return rejected
 */
export function guardOrigin(request: Request, env: Env): Response | undefined {
  const url = new URL(request.url)
  const local = localhostAllowedHostnames().includes(url.hostname)
  const workersDev = url.hostname.endsWith('.workers.dev')
  // A local server must refuse a Host it does not answer to (the rebinding attack's own name).
  const hosts = local ? localhostAllowedHostnames() : workersDev ? [url.hostname] : undefined
  const hostRejection = hosts && request.headers.has('host') ? hostHeaderValidationResponse(request, hosts) : undefined
  if (hostRejection) return hostRejection
  const extra = (env.ALLOWED_ORIGIN_HOSTNAMES ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)
  if (extra.includes('*')) return undefined
  // https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
  // "Servers MUST validate the Origin header on all incoming connections".
  const origins = [...localhostAllowedOrigins(), ...(workersDev ? [url.hostname] : []), ...extra]
  const originRejection = originValidationResponse(request, origins)
  // Readable by the page that was refused (as createMcpHandler does), instead of a bare CORS failure.
  originRejection?.headers.set('access-control-allow-origin', '*')
  return originRejection
}
