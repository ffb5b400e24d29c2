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
  /** Headers every MCP request carries, as the user's client sends them (`--header`, `--token`). */
  headers?: Record<string, string>
  /** Obtains a token for the MCP URL when it answers 401 and no credentials were given (`--sign-in`). */
  signIn?: (url: string) => Promise<string>
  /** The upstream calls no mock answered so far (the emulator's ERR_UNHANDLED_UPSTREAM), when the doctor runs the emulator. */
  unhandledUpstream?: () => string[]
  /** What the Worker threw and logged so far (uncaught exceptions, error lines), when the doctor runs the emulator. */
  workerErrors?: () => string[]
}

/** What the server checks found, besides the findings: where each transport answers. */
export interface ServerCheck {
  findings: Finding[]
  endpoints: ServerEndpoints
  /** True when the MCP endpoint asks for a token (401) and the doctor has none that opens it. */
  protectedByAuth: boolean
  /** The headers that open the MCP endpoint (given, or from sign-in); empty when none are needed or known. */
  authHeaders: Record<string, string>
}

/** A probe's answer and the unmocked upstream calls the Worker made while answering it. */
type Sent = Probe & { upstream: string[] }

const MODERN_PROTOCOL_VERSION = '2026-07-28'
const POST_HEADERS = { 'content-type': 'application/json', accept: ACCEPT_BOTH }
const HEALTH_PATHS = ['/health', '/healthz', '/status', '/ping']
const HARNESS_ERROR_HEADER = 'x-mcp-harness-error'

const unique = (list: (string | undefined)[]) => [...new Set(list.filter((item): item is string => !!item))]
const toggleSlash = (p: string) => (p.endsWith('/') && p !== '/' ? p.replace(/\/+$/, '') : `${p}/`)
const rpcError = (p: Probe) => p.messages.find((m) => m.error)?.error
const initResult = (p: Probe) => p.status >= 200 && p.status < 300 && p.messages.some((m) => m.id === 0 && m.result)
const hasAuthorization = (headers: Record<string, string>) => Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')

/**
 * Sends a probe and notes the upstream calls no mock answered while the Worker handled it: from the
 * emulator's record when the doctor runs it, or from the harness error header when the Worker passes
 * the emulator's 502 on. A failure these explain is the missing mock's, not the server's.
 */
async function send(ctx: ProbeContext, path: string, init: Parameters<typeof probe>[2] = {}, base = ctx.base): Promise<Sent> {
  const before = ctx.unhandledUpstream?.().length ?? 0
  const reply = await probe(base, path, init, ctx.timeoutMs)
  const upstream = ctx.unhandledUpstream?.().slice(before).map((message) => /fetched (\S+ \S+?),? which/.exec(message)?.[1] ?? message) ?? []
  if (!upstream.length && reply.headers.get(HARNESS_ERROR_HEADER) === 'ERR_UNHANDLED_UPSTREAM') upstream.push(/fetched (\S+ \S+?),? which/.exec(reply.text)?.[1] ?? 'an upstream URL')
  return { ...reply, upstream }
}

/** What McpAgent throws when it is given an McpServer it cannot serve (KI-10), as logged or passed through. */
const KI10_PATTERN = /McpAgent uses MCP SDK v1|cannot serve McpServer from/
/** Production's answer to a Worker that throws (and the emulator's, which models it). */
const THROWN = /^(POST|GET) \S+ → 5\d\d .*(error code: 1101|Error:)/

/**
 * When every MCP path answers with a crash (500 "error code: 1101", or a thrown error passed through),
 * names it: KI-10 when McpAgent's own error says so (in the answer or the Worker's log), otherwise
 * the crash itself with the Worker's error. Undefined when the paths do not crash (a 404 is KI-02's).
 */
