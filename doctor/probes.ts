import { checkPreflight, corsVerdict, preflightRequestFor, type CorsRequest } from '../emulator/plugins/cors.ts'
import type { ServerEndpoints } from './client-config.ts'
import { ACCEPT_BOTH, DOCTOR_PROTOCOL_VERSION, describe, initializeBody, isStream, openSse, probe, type Probe } from './http.ts'
import { finding, type Finding } from './types.ts'

/** What the probes run against. */
export interface ProbeContext {
  base: URL
  /** The browser page origin for the CORS checks. */
  origin: string
  timeoutMs: number
}

/** What the server checks found, besides the findings: where each transport answers. */
export interface ServerCheck {
  findings: Finding[]
  endpoints: ServerEndpoints
  /** True when the MCP endpoint asks for a token (401). */
  protectedByAuth: boolean
}

const MODERN_PROTOCOL_VERSION = '2026-07-28'
const POST_HEADERS = { 'content-type': 'application/json', accept: ACCEPT_BOTH }
const HEALTH_PATHS = ['/health', '/healthz', '/status', '/ping']

const unique = (list: (string | undefined)[]) => [...new Set(list.filter((item): item is string => !!item))]
const toggleSlash = (p: string) => (p.endsWith('/') && p !== '/' ? p.replace(/\/+$/, '') : `${p}/`)
const rpcError = (p: Probe) => p.messages.find((m) => m.error)?.error
const initResult = (p: Probe) => p.status >= 200 && p.status < 300 && p.messages.some((m) => m.id === 0 && m.result)