function crashBehindEndpoints(ctx: ProbeContext, evidence: string[]): Finding | undefined {
  const crashed = evidence.filter((line) => THROWN.test(line))
  if (!crashed.length) return undefined
  const thrown = ctx.workerErrors?.() ?? []
  const named = [...crashed, ...thrown].find((line) => KI10_PATTERN.test(line))
  const logged = thrown.filter((line) => line.trim()).slice(-3)
  if (named) {
    return finding('KI-10', 'fail', {
      cause: `Every MCP request fails with a 500 (production's "error code: 1101"): the Worker throws while McpAgent starts, because the McpServer it was given comes from the v2 package @modelcontextprotocol/server, which McpAgent (MCP SDK v1) cannot serve. The paths are not the problem.`,
      fix: 'Inside McpAgent, create `server = new McpServer(...)` from `@modelcontextprotocol/sdk/server/mcp.js` and register tools in `init()`; for the v2 SDK use createMcpHandler instead of McpAgent.',
      evidence: [...crashed, ...(thrown.length ? [`Worker log: ${named.trim().slice(0, 300)}`] : [])],
    })
  }
  return finding('worker', 'fail', {
    cause: `Every MCP request fails with a 500 (production's "error code: 1101"): the Worker throws before MCP can answer${logged.length ? `: ${logged.at(-1)!.trim().slice(0, 200)}` : ''}.`,
    fix: logged.length ? 'Fix the exception named above (the Worker log has its stack), then run the doctor again.' : 'Look at the Worker log (wrangler tail, or the terminal of wrangler dev) for the exception and its stack, fix it, then run the doctor again.',
    evidence: [...crashed, ...logged.map((line) => `Worker log: ${line.trim().slice(0, 300)}`)],
  })
}

/** Why a probe's answer says nothing about the server itself, when an unmocked upstream explains it. */
const upstreamCause = (reply: Sent) =>
  `${describe(reply)}: while answering, the Worker called ${reply.upstream.join(', ')}, which no upstream mock answers (the emulator gave it a 502 ERR_UNHANDLED_UPSTREAM). That failure comes from the missing mock, not from the server's MCP or CORS handling.`