/** Closes a Streamable HTTP session the doctor opened, so it leaves no Durable Object busy. */
async function closeSession(ctx: ProbeContext, path: string, reply: Probe): Promise<void> {
  const session = reply.headers.get('mcp-session-id')
  if (session) await probe(ctx.base, path, { method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': DOCTOR_PROTOCOL_VERSION } }, ctx.timeoutMs)
}

/**
 * Probes a running MCP server from the outside, as its clients would, and names the known issues
 * it shows (KI-02/03/04/07/08/18/21/22/24/34).
 * @example const { findings } = await checkServer({ base: new URL('http://127.0.0.1:8787'), origin: 'http://localhost:6274', timeoutMs: 5000 })
 */
export async function checkServer(ctx: ProbeContext): Promise<ServerCheck> {
  const findings: Finding[] = []
  const { base, timeoutMs } = ctx

  // 1. Health (KI-21), and the transport paths it may announce.
  const announced: { mcp?: string; sse?: string; stateless?: string } = {}
  const healthEvidence: string[] = []
  let health: Probe | undefined
  for (const p of HEALTH_PATHS) {
    const reply = await probe(base, p, {}, timeoutMs)
    healthEvidence.push(describe(reply))
    if (reply.status >= 200 && reply.status < 300) {
      health = reply
      break
    }
  }
  if (healthEvidence.every((line) => line.includes('no answer'))) {
    findings.push(finding('KI-21', 'fail', { title: 'Server reachable', cause: `Nothing answers at ${base.origin}: the Worker is not running there, or the URL is wrong.`, fix: 'Start the server (wrangler dev / mcp-harness serve) or correct the URL.', evidence: healthEvidence }))
    return { findings, endpoints: { url: base }, protectedByAuth: false }
  }
  if (health) {
    try {
      const body = JSON.parse(health.text) as { transports?: Record<string, unknown> }
      for (const key of ['mcp', 'sse', 'stateless'] as const) if (typeof body.transports?.[key] === 'string') announced[key] = body.transports[key] as string
    } catch {
      // A plain-text health answer is fine: it just announces nothing.
    }
    findings.push(finding('KI-21', 'ok', { cause: `${health.path} answers ${health.status}${Object.keys(announced).length ? ` and announces ${Object.entries(announced).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}.`, evidence: [describe(health)] }))
  } else {
    findings.push(
      finding('KI-21', 'warn', {
        cause: `None of ${HEALTH_PATHS.join(', ')} answers 2xx, so a 404 cannot tell "wrong URL" from "Worker down".`,
        fix: "Add `if (pathname === '/health') return Response.json({ ok: true, transports: { mcp: '/mcp', sse: '/sse' } })` before the MCP routes.",
        evidence: healthEvidence,
      }),
    )
  }

  // 2. Streamable HTTP: initialize at the announced or usual paths.
  const streamEvidence: string[] = []
  let streamable: string | undefined
  let challenge: Probe | undefined
  for (const p of unique([announced.mcp, '/mcp', '/'])) {
    const reply = await probe(base, p, { body: initializeBody(), headers: POST_HEADERS }, timeoutMs)
    streamEvidence.push(describe(reply))
    if (initResult(reply)) {
      streamable = p
      await closeSession(ctx, p, reply)
      break
    }
    if (reply.status === 401) {
      streamable = p
      challenge = reply
      break
    }
  }

  // 3. Legacy SSE: GET, the endpoint event, then initialize through the announced message endpoint.
  const sseEvidence: string[] = []
  let sse: string | undefined
  let sseMessage: string | undefined
  let sseMessageStatus: number | undefined
  let sseMalformed: Probe | undefined
  for (const p of unique([announced.sse, '/sse'])) {
    const opened = await openSse(base, p, {}, timeoutMs)
    if (!isStream(opened)) {
      sseEvidence.push(describe(opened))
      if (opened.status === 401) {
        sse = p
        challenge ??= opened
        break
      }
      continue
    }
    try {
      if (!opened.endpoint) {
        sseEvidence.push(`GET ${p} → 200 text/event-stream, but no "endpoint" event within ${timeoutMs} ms`)
        continue
      }
      sse = p
      sseMessage = opened.endpoint.pathname
      sseEvidence.push(`GET ${p} → 200 text/event-stream, endpoint event ${sseMessage}?sessionId=…`)
      const init = await probe(opened.endpoint, opened.endpoint.pathname + opened.endpoint.search, { body: initializeBody(), headers: { 'content-type': 'application/json' } }, timeoutMs)
      sseMessageStatus = init.status
      const answered = init.status >= 200 && init.status < 300 ? await opened.next(0, timeoutMs) : undefined
      sseEvidence.push(describe(init, answered ? '(initialize answered on the stream)' : ''))
      if (answered) {
        sseMalformed = await probe(opened.endpoint, opened.endpoint.pathname + opened.endpoint.search, { body: '{"jsonrpc":', headers: { 'content-type': 'application/json' } }, timeoutMs)
      }
    } finally {
      opened.close()
    }
    break
  }

  // KI-02: does any transport answer, and where.
  if (!streamable && !sse) {
    findings.push(
      finding('KI-02', 'fail', {
        cause: `Neither a Streamable HTTP initialize (${unique([announced.mcp, '/mcp', '/']).join(', ')}) nor a legacy SSE GET (${unique([announced.sse, '/sse']).join(', ')}) got an MCP answer: clients configured with these URLs fail with 404 / "Connection failed".`,
        fix: 'Serve McpAgent at the path the client uses: `MyMcp.serve("/mcp")` for Streamable HTTP, `MyMcp.serveSSE("/sse")` for legacy SSE, and route those paths to them.',
        evidence: [...streamEvidence, ...sseEvidence],
      }),
    )
    return { findings, endpoints: { url: base }, protectedByAuth: false }
  }
  const where = [streamable && `Streamable HTTP at ${streamable}`, sse && `legacy SSE at ${sse}${sseMessage ? ` (messages to ${sseMessage})` : ''}`].filter(Boolean).join('; ')
  findings.push(finding('KI-02', 'ok', { cause: `${where}${challenge ? ' (behind a token: 401)' : ''}. Client URLs must use exactly these paths.`, evidence: [...streamEvidence, ...sseEvidence] }))

  // KI-18: every transport the server announces answers.
  const missing = [announced.mcp && announced.mcp !== streamable && `Streamable HTTP ${announced.mcp}`, announced.sse && announced.sse !== sse && `SSE ${announced.sse}`].filter(Boolean)
  if (missing.length) {
    findings.push(finding('KI-18', 'fail', { cause: `The health endpoint announces ${missing.join(' and ')}, but it does not answer as MCP: a route check for the other transport catches it first, or it is not wired.`, fix: 'Check exact paths before prefixes: `if (pathname === "/mcp") ...; if (pathname === "/sse" || pathname.startsWith("/sse/")) ...`.', evidence: [...streamEvidence, ...sseEvidence] }))
  } else if (streamable && sse) {
    findings.push(finding('KI-18', 'ok', { cause: `Both transports answer (${where}).` }))
  } else {
    findings.push(finding('KI-18', 'skipped', { cause: `Only ${streamable ? `Streamable HTTP (${streamable})` : `legacy SSE (${sse})`} answers and nothing announces the other, so the doctor cannot tell whether it should exist. If you serve both, ${streamable ? '/sse' : '/mcp'} must not 404.`, evidence: streamable ? sseEvidence : streamEvidence }))
  }

  // KI-04: trailing-slash variants and the SSE message route.
  const slashEvidence: string[] = []
  let slashBroken = false
  if (streamable && !challenge) {
    const variant = await probe(base, toggleSlash(streamable), { body: initializeBody(), headers: POST_HEADERS }, timeoutMs)
    slashEvidence.push(describe(variant))
    if (initResult(variant)) await closeSession(ctx, toggleSlash(streamable), variant)
    if (variant.status >= 500) slashBroken = true
  }
  if (sseMessage && sseMessageStatus !== undefined && (sseMessageStatus < 200 || sseMessageStatus > 299)) {
    findings.push(
      finding('KI-04', 'fail', {
        cause: `GET ${sse} announces ${sseMessage} for messages, but a POST there answers ${sseMessageStatus}: a route check (\`pathname === "${sse}"\`, or a \`startsWith\` in the wrong order) does not send ${sseMessage} to the SSE handler.`,
        fix: `Route both ${sse} and ${sseMessage} to serveSSE: \`if (pathname === "${sse}" || pathname.startsWith("${sse}/")) return MyMcp.serveSSE("${sse}").fetch(...)\`.`,
        evidence: [...sseEvidence, ...slashEvidence],
      }),
    )
  } else if (slashBroken) {
    findings.push(finding('KI-04', 'warn', { cause: `${toggleSlash(streamable!)} (the same path with/without a trailing slash) crashes with a 5xx instead of a clean 404.`, fix: 'Compare paths exactly and answer 404 for anything else.', evidence: slashEvidence }))
  } else {
    findings.push(finding('KI-04', 'ok', { cause: `Paths match exactly${streamable && !challenge ? ` (${toggleSlash(streamable)} is not an MCP endpoint: a client URL with or without that trailing slash gets 404)` : ''}${sseMessage ? `; the SSE message route ${sseMessage} answers` : ''}.`, evidence: slashEvidence }))
  }

  // KI-03: what a client of the other transport sees at each endpoint.
  const confusion: string[] = []
  if (streamable && !challenge) {
    const asSse = await openSse(base, streamable, {}, Math.min(timeoutMs, 2_000))
    if (isStream(asSse)) {
      asSse.close()
      confusion.push(`a legacy SSE client at ${streamable} gets a 200 event stream ${asSse.endpoint ? 'with' : 'without'} an endpoint event${asSse.endpoint ? '' : ' and waits until it gives up'}`)
    } else {
      confusion.push(`a legacy SSE client at ${streamable} gets ${asSse.status} ("SSE error: Non-200 status code (${asSse.status})"): ${describe(asSse)}`)
    }
  }
  if (sse && !challenge) {
    const asStreamable = await probe(base, sse, { body: initializeBody(), headers: POST_HEADERS }, timeoutMs)
    confusion.push(`a Streamable HTTP client at ${sse} gets ${asStreamable.status} on initialize ("Unexpected response format" or "HTTP ${asStreamable.status}"): ${describe(asStreamable)}`)
  }
  findings.push(
    confusion.length
      ? finding('KI-03', 'ok', { cause: `Each transport answers only at its own path; a client of the wrong transport fails as shown. Point ${[streamable && `Streamable HTTP clients at ${streamable}`, sse && `legacy SSE clients at ${sse}`].filter(Boolean).join(' and ')}${sse ? '' : ' (there is no legacy SSE endpoint: SSE-only clients need mcp-remote)'}.`, evidence: confusion })
      : finding('KI-03', 'skipped', { cause: 'The endpoints ask for a token, so what a client of the wrong transport sees cannot be observed without one.' }),
  )

  // KI-07 and KI-22: CORS as a browser page at ctx.origin would see it.
  findings.push(...(await checkCors(ctx, streamable, sseMessage, !!challenge)))

  // KI-08: malformed JSON.
  if (challenge) {
    findings.push(finding('KI-08', 'skipped', { cause: 'The endpoint answers 401 before it reads the body; checking malformed JSON needs a token.' }))
  } else {
    if (streamable) findings.push(malformedFinding(await probe(base, streamable, { body: '{"jsonrpc":', headers: POST_HEADERS }, timeoutMs), 'Streamable HTTP'))
    if (sseMalformed) findings.push(malformedFinding(sseMalformed, 'legacy SSE'))
  }

  // KI-34: a 2026-07-28 endpoint and the Mcp-Method header.
  findings.push(await checkModern(ctx, unique([announced.stateless, streamable])))

  // KI-24: OAuth metadata on the API's origin.
  findings.push(challenge ? await checkOAuthOrigins(ctx, challenge) : finding('KI-24', 'skipped', { cause: 'The MCP endpoint does not ask for a token (no 401), so there is no OAuth metadata to check.' }))

  return { findings, endpoints: { url: base, streamable, sse }, protectedByAuth: !!challenge }
}

function malformedFinding(reply: Probe, transport: string): Finding {
  const title = `Malformed JSON answered with -32700 (${transport})`
  const error = rpcError(reply)
  if (error?.code === -32700 && reply.status < 500) return finding('KI-08', 'ok', { title, cause: `A malformed body gets ${reply.status} with JSON-RPC error -32700.`, evidence: [describe(reply)] })
  return finding('KI-08', 'warn', {
    title,
    cause:
      reply.status >= 500
        ? `A malformed body on ${reply.path.split('?')[0]} crashes the handler (${reply.status}${/SyntaxError|Unexpected/.test(reply.text) ? `: ${reply.text.split('\n')[0]!.slice(0, 80)}` : ''}): the body is parsed without a guard, so a broken client sees a 500 instead of a parse error and your error rate counts it.`
        : `A malformed body gets ${reply.status} without a JSON-RPC -32700 error: clients cannot tell a parse error from other failures.`,
    fix: 'Parse the body in a try/catch and answer 400 with {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}; validate its shape (zod) before use. Where the framework parses it (McpAgent.serveSSE), check `await request.clone().json()` in your fetch handler before delegating, or move clients to Streamable HTTP.',
    evidence: [describe(reply)],
  })
}

/** KI-07 (preflight) and KI-22 (ACAO and Expose-Headers on the response), judged by the Fetch-standard CORS model. */
async function checkCors(ctx: ProbeContext, streamable: string | undefined, sseMessage: string | undefined, auth: boolean): Promise<Finding[]> {
  const findings: Finding[] = []
  const { base, origin, timeoutMs } = ctx
  const paths = unique([streamable, sseMessage])
  let streamRequest: CorsRequest | undefined
  const preflightEvidence: string[] = []
  const blocks: string[] = []
  for (const p of paths) {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT_BOTH }
    if (p === streamable) Object.assign(headers, { 'mcp-protocol-version': DOCTOR_PROTOCOL_VERSION, 'mcp-session-id': 'x' })
    if (auth) headers.authorization = 'Bearer x'
    const request: CorsRequest = { method: 'POST', url: new URL(p, base).href, origin, headers }
    const pre = preflightRequestFor(request)
    const reply = await probe(base, p, { method: 'OPTIONS', headers: Object.fromEntries(pre.headers) }, timeoutMs)
    preflightEvidence.push(describe(reply, `(preflight from ${origin} for POST with ${new Headers(pre.headers).get('access-control-request-headers')})`))
    const blocked = reply.error ? { message: reply.error } : checkPreflight(request, { status: reply.status, headers: reply.headers })
    if (blocked) blocks.push(blocked.message)
    if (p === streamable) streamRequest = request
  }
  if (!paths.length) return findings
  findings.push(
    blocks.length
      ? finding('KI-07', 'fail', {
          cause: `A browser page at ${origin} is refused before its request is sent: ${blocks[0]} Every MCP POST carries Content-Type: application/json, so every one needs this preflight.`,
          fix: 'Answer OPTIONS on the MCP paths with 204 and Access-Control-Allow-Origin/-Methods/-Headers (McpAgent.serve does this when OPTIONS reaches it: do not reject methods before calling it).',
          evidence: preflightEvidence,
        })
      : finding('KI-07', 'ok', { cause: `The preflight from ${origin} passes on ${paths.join(', ')}.`, evidence: preflightEvidence }),
  )
  if (!streamable || !streamRequest) {
    findings.push(finding('KI-22', 'skipped', { cause: 'No Streamable HTTP endpoint: the session-id header check applies to it only.' }))
    return findings
  }
  // The actual request as the page sends it (no session yet).
  const actual: CorsRequest = { ...streamRequest, headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...(auth ? { authorization: 'Bearer x' } : {}) } }
  const reply = await probe(base, streamable, { body: initializeBody(), headers: { ...(actual.headers as Record<string, string>), origin } }, timeoutMs)
  if (initResult(reply)) await closeSession(ctx, streamable, reply)
  const evidence = [describe(reply, `(initialize with Origin: ${origin})`), ...['access-control-allow-origin', 'access-control-expose-headers'].map((h) => `${h}: ${reply.headers.get(h) ?? '(absent)'}`)]
  if (reply.status === 403 && /origin/i.test(reply.text)) {
    findings.push(finding('KI-22', 'warn', { cause: `The server refuses Origin ${origin} (403: DNS-rebinding protection). Browser pages on that origin cannot connect at all.`, fix: `If a browser app on ${origin} must connect, add its hostname to the server's allowed origins; otherwise run the doctor with --origin set to the app's origin.`, evidence }))
    return findings
  }
  const read = auth ? ['www-authenticate'] : ['mcp-session-id']
  // Judge the response on its own: a failed preflight is KI-07's finding already.
  const verdict = corsVerdict({ request: { ...actual, headers: {} }, response: { status: reply.status, headers: reply.headers }, read })
  if (!verdict.allowed && verdict.blocked) {
    findings.push(finding('KI-22', 'fail', { cause: `The response carries no usable CORS headers for ${origin}: ${verdict.blocked.message} The page never sees the result.`, fix: 'Add Access-Control-Allow-Origin (and Access-Control-Expose-Headers: mcp-session-id) to every MCP response, errors included (McpAgent.serve does it unless corsOptions override it).', evidence }))
  } else if (verdict.hidden.length || !reply.headers.has(read[0]!)) {
    const header = read[0]!
    findings.push(
      finding('KI-22', 'fail', {
        cause: reply.headers.has(header)
          ? `The response sends ${header}, but Access-Control-Expose-Headers (${reply.headers.get('access-control-expose-headers') ?? 'absent'}) does not list it: a browser script cannot read it, so ${auth ? 'the client cannot find the OAuth metadata' : 'the client never learns its session and every request after initialize fails (400, no session id)'}.`
          : `The response to initialize carries no ${header} header at all.`,
        fix: auth ? 'List WWW-Authenticate in Access-Control-Expose-Headers.' : "Include mcp-session-id in Access-Control-Expose-Headers (with McpAgent: `corsOptions: { exposeHeaders: 'mcp-session-id, x-your-header' }` — a custom value replaces the default).",
        evidence,
      }),
    )
  } else {
    findings.push(finding('KI-22', 'ok', { cause: `Responses allow ${origin} and expose ${read.join(', ')} to browser scripts.`, evidence }))
  }
  return findings
}

/** KI-34: looks for a 2026-07-28 endpoint and tells what a client without Mcp-Method gets. */
async function checkModern(ctx: ProbeContext, paths: string[]): Promise<Finding> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'server/discover',
    params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'mcp-harness-doctor', version: '0.1.0' } } },
  })
  const evidence: string[] = []
  for (const p of paths) {
    const headers = { ...POST_HEADERS, 'mcp-protocol-version': MODERN_PROTOCOL_VERSION }
    const withHeader = await probe(ctx.base, p, { body, headers: { ...headers, 'mcp-method': 'server/discover' } }, ctx.timeoutMs)
    evidence.push(describe(withHeader, '(with Mcp-Method)'))
    if (!withHeader.messages.some((m) => m.id === 1 && m.result)) continue
    const without = await probe(ctx.base, p, { body, headers }, ctx.timeoutMs)
    evidence.push(describe(without, '(without Mcp-Method)'))
    const error = rpcError(without)
    if (error?.code === -32020) {
      return finding('KI-34', 'ok', { cause: `${p} speaks 2026-07-28 and, as the spec requires, refuses server/discover without the Mcp-Method header (-32020). Clients older than the routing headers get this error: upgrade them (SDK 2.x) rather than the server.`, evidence })
    }
    if (without.messages.some((m) => m.id === 1 && m.result)) return finding('KI-34', 'ok', { cause: `${p} speaks 2026-07-28 and answers server/discover without Mcp-Method too (lenient).`, evidence })
    return finding('KI-34', 'warn', { cause: `${p} speaks 2026-07-28, but a request without Mcp-Method gets ${without.status} ${error ? `${error.code} ${error.message}` : ''} instead of -32020: a client cannot tell what is missing.`, fix: 'Validate the routing headers and answer -32020 naming the absent header.', evidence })
  }
  return finding('KI-34', 'skipped', { cause: `No 2026-07-28 endpoint answered server/discover at ${paths.join(', ') || '(no path)'}; the server speaks the 2025 sessionful protocol only there.`, evidence })
}