/** Closes a Streamable HTTP session the doctor opened, so it leaves no Durable Object busy. */
async function closeSession(ctx: ProbeContext, path: string, reply: Probe, headers: Record<string, string>): Promise<void> {
  const session = reply.headers.get('mcp-session-id')
  if (session) await probe(ctx.base, path, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': DOCTOR_PROTOCOL_VERSION } }, ctx.timeoutMs)
}

/**
 * Probes a running MCP server from the outside, as its clients would, and names the known issues
 * it shows (KI-02/03/04/07/08/18/21/22/24/34). With credentials (or `signIn`) the checks behind the
 * server's auth run too.
 * @example const { findings } = await checkServer({ base: new URL('http://127.0.0.1:8787'), origin: 'http://localhost:6274', timeoutMs: 5000 })
 */
export async function checkServer(ctx: ProbeContext): Promise<ServerCheck> {
  const findings: Finding[] = []
  const { base, timeoutMs } = ctx
  const given = ctx.headers ?? {}
  const upstreamSeen: Sent[] = []
  const track = (reply: Sent) => {
    if (reply.upstream.length) upstreamSeen.push(reply)
    return reply
  }

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
    return { findings, endpoints: { url: base }, protectedByAuth: false, authHeaders: {} }
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

  // 2. Streamable HTTP: initialize at the announced or usual paths, first as a client without
  // credentials sees it (the 401 challenge is what KI-22/KI-24 judge), then with them.
  const streamEvidence: string[] = []
  const candidates = unique([announced.mcp, '/mcp', '/'])
  let streamable: string | undefined
  let challenge: Probe | undefined
  let init: Sent | undefined
  const attempt = async (headers: Record<string, string>, note: string) => {
    for (const p of candidates) {
      const reply = track(await send(ctx, p, { body: initializeBody(), headers: { ...POST_HEADERS, ...headers } }))
      streamEvidence.push(describe(reply, note))
      if (initResult(reply)) return { path: p, reply }
      if (reply.status === 401) return { path: p, reply }
    }
    return undefined
  }
  const anonymous = await attempt({}, '')
  if (anonymous) {
    streamable = anonymous.path
    if (anonymous.reply.status === 401) challenge = anonymous.reply
    else init = anonymous.reply
  }

  // Credentials: the ones given, or a token from sign-in when the endpoint asks for one.
  let auth: Record<string, string> = { ...given }
  let authSource = Object.keys(given).length ? (hasAuthorization(given) ? 'the token given' : `the headers given (${Object.keys(given).join(', ')})`) : ''
  if (challenge && !Object.keys(auth).length && ctx.signIn) {
    const url = new URL(streamable!, base).href
    try {
      auth = { authorization: `Bearer ${await ctx.signIn(url)}` }
      authSource = 'the token from sign-in'
      streamEvidence.push(`signed in for ${url}`)
    } catch (error) {
      findings.push(finding('auth', 'fail', { title: 'Sign-in', cause: `Signing in for ${url} failed: ${(error as Error).message}`, fix: 'Fix the step named above (the OAuth flow a real client runs), or pass a token with --token.', evidence: [describe(challenge)] }))
    }
  }
  const authed = Object.keys(auth).length > 0
  let authFailure: Sent | undefined
  if (authed && (challenge || !streamable)) {
    const retried = await attempt(auth, `(with ${authSource})`)
    if (retried && initResult(retried.reply)) {
      streamable = retried.path
      init = retried.reply
    } else if (retried || streamable) {
      streamable ??= retried!.path
      authFailure = retried?.reply ?? track(await send(ctx, streamable!, { body: initializeBody(), headers: { ...POST_HEADERS, ...auth } }))
    }
  }
  if (init) await closeSession(ctx, streamable!, init, init === anonymous?.reply ? {} : auth)
  // What the rest of the checks send: the credentials when they open the endpoint.
  const opened = !!init
  const headers: Record<string, string> = init && init !== anonymous?.reply ? auth : init ? given : {}
  const locked = !!challenge && !opened
  const sessionful = init ? init.headers.has('mcp-session-id') : undefined
  // Why the checks that need an open endpoint are skipped.
  const shut = authed && challenge ? `The endpoint did not open with ${authSource} (see the findings above)` : 'The endpoints ask for a token'

  // 3. Legacy SSE: GET, the endpoint event, then initialize through the announced message endpoint.
  // Only the endpoint event proves a legacy SSE transport; a status code (401, 405) proves nothing.
  const sseEvidence: string[] = []
  let sse: string | undefined
  let sseLocked: string | undefined
  let sseMessage: string | undefined
  let sseMessageStatus: number | undefined
  let sseMalformed: Probe | undefined
  for (const p of unique([announced.sse, '/sse'])) {
    const stream = await openSse(base, p, headers, timeoutMs)
    if (!isStream(stream)) {
      sseEvidence.push(describe(stream, stream.status === 401 ? '(needs a token: a legacy SSE transport here cannot be confirmed without one)' : ''))
      if (stream.status === 401) sseLocked = p
      continue
    }
    try {
      if (!stream.endpoint) {
        sseEvidence.push(`GET ${p} → 200 text/event-stream, but no "endpoint" event within ${timeoutMs} ms`)
        continue
      }
      sse = p
      sseMessage = stream.endpoint.pathname
      sseEvidence.push(`GET ${p} → 200 text/event-stream, endpoint event ${sseMessage}?sessionId=…`)
      const messageHeaders = { 'content-type': 'application/json', ...headers }
      const sent = await probe(stream.endpoint, stream.endpoint.pathname + stream.endpoint.search, { body: initializeBody(), headers: messageHeaders }, timeoutMs)
      sseMessageStatus = sent.status
      const answered = sent.status >= 200 && sent.status < 300 ? await stream.next(0, timeoutMs) : undefined
      sseEvidence.push(describe(sent, answered ? '(initialize answered on the stream)' : ''))
      if (answered) {
        sseMalformed = await probe(stream.endpoint, stream.endpoint.pathname + stream.endpoint.search, { body: '{"jsonrpc":', headers: messageHeaders }, timeoutMs)
      }
    } finally {
      stream.close()
    }
    break
  }
  if (sse) sseLocked = undefined

  // KI-02: does any transport answer, and where. A Worker that throws at every MCP path is not a
  // path problem: the paths may be right and the Worker crashes behind them (KI-10 is one such crash).
  if (!streamable && !sse && !sseLocked) {
    const crash = crashBehindEndpoints(ctx, [...streamEvidence, ...sseEvidence])
    if (crash) {
      findings.push(crash, finding('KI-02', 'skipped', { cause: `The Worker throws at the MCP paths (a 500 instead of an MCP answer), so whether the client URLs use the right paths cannot be seen. Fix the crash first (see ${crash.id}).`, evidence: [...streamEvidence, ...sseEvidence] }))
      return { findings, endpoints: { url: base }, protectedByAuth: false, authHeaders: {} }
    }
    findings.push(
      finding('KI-02', 'fail', {
        cause: `Neither a Streamable HTTP initialize (${candidates.join(', ')}) nor a legacy SSE GET (${unique([announced.sse, '/sse']).join(', ')}) got an MCP answer: clients configured with these URLs fail with 404 / "Connection failed".`,
        fix: 'Serve McpAgent at the path the client uses: `MyMcp.serve("/mcp")` for Streamable HTTP, `MyMcp.serveSSE("/sse")` for legacy SSE, and route those paths to them.',
        evidence: [...streamEvidence, ...sseEvidence],
      }),
    )
    return { findings, endpoints: { url: base }, protectedByAuth: false, authHeaders: {} }
  }
  const kind = sessionful === undefined ? '' : sessionful ? ' (sessionful: initialize returns mcp-session-id)' : ' (stateless: no mcp-session-id, as createMcpHandler serves it)'
  const where = [opened && `Streamable HTTP at ${streamable}`, sse && `legacy SSE at ${sse}${sseMessage ? ` (messages to ${sseMessage})` : ''}`].filter(Boolean).join('; ')
  const behind = authed && opened && challenge ? ` with ${authSource}` : ''
  const ki02Evidence = [...streamEvidence, ...sseEvidence]
  if (authFailure?.upstream.length) {
    findings.push(finding('KI-02', 'skipped', { cause: `${streamable} asks for a token, and with ${authSource} the answer was ${upstreamCause(authFailure)}`, evidence: ki02Evidence }))
  } else if (authFailure && (authFailure.status === 401 || authFailure.status === 403)) {
    const fromSignIn = authSource === 'the token from sign-in'
    findings.push(
      finding('auth', fromSignIn ? 'fail' : 'warn', {
        title: 'Credentials accepted',
        cause: fromSignIn
          ? `The server issued a token through its own sign-in flow and then refused it at ${streamable} (${authFailure.status}): a real client signs in and still cannot connect.`
          : `${streamable} refused ${authSource} (${authFailure.status}), so the checks behind auth could not run.`,
        fix: fromSignIn ? 'Check that the token audience/resource matches the MCP URL and that the API handler accepts tokens of this authorization server.' : 'Pass a token this server accepts (--token, or --header "Authorization: Bearer …"), or use --sign-in.',
        evidence: [describe(authFailure)],
      }),
    )
  } else if (authFailure) {
    findings.push(
      finding('KI-02', 'fail', {
        cause: `${streamable} asks for a token, but with ${authSource} initialize gets ${authFailure.status} instead of an MCP answer: signed-in clients fail with ${authFailure.status === 404 ? '404 / "Connection failed"' : `HTTP ${authFailure.status}`}. ${authFailure.status === 404 ? 'The handler behind the auth check serves another path (a prefix mount such as Hono `app.mount("/mcp", …)` strips "/mcp" before createMcpHandler / McpAgent.serve sees it).' : ''}`.trim(),
        fix: 'Give the MCP handler the path it actually receives behind the auth wrapper (e.g. `route: "/"` under a prefix mount, or route `/mcp` to it unmodified), and check with a signed-in client.',
        evidence: [...ki02Evidence, describe(authFailure, `(with ${authSource})`)],
      }),
    )
  } else if (locked || (!opened && !sse)) {
    findings.push(
      finding('KI-02', 'skipped', {
        cause: `${[streamable, sseLocked].filter(Boolean).join(' and ')} answer${streamable && sseLocked ? '' : 's'} 401: the MCP endpoint is behind a token, and whether MCP answers behind it cannot be seen without one. Pass --token <t>, --header "Name: value" or --sign-in to run the checks behind auth.`,
        evidence: ki02Evidence,
      }),
    )
  } else {
    findings.push(finding('KI-02', 'ok', { cause: `${where.replace(`Streamable HTTP at ${streamable}`, `Streamable HTTP at ${streamable}${kind}`)}${behind}. Client URLs must use exactly these paths.`, evidence: ki02Evidence }))
  }

  // KI-18: every transport the server announces answers.
  const missing = [announced.mcp && opened && announced.mcp !== streamable && `Streamable HTTP ${announced.mcp}`, announced.sse && !sseLocked && announced.sse !== sse && `SSE ${announced.sse}`].filter(Boolean)
  if (missing.length) {
    findings.push(finding('KI-18', 'fail', { cause: `The health endpoint announces ${missing.join(' and ')}, but it does not answer as MCP: a route check for the other transport catches it first, or it is not wired.`, fix: 'Check exact paths before prefixes: `if (pathname === "/mcp") ...; if (pathname === "/sse" || pathname.startsWith("/sse/")) ...`.', evidence: [...streamEvidence, ...sseEvidence] }))
  } else if (opened && sse) {
    findings.push(finding('KI-18', 'ok', { cause: `Both transports answer (${where}).` }))
  } else if (!opened && !sse) {
    findings.push(finding('KI-18', 'skipped', { cause: `${shut}: which transports answer cannot be seen.` }))
  } else {
    const sseNote = sseLocked ? ` (${sseLocked} answers 401: whether it is a legacy SSE endpoint needs a token)` : ''
    findings.push(finding('KI-18', 'skipped', { cause: `Only ${opened ? `Streamable HTTP (${streamable})` : `legacy SSE (${sse})`} answers and nothing announces the other, so the doctor cannot tell whether it should exist${sseNote}. If you serve both, ${opened ? '/sse' : '/mcp'} must not 404.`, evidence: opened ? sseEvidence : streamEvidence }))
  }

  // KI-04: trailing-slash variants and the SSE message route.
  const slashEvidence: string[] = []
  let slashBroken = false
  if (opened) {
    const variant = await probe(base, toggleSlash(streamable!), { body: initializeBody(), headers: { ...POST_HEADERS, ...headers } }, timeoutMs)
    slashEvidence.push(describe(variant))
    if (initResult(variant)) await closeSession(ctx, toggleSlash(streamable!), variant, headers)
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
  } else if (!opened && !sse) {
    findings.push(finding('KI-04', 'skipped', { cause: `${shut}: path variants cannot be told apart.` }))
  } else {
    findings.push(finding('KI-04', 'ok', { cause: `Paths match exactly${opened ? ` (${toggleSlash(streamable!)} is not an MCP endpoint: a client URL with or without that trailing slash gets 404)` : ''}${sseMessage ? `; the SSE message route ${sseMessage} answers` : ''}.`, evidence: slashEvidence }))
  }

  // KI-03: what a client of the other transport sees at each endpoint.
  const confusion: string[] = []
  if (opened) {
    const asSse = await openSse(base, streamable!, headers, Math.min(timeoutMs, 2_000))
    if (isStream(asSse)) {
      asSse.close()
      confusion.push(`a legacy SSE client at ${streamable} gets a 200 event stream ${asSse.endpoint ? 'with' : 'without'} an endpoint event${asSse.endpoint ? '' : ' and waits until it gives up'}`)
    } else {
      confusion.push(`a legacy SSE client at ${streamable} gets ${asSse.status} ("SSE error: Non-200 status code (${asSse.status})"): ${describe(asSse)}`)
    }
  }
  if (sse) {
    const asStreamable = await probe(base, sse, { body: initializeBody(), headers: { ...POST_HEADERS, ...headers } }, timeoutMs)
    confusion.push(`a Streamable HTTP client at ${sse} gets ${asStreamable.status} on initialize ("Unexpected response format" or "HTTP ${asStreamable.status}"): ${describe(asStreamable)}`)
  }
  findings.push(
    confusion.length
      ? finding('KI-03', 'ok', { cause: `Each transport answers only at its own path; a client of the wrong transport fails as shown. Point ${[opened && `Streamable HTTP clients at ${streamable}`, sse && `legacy SSE clients at ${sse}`].filter(Boolean).join(' and ')}${sse ? '' : ' (there is no legacy SSE endpoint: SSE-only clients need mcp-remote)'}.`, evidence: confusion })
      : finding('KI-03', 'skipped', { cause: `${shut}, so what a client of the wrong transport sees cannot be observed.` }),
  )

  // KI-24 first (its verdict tells whether a browser client must read WWW-Authenticate), reported last.
  const oauth = challenge ? await checkOAuthOrigins(ctx, challenge) : undefined

  // KI-07 and KI-22: CORS as a browser page at ctx.origin would see it.
  findings.push(...(await checkCors(ctx, { streamable, sseMessage, challenge, oauthAnnounced: !!oauth?.announced, sessionful, headers, opened, track })))

  // KI-08: malformed JSON.
  if (!opened && !sse) {
    findings.push(finding('KI-08', 'skipped', { cause: `${shut}: the body is not read, so malformed JSON cannot be checked.` }))
  } else {
    if (opened) findings.push(malformedFinding(await probe(base, streamable!, { body: '{"jsonrpc":', headers: { ...POST_HEADERS, ...headers } }, timeoutMs), 'Streamable HTTP'))
    if (sseMalformed) findings.push(malformedFinding(sseMalformed, 'legacy SSE'))
  }

  // KI-34: a 2026-07-28 endpoint and the Mcp-Method header.
  findings.push(locked && !announced.stateless ? finding('KI-34', 'skipped', { cause: `${shut}: which protocol era it speaks cannot be seen.` }) : await checkModern(ctx, unique([announced.stateless, opened ? streamable : undefined]), headers))

  // KI-24: OAuth metadata on the API's origin, for servers that announce OAuth.
  findings.push(
    oauth?.finding ??
      finding('KI-24', 'skipped', { cause: challenge ? '' : 'The MCP endpoint does not ask for a token (no 401), so there is no OAuth metadata to check.' }),
  )

  // The probes' own side effects: upstream calls the Worker made that no mock answers.
  const calls = unique(upstreamSeen.flatMap((reply) => reply.upstream))
  if (calls.length) {
    findings.push(
      finding('upstream', 'warn', {
        title: 'Upstream calls without a mock',
        cause: `While answering the doctor, the Worker called ${calls.join(', ')}; no upstream mock answers ${calls.length > 1 ? 'them' : 'it'}, so the emulator answered 502 ERR_UNHANDLED_UPSTREAM. Checks whose answer came from that were skipped, not failed.`,
        fix: 'Mock the upstream (harness config `upstream`, or --upstream <provider>), or pass credentials the Worker accepts without calling out (--token / --header / --sign-in).',
        evidence: upstreamSeen.map((reply) => describe(reply)),
      }),
    )
  }

  return { findings, endpoints: { url: base, streamable: opened ? streamable : challenge ? streamable : undefined, sse }, protectedByAuth: locked, authHeaders: opened ? headers : {} }
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

/** What the CORS checks need to know about the server, from the probes before them. */
interface CorsInput {
  streamable?: string
  sseMessage?: string
  /** The 401 a client without a token gets, if any. */
  challenge?: Probe
  /** The server announces OAuth (protected-resource metadata), so a browser client must read WWW-Authenticate. */
  oauthAnnounced: boolean
  /** Whether initialize returned mcp-session-id (undefined when it could not be opened). */
  sessionful?: boolean
  /** The credentials that open the endpoint (empty when none are needed or known). */
  headers: Record<string, string>
  /** True when initialize got an MCP answer. */
  opened: boolean
  track: (reply: Sent) => Sent
}

/**
 * The request headers a browser client sends on a POST after initialize, so the preflight asks for
 * exactly those: the protocol version always, the session id only to a sessionful server, the
 * credentials when the server asks for them (or the user's client sends them).
 */
function clientHeaders(input: CorsInput, path: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT_BOTH }
  if (path === input.streamable) {
    headers['mcp-protocol-version'] = DOCTOR_PROTOCOL_VERSION
    if (input.sessionful) headers['mcp-session-id'] = 'session'
  }
  for (const name of Object.keys(input.headers)) headers[name.toLowerCase()] = 'value'
  if (input.challenge) headers.authorization = 'value'
  return headers
}

/** What a refused preflight's status says about where it went wrong (browsers send it without credentials). */
function preflightHint(reply: Probe): string {
  if (reply.status === 401 || reply.status === 403) return ` (OPTIONS ${reply.path} → ${reply.status}: the auth check runs before the preflight is answered, but a browser never sends credentials on a preflight.)`
  if (reply.status === 404) return ` (OPTIONS ${reply.path} → 404: the request does not reach the MCP handler at this path; see KI-02.)`
  return ''
}

/** KI-07 (preflight) and KI-22 (ACAO and Expose-Headers on the response), judged by the Fetch-standard CORS model. */
async function checkCors(ctx: ProbeContext, input: CorsInput): Promise<Finding[]> {
  const findings: Finding[] = []
  const { base, origin, timeoutMs } = ctx
  const { streamable, challenge, sessionful, opened, track } = input
  const paths = unique([streamable, input.sseMessage])
  const preflightEvidence: string[] = []
  const blocks: string[] = []
  const caused: Sent[] = []
  for (const p of paths) {
    const request: CorsRequest = { method: 'POST', url: new URL(p, base).href, origin, headers: clientHeaders(input, p) }
    const pre = preflightRequestFor(request)
    const reply = track(await send(ctx, p, { method: 'OPTIONS', headers: Object.fromEntries(pre.headers) }))
    preflightEvidence.push(describe(reply, `(preflight from ${origin} for POST with ${new Headers(pre.headers).get('access-control-request-headers')})`))
    if (reply.upstream.length) {
      caused.push(reply)
      continue
    }
    const blocked = reply.error ? { message: reply.error } : checkPreflight(request, { status: reply.status, headers: reply.headers })
    if (blocked) blocks.push(`${blocked.message}${preflightHint(reply)}`)
  }
  if (!paths.length) return findings
  const asked = (sessionful === undefined && streamable ? ' (whether the server is sessionful could not be seen, so mcp-session-id was not asked for)' : '')
  findings.push(
    blocks.length
      ? finding('KI-07', 'fail', {
          cause: `A browser page at ${origin} is refused before its request is sent: ${blocks[0]} Every MCP POST carries Content-Type: application/json, so every one needs this preflight.`,
          fix: 'Answer OPTIONS on the MCP paths with 204 and Access-Control-Allow-Origin/-Methods/-Headers (McpAgent.serve and createMcpHandler do this when OPTIONS reaches them: do not reject methods or check tokens before calling them; let OPTIONS through your auth check).',
          evidence: preflightEvidence,
        })
      : caused.length
        ? finding('KI-07', 'skipped', { cause: upstreamCause(caused[0]!), evidence: preflightEvidence })
        : finding('KI-07', 'ok', { cause: `The preflight from ${origin} passes on ${paths.join(', ')}${asked}.`, evidence: preflightEvidence }),
  )
  if (!streamable) {
    findings.push(finding('KI-22', 'skipped', { cause: 'No Streamable HTTP endpoint: the response header check applies to it only.' }))
    return findings
  }
  // The actual request as the page sends it (no session yet): with the credentials that open the
  // endpoint, or none (a client's first request, answered with the 401 challenge).
  const sent = { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...input.headers }
  const actual: CorsRequest = { method: 'POST', url: new URL(streamable, base).href, origin, headers: sent }
  const reply = track(await send(ctx, streamable, { body: initializeBody(), headers: { ...sent, origin } }))
  if (initResult(reply)) await closeSession(ctx, streamable, reply, input.headers)
  const evidence = [describe(reply, `(initialize with Origin: ${origin})`), ...['access-control-allow-origin', 'access-control-expose-headers'].map((h) => `${h}: ${reply.headers.get(h) ?? '(absent)'}`)]
  if (reply.upstream.length) {
    findings.push(finding('KI-22', 'skipped', { cause: upstreamCause(reply), evidence }))
    return findings
  }
  if (reply.status === 403 && /origin/i.test(reply.text)) {
    findings.push(finding('KI-22', 'warn', { cause: `The server refuses Origin ${origin} (403: DNS-rebinding protection). Browser pages on that origin cannot connect at all.`, fix: `If a browser app on ${origin} must connect, add its hostname to the server's allowed origins; otherwise run the doctor with --origin set to the app's origin.`, evidence }))
    return findings
  }
  // What a browser client must read: the session id of a sessionful server; WWW-Authenticate on a
  // 401 of a server that announces OAuth (it names the metadata); nothing else for a stateless one.
  const unauthorized = reply.status === 401
  const read = unauthorized ? (input.oauthAnnounced ? ['www-authenticate'] : []) : sessionful ? ['mcp-session-id'] : []
  const what = unauthorized ? 'the 401 challenge' : sessionful ? 'initialize (sessionful)' : opened ? 'initialize (stateless: no mcp-session-id expected)' : `initialize (${reply.status})`
  // Judge the response on its own: a failed preflight is KI-07's finding already.
  const verdict = corsVerdict({ request: { ...actual, headers: {} }, response: { status: reply.status, headers: reply.headers }, read })
  if (!verdict.allowed && verdict.blocked) {
    const failed = reply.status >= 500
    findings.push(
      finding('KI-22', failed ? 'warn' : 'fail', {
        cause: failed
          ? `The server failed (${describe(reply)}) and its error response carries no usable CORS headers for ${origin}, so a browser page sees a CORS error instead of the ${reply.status}. Fix the ${reply.status} first; then send CORS headers on error responses too.`
          : `The response to ${what} carries no usable CORS headers for ${origin}: ${verdict.blocked.message} The page never sees the result.`,
        fix: 'Add Access-Control-Allow-Origin (and Access-Control-Expose-Headers for the headers a client reads) to every MCP response, errors and 401s included (McpAgent.serve and createMcpHandler do it unless corsOptions override it).',
        evidence,
      }),
    )
  } else if (read.length && (verdict.hidden.length || !reply.headers.has(read[0]!))) {
    const header = read[0]!
    findings.push(
      finding('KI-22', 'fail', {
        cause: reply.headers.has(header)
          ? `The response sends ${header}, but Access-Control-Expose-Headers (${reply.headers.get('access-control-expose-headers') ?? 'absent'}) does not list it: a browser script cannot read it, so ${unauthorized ? 'the client cannot find the OAuth metadata' : 'the client never learns its session and every request after initialize fails (400, no session id)'}.`
          : `The response to ${what} carries no ${header} header at all.`,
        fix: unauthorized ? 'List WWW-Authenticate in Access-Control-Expose-Headers.' : "Include mcp-session-id in Access-Control-Expose-Headers (with McpAgent: `corsOptions: { exposeHeaders: 'mcp-session-id, x-your-header' }` — a custom value replaces the default).",
        evidence,
      }),
    )
  } else {
    findings.push(finding('KI-22', 'ok', { cause: `The response to ${what} allows ${origin}${read.length ? ` and exposes ${read.join(', ')} to browser scripts` : ''}.`, evidence }))
  }
  return findings
}

/** KI-34: looks for a 2026-07-28 endpoint and tells what a client without Mcp-Method gets. */
async function checkModern(ctx: ProbeContext, paths: string[], auth: Record<string, string>): Promise<Finding> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'server/discover',
    params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'mcp-harness-doctor', version: '0.1.0' } } },
  })
  const evidence: string[] = []
  for (const p of paths) {
    const headers = { ...POST_HEADERS, ...auth, 'mcp-protocol-version': MODERN_PROTOCOL_VERSION }
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
  return finding('KI-34', 'skipped', { cause: `No 2026-07-28 endpoint answered server/discover at ${paths.join(', ') || '(no path)'}; the server speaks the 2025 protocol only there.`, evidence })
}