/** KI-24: follows the 401 challenge to the protected-resource and authorization-server metadata, on the API's origin only. */
async function checkOAuthOrigins(ctx: ProbeContext, challenge: Probe): Promise<Finding> {
  const { base, timeoutMs } = ctx
  const header = challenge.headers.get('www-authenticate') ?? ''
  const evidence = [`WWW-Authenticate: ${header || '(absent)'}`]
  const foreign: string[] = []
  const fetchJson = async (url: URL) => {
    if (url.origin !== base.origin) {
      foreign.push(url.href)
      return undefined
    }
    const reply = await probe(base, url.pathname + url.search, {}, timeoutMs)
    evidence.push(describe(reply))
    try {
      return reply.status === 200 ? (JSON.parse(reply.text) as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  }
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(header)?.[1]
  let prm: Record<string, unknown> | undefined
  if (metadataUrl) prm = await fetchJson(new URL(metadataUrl))
  else {
    // RFC 9728 §3.1: the well-known URL carries the resource's path; the root form is the fallback.
    prm = (await fetchJson(new URL(`/.well-known/oauth-protected-resource${challenge.path}`, base))) ?? (await fetchJson(new URL('/.well-known/oauth-protected-resource', base)))
  }
  const urls: string[] = []
  if (typeof prm?.resource === 'string') urls.push(prm.resource)
  const servers = Array.isArray(prm?.authorization_servers) ? (prm.authorization_servers as unknown[]).filter((s): s is string => typeof s === 'string') : []
  urls.push(...servers)
  const asBase = servers[0] ? new URL(servers[0]) : base
  const asMeta = asBase.origin === base.origin ? await fetchJson(new URL(`/.well-known/oauth-authorization-server${asBase.pathname === '/' ? '' : asBase.pathname}`, base)) : undefined
  for (const key of ['issuer', 'authorization_endpoint', 'token_endpoint', 'registration_endpoint']) if (typeof asMeta?.[key] === 'string') urls.push(asMeta[key] as string)
  if (Array.isArray(asMeta?.protected_resources)) urls.push(...(asMeta.protected_resources as string[]))
  for (const url of urls) {
    try {
      if (new URL(url).origin !== base.origin && !foreign.includes(url)) foreign.push(url)
    } catch {
      foreign.push(url)
    }
  }
  evidence.push(...urls.map((url) => `metadata URL: ${url}`))
  if (foreign.length) {
    return finding('KI-24', 'fail', {
      cause: `The OAuth metadata names URLs on another origin than the API (${base.origin}): ${[...new Set(foreign)].join(', ')}. Clients follow them; the handshake completes on one host and the token is for another, so it works in one place and never completes in the other.`,
      fix: 'Derive the OAuth URLs from the request origin (or set the public URL per environment), and reach the server by that same origin.',
      evidence,
    })
  }
  if (!metadataUrl && !prm) {
    return finding('KI-24', 'warn', { cause: 'The 401 names no resource_metadata and no protected-resource metadata was found on the API origin: clients cannot discover where to sign in.', fix: 'Serve /.well-known/oauth-protected-resource (workers-oauth-provider does, with resourceMetadata set) and send resource_metadata in WWW-Authenticate.', evidence })
  }
  return finding('KI-24', 'ok', { cause: `The challenge, protected-resource and authorization-server metadata all stay on ${base.origin}.`, evidence })
}