/**
 * KI-24: follows the 401 challenge to the protected-resource and authorization-server metadata, on
 * the API's origin only. A server that announces no OAuth (a plain bearer-token server) is not judged.
 */
async function checkOAuthOrigins(ctx: ProbeContext, challenge: Probe): Promise<{ finding: Finding; announced: boolean }> {
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
  const announced = !!metadataUrl || !!prm
  if (!announced && !asMeta) {
    return { announced, finding: finding('KI-24', 'skipped', { cause: 'The 401 names no resource_metadata and the server publishes no OAuth metadata: a plain bearer-token server, with no OAuth URLs to check.', evidence }) }
  }
  if (foreign.length) {
    return {
      announced,
      finding: finding('KI-24', 'fail', {
        cause: `The OAuth metadata names URLs on another origin than the API (${base.origin}): ${[...new Set(foreign)].join(', ')}. Clients follow them; the handshake completes on one host and the token is for another, so it works in one place and never completes in the other.`,
        fix: 'Derive the OAuth URLs from the request origin (or set the public URL per environment), and reach the server by that same origin.',
        evidence,
      }),
    }
  }
  if (!announced) {
    return {
      announced,
      finding: finding('KI-24', 'warn', { cause: 'The server publishes authorization-server metadata, but the 401 names no resource_metadata and no protected-resource metadata was found on the API origin: current clients cannot discover where to sign in.', fix: 'Serve /.well-known/oauth-protected-resource (workers-oauth-provider does, with resourceMetadata set) and send resource_metadata in WWW-Authenticate.', evidence }),
    }
  }
  return { announced, finding: finding('KI-24', 'ok', { cause: `The challenge, protected-resource and authorization-server metadata all stay on ${base.origin}.`, evidence }) }
}
