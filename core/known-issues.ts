import { z } from 'zod'

/**
 * The catalogue of known failures of MCP servers on Cloudflare Workers: one entry per failure, with
 * what a user sees, why, the fix, the scenario that reproduces it on purpose, and the doctor check
 * that detects it. Scenarios, the doctor and error messages cite the ids; `docs/known-issues.md` is
 * generated from this list (`node scripts/known-issues.ts`).
 */

/** Where the human page lives, relative to the package root; errors and `doctor` point here. */
export const KNOWN_ISSUES_PAGE = 'docs/known-issues.md'

/** A fixed upstream bug this catalogue reproduces on an affected version (pinned under an npm alias). */
export const UpstreamBugSchema = z
  .object({
    /** The npm package the bug lives in. */
    package: z.string().min(1),
    /** The version the broken variant pins (installed as `<alias>` in devDependencies). */
    affected: z.string().min(1),
    /** The first version with the fix, which the fixed variant pins or the project uses. */
    fixed: z.string().min(1),
  })
  .strict()

export const KnownIssueSchema = z
  .object({
    /** Stable id, cited by scenarios, doctor findings and errors. */
    id: z.string().regex(/^KI-\d{2}$/, 'expected an id like "KI-07"'),
    title: z.string().min(3),
    /** What the user of the server (or its developer) sees, in their words. */
    symptom: z.string().min(3),
    cause: z.string().min(3),
    fix: z.string().min(3),
    /** Whether a scenario in this project reproduces it on purpose, and if not, the concrete reason. */
    reproducible: z.discriminatedUnion('status', [
      z.object({ status: z.literal('yes') }).strict(),
      z.object({ status: z.literal('no'), reason: z.string().min(40, 'say concretely why it cannot be reproduced locally') }).strict(),
    ]),
    /** Test files whose test titles cite this id (the reproduction, and the fixed variant passing it). */
    scenarios: z.array(z.string().regex(/\.test\.ts$/)).default([]),
    /** The broken setup: a Worker folder / wrangler config in this project, or a client-side setup. */
    broken: z.string().min(3).optional(),
    /** The fixed setup that passes the same scenario. */
    fixed: z.string().min(3).optional(),
    /** The doctor check that detects it from the outside, by the title the doctor prints. */
    doctor: z.object({ check: z.string().min(3) }).strict().optional(),
    /** Upstream issues, pull requests or advisories. */
    upstream: z.array(z.string().url()).default([]),
    /** For a fixed upstream bug: the affected and fixed versions. */
    upstreamBug: UpstreamBugSchema.optional(),
  })
  .strict()
  .superRefine((issue, ctx) => {
    if (issue.reproducible.status === 'yes' && issue.scenarios.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['scenarios'], message: `${issue.id} is reproducible but names no scenario` })
    }
    if (issue.upstreamBug && issue.upstream.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['upstream'], message: `${issue.id} is an upstream bug but cites no upstream URL` })
    }
  })

export type KnownIssue = z.output<typeof KnownIssueSchema>

/** The literal shape of an entry below (readonly, so that ids stay literal types). */
interface Entry {
  readonly id: string
  readonly title: string
  readonly symptom: string
  readonly cause: string
  readonly fix: string
  readonly reproducible: { readonly status: 'yes' } | { readonly status: 'no'; readonly reason: string }
  readonly scenarios?: readonly string[]
  readonly broken?: string
  readonly fixed?: string
  readonly doctor?: { readonly check: string }
  readonly upstream?: readonly string[]
  readonly upstreamBug?: { readonly package: string; readonly affected: string; readonly fixed: string }
}

const REFERENCE = 'server/wrangler.jsonc (the reference server)'
const OAUTH_REFERENCE = 'server/oauth/wrangler.jsonc (the OAuth reference server)'
const YES = { status: 'yes' } as const

const ENTRIES = [
  {
    id: 'KI-01',
    title: 'McpAgent class not exported',
    symptom: "`Cannot read properties of undefined (reading 'serve')`, or the Durable Object class is missing at start",
    cause: 'The Worker module does not export the Durable Object class its wrangler config binds.',
    fix: 'Add `export` before the McpAgent class in the Worker entry module (or re-export it there).',
    reproducible: YES,
    scenarios: ['emulator/config-errors.test.ts'],
    broken: 'scenarios/fixtures/broken-not-exported/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'McpAgent class exported' },
  },
  {
    id: 'KI-02',
    title: 'Base path mismatch',
    symptom: '404 / "Connection failed" in the client',
    cause: 'The server serves `/mcp` (or `/sse`) and the client URL lacks the path or names another one.',
    fix: 'Use the exact endpoint path in the client URL (`https://host/mcp`).',
    reproducible: YES,
    scenarios: ['doctor/client-config.test.ts', 'scenarios/doctor/reference.test.ts'],
    broken: 'client-side: a client config whose URL has no `/mcp` path',
    fixed: 'client-side: the same config with the path the health endpoint announces',
    doctor: { check: 'MCP endpoints found' },
  },
  {
    id: 'KI-03',
    title: 'Transport confusion',
    symptom: '"Unexpected response format" or "Non-200 status code" in the client',
    cause: 'A legacy SSE client points at the Streamable HTTP endpoint, or the reverse.',
    fix: 'Point SSE clients at `/sse` and Streamable HTTP clients at `/mcp` (or set the transport in the client config).',
    reproducible: YES,
    scenarios: ['doctor/client-config.test.ts', 'scenarios/doctor/reference.test.ts'],
    broken: 'client-side: an SSE client config pointing at `/mcp`',
    fixed: 'client-side: the same client pointing at `/sse`',
    doctor: { check: 'Transports at distinct paths' },
  },
  {
    id: 'KI-04',
    title: 'Path matching logic',
    symptom: 'one transport, or a URL with a trailing slash, answers 404 (the SSE client connects, then every message fails)',
    cause: 'The Worker compares paths with `pathname === "/sse"`, so the message route `/sse/message` never reaches serveSSE (or a `startsWith` check runs in the wrong order).',
    fix: 'Route `/sse` and everything under `/sse/` to serveSSE: `pathname === "/sse" || pathname.startsWith("/sse/")`.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-04-path-matching.test.ts'],
    broken: 'server/variants/exact-sse-path/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'Path matching (trailing slash, SSE message route)' },
  },
  {
    id: 'KI-05',
    title: 'Local vs deployed URL mismatch',
    symptom: 'works locally, fails deployed (or the reverse)',
    cause: 'The client config still points at localhost, or at the old host.',
    fix: 'Point the client config at the URL of the server you mean (one entry per environment).',
    reproducible: YES,
    scenarios: ['doctor/client-config.test.ts', 'scenarios/doctor/reference.test.ts'],
    broken: 'client-side: a client config naming another host than the server under test',
    fixed: 'client-side: the config naming the server under test',
    doctor: { check: 'Client config points at this server' },
  },
  {
    id: 'KI-06',
    title: 'OAuth redirect URI mismatch',
    symptom: 'the upstream provider rejects the authorize request, or the callback answers 400',
    cause: 'The callback URL is registered at the provider for another host or port.',
    fix: "Register the exact callback URL (scheme, host, port, path) of each environment at the provider.",
    reproducible: YES,
    scenarios: ['scenarios/auth/ki-06-redirect-mismatch.test.ts', 'scenarios/auth/security.test.ts'],
    broken: 'upstream mock with a registered callback for another port',
    fixed: OAUTH_REFERENCE,
  },
  {
    id: 'KI-07',
    title: 'Missing OPTIONS handler',
    symptom: 'browser: "blocked by CORS policy"; 405 on the preflight',
    cause: 'Nothing answers the CORS preflight (`OPTIONS`) before the MCP handler.',
    fix: 'Answer OPTIONS with the CORS headers (McpAgent.serve does it when the request reaches it).',
    reproducible: YES,
    scenarios: ['scenarios/cors/model.test.ts', 'emulator/plugins/cors.test.ts'],
    broken: 'server/variants/no-options/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'CORS preflight (OPTIONS)' },
  },
  {
    id: 'KI-08',
    title: 'Request body not validated',
    symptom: '500 `Unexpected token` / `Unexpected end of JSON input` / `Cannot read properties of undefined`',
    cause: 'Malformed JSON reaches code that assumes it is valid.',
    fix: 'Parse the body in a try/catch and answer 400 with JSON-RPC error -32700.',
    reproducible: YES,
    scenarios: ['scenarios/protocol/streamable-http-edges.test.ts', 'scenarios/protocol/legacy-sse-edges.test.ts'],
    broken: `${REFERENCE}, legacy /sse/message route (see KI-37)`,
    fixed: `${REFERENCE}, /mcp route`,
    doctor: { check: 'Malformed JSON answered with -32700' },
  },
  {
    id: 'KI-09',
    title: 'Environment variable missing',
    symptom: 'a tool returns empty data (`undefined` in the text), no error anywhere',
    cause: 'The tool reads `this.env.X`, and X is not configured (`vars`, `.dev.vars` or a secret) in this environment.',
    fix: 'Set the variable (`wrangler secret put X`, `.dev.vars` locally) and make the tool fail loudly when it is missing.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-09-missing-env.test.ts'],
    broken: 'server/variants/missing-env/wrangler.jsonc',
    fixed: 'server/variants/missing-env/wrangler.jsonc with WEATHER_API_KEY set (emulator `vars`, like `.dev.vars`)',
  },
  {
    id: 'KI-10',
    title: 'McpAgent vs McpServer confusion',
    symptom: 'the client cannot initialize: the Worker throws while the Durable Object starts (`McpAgent uses MCP SDK v1 and cannot serve McpServer from "@modelcontextprotocol/server"`)',
    cause: 'The standalone MCP SDK pattern (an McpServer from the v2 package `@modelcontextprotocol/server`) is used inside McpAgent, which serves an McpServer from `@modelcontextprotocol/sdk`.',
    fix: 'Inside McpAgent, create `server = new McpServer(...)` from `@modelcontextprotocol/sdk/server/mcp.js` and register tools in `init()`; use createMcpHandler for the v2 SDK.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-10-mcpagent-vs-mcpserver.test.ts', 'scenarios/doctor/ki-10.test.ts'],
    broken: 'server/variants/sdk-v2-server/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'McpAgent serves an McpServer it supports' },
  },
  {
    id: 'KI-11',
    title: 'State lost on hibernation',
    symptom: 'counters reset, "state not found" after idle',
    cause: 'State is kept in instance fields instead of `this.state` / Durable Object storage; hibernation drops the instance.',
    fix: 'Keep state in `this.setState()` or `this.ctx.storage`; treat instance fields as a cache.',
    reproducible: YES,
    scenarios: ['scenarios/hibernation/evict-resume.test.ts', 'scenarios/doctor/reference.test.ts'],
    broken: `${REFERENCE}, tool \`memo\` (instance field)`,
    fixed: `${REFERENCE}, tool \`counter\` (this.state)`,
    doctor: { check: 'State survives hibernation' },
  },
  {
    id: 'KI-12',
    title: 'Durable Object binding missing',
    symptom: "`Cannot read properties of undefined (reading 'idFromName')`",
    cause: 'The wrangler config has no `durable_objects.bindings` entry for the McpAgent class.',
    fix: 'Add `"durable_objects": { "bindings": [{ "name": "MCP_OBJECT", "class_name": "MyMcp" }] }`.',
    reproducible: YES,
    scenarios: ['emulator/config-errors.test.ts'],
    broken: 'scenarios/fixtures/broken-no-do-binding/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'Durable Object binding' },
  },
  {
    id: 'KI-13',
    title: 'Migration not defined',
    symptom: '`Durable Object class X has no migration defined` (deploy refused)',
    cause: 'The wrangler config has no `migrations` entry for the class.',
    fix: 'Add `"migrations": [{ "tag": "v1", "new_sqlite_classes": ["MyMcp"] }]`.',
    reproducible: YES,
    scenarios: ['emulator/config-errors.test.ts'],
    broken: 'scenarios/fixtures/broken-no-migration/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'Durable Object migration' },
  },
  {
    id: 'KI-14',
    title: 'WebSocket attachment not serialized',
    symptom: 'after a quiet spell the server no longer knows who is on an open WebSocket ("unknown connection")',
    cause: 'Per-connection metadata is kept in memory (a Map keyed by socket); hibernation keeps the socket open but drops the instance and the Map.',
    fix: 'Store it with `ws.serializeAttachment(...)` and read it back with `ws.deserializeAttachment()`.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-14-websocket-attachment.test.ts'],
    broken: 'server/variants/ws-attachment/wrangler.jsonc, /room?keep=memory',
    fixed: 'server/variants/ws-attachment/wrangler.jsonc, /room?keep=attachment',
  },
  {
    id: 'KI-15',
    title: 'OAuth consent screen disabled',
    symptom: 'users grant scopes without seeing them',
    cause: 'The approval step is skipped before redirecting to the upstream provider.',
    fix: 'Show a consent page for each new client and remember the approval per client.',
    reproducible: YES,
    scenarios: ['scenarios/auth/ki-15-consent.test.ts'],
    broken: `${OAUTH_REFERENCE} with CONSENT=skip`,
    fixed: `${OAUTH_REFERENCE} with CONSENT=required`,
  },
  {
    id: 'KI-16',
    title: 'Signing / encryption key missing',
    symptom: 'authorization fails with a 500; no token is issued',
    cause: '`COOKIE_ENCRYPTION_KEY` or the provider secrets are not set in this environment.',
    fix: 'Set the secrets (`wrangler secret put ...`, `.dev.vars` locally).',
    reproducible: YES,
    scenarios: ['scenarios/auth/ki-16-missing-secret.test.ts'],
    broken: `${OAUTH_REFERENCE} without its secrets`,
    fixed: OAUTH_REFERENCE,
  },
  {
    id: 'KI-17',
    title: 'Tool schema validation error',
    symptom: 'an error result naming the invalid params (`expected number, received string`)',
    cause: 'The client sends a string where the tool schema wants a number.',
    fix: 'Send arguments of the declared types; declare the schema the client really sends.',
    reproducible: YES,
    scenarios: ['scenarios/lifecycle/tools.test.ts'],
    broken: 'client-side: `add` called with a string argument',
    fixed: 'client-side: `add` called with numbers',
  },
  {
    id: 'KI-18',
    title: 'Transport endpoints conflict',
    symptom: '`/sse` fails (400/404, "Non-200 status code") after adding `/mcp`, or the reverse',
    cause: 'An overlapping route check: a catch-all Streamable HTTP route (`serve("/*")` or a `startsWith` on a prefix) runs first and takes the other transport\'s requests.',
    fix: 'Check exact paths before prefixes, and give each transport its own path (`/mcp`, `/sse`).',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-18-endpoint-conflict.test.ts'],
    broken: 'server/variants/catch-all-mcp/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'Both transports reachable' },
  },
  {
    id: 'KI-19',
    title: 'Local runtime differs from production',
    symptom: 'works under `wrangler dev`, fails deployed: state resets, requests time out',
    cause: 'wrangler dev does not model production hibernation, IoContext timeouts or the Worker→DO hop; bugs that need them stay hidden locally.',
    fix: 'Test under the production policies (`hibernation: "production"`, the timeouts plugin) before deploying.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-19-local-differs.test.ts'],
    broken: `${REFERENCE} under wrangler dev's policy (hibernation off), tool \`memo\``,
    fixed: `${REFERENCE}, tool \`counter\` (passes under both policies)`,
  },
  {
    id: 'KI-20',
    title: 'Client configuration format',
    symptom: 'the client does not list the server, or shows a config error',
    cause: 'The `mcpServers` wrapper is missing, a trailing comma, or the wrong key (`url` vs `command` + `mcp-remote`).',
    fix: 'Use `{ "mcpServers": { "name": { "command": "npx", "args": ["mcp-remote", "https://host/mcp"] } } }` (or `url` where the client supports it).',
    reproducible: YES,
    scenarios: ['doctor/client-config.test.ts', 'scenarios/doctor/reference.test.ts'],
    broken: 'client-side: a config without the mcpServers wrapper',
    fixed: 'client-side: the same config, wrapped',
    doctor: { check: 'Client config format' },
  },
  {
    id: 'KI-21',
    title: 'No health endpoint',
    symptom: 'cannot tell whether the Worker runs or the URL is right',
    cause: 'There is no `/health` (or equivalent) answering without MCP.',
    fix: 'Answer `GET /health` with the server name, version and transport paths.',
    reproducible: YES,
    scenarios: ['scenarios/doctor/broken.test.ts'],
    broken: 'server/variants/no-options/wrangler.jsonc (no /health)',
    fixed: REFERENCE,
    doctor: { check: 'Health endpoint' },
  },
  {
    id: 'KI-22',
    title: 'CORS headers missing on responses',
    symptom: 'a browser client cannot read results or `mcp-session-id`',
    cause: 'No `Access-Control-Allow-Origin` / `Access-Control-Expose-Headers` on the MCP responses.',
    fix: 'Send `Access-Control-Allow-Origin` and expose `mcp-session-id` (McpAgent.serve does it with corsOptions).',
    reproducible: YES,
    scenarios: ['scenarios/doctor/reference.test.ts', 'emulator/plugins/cors.test.ts'],
    broken: 'server/variants/no-expose-headers/wrangler.jsonc',
    fixed: REFERENCE,
    doctor: { check: 'CORS headers on responses' },
  },
  {
    id: 'KI-23',
    title: 'IoContext timeout during initialize',
    symptom: '"IoContext timed out due to inactivity, waitUntil tasks were cancelled", a ~2 min gap, GET and POST to `/mcp` cancelled',
    cause: 'A custom Bearer front door in front of McpAgent (without the OAuthProvider wrapper) leaves pending work that never settles.',
    fix: 'Wrap the API with OAuthProvider (or pass ctx.props the way it does) and never hold a promise that only settles on a later request.',
    reproducible: YES,
    scenarios: ['scenarios/timeouts/io-context.test.ts', 'scenarios/timeouts/healthy-session.test.ts'],
    broken: 'server/variants/bearer-front-door/wrangler.jsonc',
    fixed: REFERENCE,
  },
  {
    id: 'KI-24',
    title: 'OAuth works locally, fails deployed',
    symptom: 'the handshake never completes after deploy',
    cause: 'OAuth URLs on another domain than the API, CORS on the provider, an unregistered redirect, or production secrets missing.',
    fix: 'Serve the OAuth metadata and endpoints on the API origin; register the production callback; set the production secrets.',
    reproducible: YES,
    scenarios: ['scenarios/auth/ki-24-origin.test.ts', 'scenarios/doctor/oauth.test.ts'],
    broken: `${OAUTH_REFERENCE} with metadata on another origin`,
    fixed: OAUTH_REFERENCE,
    doctor: { check: 'OAuth URLs on the API origin' },
  },
  {
    id: 'KI-25',
    title: 'PKCE downgrade (GHSA-qgp8-v765-qxx9)',
    symptom: 'nothing visible: a code issued without PKCE (the challenge stripped by an attacker) is redeemed with the client\'s code_verifier and yields tokens, so the downgrade goes unnoticed',
    cause: '`@cloudflare/workers-oauth-provider` before 0.0.5 accepted a code_verifier for a flow that did not use PKCE.',
    fix: 'Upgrade `@cloudflare/workers-oauth-provider` to 0.0.5 or later (it refuses the verifier with invalid_request).',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-25-pkce-downgrade.test.ts', 'scenarios/auth/security.test.ts'],
    broken: 'scenarios/fixtures/pkce-downgrade/affected.jsonc (workers-oauth-provider 0.0.4)',
    fixed: 'scenarios/fixtures/pkce-downgrade/fixed.jsonc (workers-oauth-provider 0.0.5); the OAuth reference server (1.x) in security.test.ts',
    upstream: ['https://github.com/cloudflare/workers-oauth-provider/security/advisories/GHSA-qgp8-v765-qxx9'],
    upstreamBug: { package: '@cloudflare/workers-oauth-provider', affected: '0.0.4', fixed: '0.0.5' },
  },
  {
    id: 'KI-26',
    title: 'Session changes owner',
    symptom: "one user's token reuses another user's session id and sees their props",
    cause: 'McpAgent binds props when the Durable Object starts; the session id is not tied to the user who created it.',
    fix: 'Bind the session to the token subject in the front door and answer 404 to any other subject (the reference server\'s session guard).',
    reproducible: YES,
    scenarios: ['scenarios/auth/ki-26-session-owner.test.ts'],
    broken: `${OAUTH_REFERENCE} with SESSION_GUARD=off`,
    fixed: `${OAUTH_REFERENCE} with SESSION_GUARD=on`,
  },
  {
    id: 'KI-27',
    title: 'Server-to-client requests dropped',
    symptom: 'an elicitation or sampling request never reaches the client; the tool hangs',
    cause: 'A request not tied to a running call goes to the standalone GET stream, and the client keeps none open.',
    fix: 'Send server-to-client requests from inside the tool call they belong to (relatedRequestId), or use a client that keeps the GET stream.',
    reproducible: YES,
    scenarios: ['scenarios/hibernation/elicitation.test.ts'],
    broken: 'server/variants/unrelated-request/wrangler.jsonc',
    fixed: REFERENCE,
  },
  {
    id: 'KI-28',
    title: 'Result lost after reconnect',
    symptom: 'a reconnect with `Last-Event-ID` after the tool finished gets nothing; the call never completes',
    cause: "McpAgent's event store replays only while the request still runs.",
    fix: 'Make long tools resumable on your side (store the result), or keep the stream open until the result is delivered.',
    reproducible: YES,
    scenarios: ['scenarios/hibernation/resume.test.ts'],
    broken: `${REFERENCE}, reconnect after the tool finished`,
    fixed: `${REFERENCE}, reconnect while the tool runs`,
  },
  {
    id: 'KI-29',
    title: 'Client capabilities lost on SSE wake',
    symptom: '"Client does not support form elicitation" after hibernation on `/sse`',
    cause: 'Legacy SSE sessions do not restore the client capabilities when the Durable Object wakes.',
    fix: 'Serve elicitation over Streamable HTTP (`/mcp`), which restores them.',
    reproducible: YES,
    scenarios: ['scenarios/hibernation/sse-wake.test.ts'],
    broken: `${REFERENCE} on /sse`,
    fixed: `${REFERENCE} on /mcp`,
  },
  {
    id: 'KI-30',
    title: 'Elicitation validator blocked',
    symptom: '"Code generation from strings disallowed for this context" when a tool elicits',
    cause: "The MCP SDK's default JSON-schema validator (AJV) compiles code at run time; Workers forbid it.",
    fix: 'Pass `jsonSchemaValidator: new CfWorkerJsonSchemaValidator()` (from `@modelcontextprotocol/sdk/validation/cfworker`) to the McpServer.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-30-elicitation-validator.test.ts'],
    broken: 'server/variants/default-validator/wrangler.jsonc',
    fixed: REFERENCE,
  },
  {
    id: 'KI-31',
    title: 'Streamed responses buffered locally',
    symptom: 'SSE events arrive all at once, at the end, in local dev',
    cause: 'A compressed streaming response (`Content-Encoding: gzip`) is buffered by the compressor until it is flushed at the end of the stream.',
    fix: 'Do not set Content-Encoding on event streams (send `Content-Encoding: identity` or none).',
    reproducible: {
      status: 'no',
      reason:
        'Measured on workerd 1.20261117 (the runtime of wrangler 4.164): a gzip-encoded event stream is flushed per write, the first event arrives in milliseconds, not at the end. The scenario pins that, so a runtime that buffers again is noticed.',
    },
    scenarios: ['scenarios/known-issues/ki-31-buffered-stream.test.ts'],
    broken: 'scenarios/fixtures/compressed-stream/wrangler.jsonc, route /gzip',
    fixed: 'scenarios/fixtures/compressed-stream/wrangler.jsonc, route /plain',
  },
  {
    id: 'KI-32',
    title: 'Object never hibernates',
    symptom: 'billing for idle time; no eviction ever',
    cause: 'Pending timers or `waitUntil` work, sockets accepted with `accept()` instead of `ctx.acceptWebSocket()`, or a request still running.',
    fix: 'Clear timers, let waitUntil work settle, accept sockets with `ctx.acceptWebSocket()`.',
    reproducible: YES,
    scenarios: [
      'scenarios/hibernation/never-hibernates.test.ts',
      'scenarios/hibernation/ki-32-waits-until.test.ts',
      'scenarios/hibernation/ki-32-plain-websocket.test.ts',
      'scenarios/hibernation/ki-32-node-request.test.ts',
    ],
    broken: 'server/variants/never-hibernates/wrangler.jsonc (also waits-until, plain-websocket)',
    fixed: REFERENCE,
  },
  {
    id: 'KI-33',
    title: 'Missing optional peer',
    symptom: 'bundling fails: `Could not resolve "@modelcontextprotocol/server"`',
    cause: '`agents/mcp` imports the MCP SDK v2 package as an optional peer, and the project does not install it.',
    fix: 'Run `npm install @modelcontextprotocol/server`.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-33-missing-peer.test.ts'],
    broken: 'a Worker project whose node_modules lacks @modelcontextprotocol/server (built in a temporary folder)',
    fixed: 'the same project with the peer installed',
    doctor: { check: 'Optional peer installed' },
  },
  {
    id: 'KI-34',
    title: 'Missing `Mcp-Method` header',
    symptom: 'an older client gets -32020 on `server/discover`',
    cause: 'Servers speaking MCP 2026-07-28 route on the `Mcp-Method` header, which older clients do not send.',
    fix: 'Upgrade the client, or accept requests without the header on the legacy lane.',
    reproducible: YES,
    scenarios: ['scenarios/stateless/modern-protocol.test.ts', 'scenarios/conformance/stateless-smoke.test.ts'],
    broken: 'client-side: server/discover without Mcp-Method',
    fixed: 'client-side: the 2026-07-28 client sending it',
    doctor: { check: '2026-07-28 routing headers' },
  },
  {
    id: 'KI-35',
    title: 'Stale OAuth client after local state wipe',
    symptom: 'the client keeps failing authorization ("Client not found", invalid_client) after `.wrangler` was deleted',
    cause: 'The client caches its dynamic client registration; the server lost it with its local state.',
    fix: 'Delete the client cache (`~/.mcp-auth` for mcp-remote) so that it registers again; clients should re-register on `invalid_client`.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-35-stale-oauth-client.test.ts'],
    broken: 'client-side: an OAuth client reusing its cached registration after wipeStorage()',
    fixed: 'client-side: the same client with its registration cache cleared',
  },
  {
    id: 'KI-36',
    title: 'Session re-bound to another user after eviction',
    symptom: "after a quiet spell, user A's session answers with user B's identity",
    cause: "Props are read when the Durable Object starts: after hibernation the first request (here B's token with A's session id) brings its own props, and the session keeps them.",
    fix: 'Bind the session id to the token subject in the front door and reject any other subject, also after a wake (the reference server\'s session guard).',
    reproducible: YES,
    scenarios: ['scenarios/auth/ki-26-session-owner.test.ts'],
    broken: `${OAUTH_REFERENCE} with SESSION_GUARD=off`,
    fixed: `${OAUTH_REFERENCE} with SESSION_GUARD=on`,
  },
  {
    id: 'KI-37',
    title: 'Legacy message route throws on malformed JSON',
    symptom: 'POST `/sse/message` with malformed JSON fails with an uncaught exception: production answers 500 `error code: 1101` (no JSON-RPC -32700, nothing a client can act on); `wrangler dev` answers 500 with the `SyntaxError` and a stack trace',
    cause: "McpAgent's legacy SSE route (agents 0.32) parses the body without a try/catch, so the Worker throws.",
    fix: 'Parse the body in the Worker before serveSSE and answer 400 with JSON-RPC -32700.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-37-sse-message-stack.test.ts'],
    broken: REFERENCE,
    fixed: 'server/variants/validated-sse-message/wrangler.jsonc',
  },
  {
    id: 'KI-38',
    title: 'Progress notifications missed on `/sse`',
    symptom: 'a client on legacy SSE (MCP SDK v1) shows fewer progress updates than the tool sent (often not the last one), and logs "Received a progress notification for an unknown token"',
    cause: 'The server sends every progress notification before the result (measured on the raw stream); the SDK v1 client handles a response at once but notification handlers a microtask later, so progress that arrives in the same chunk as the result finds the request completed and is dropped. Its SSE transport dispatches a whole chunk at once; the Streamable HTTP transport reads one event at a time.',
    fix: "Use Streamable HTTP (`/mcp`) when progress matters; do not treat a missing last progress event on `/sse` as a server fault.",
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-38-sse-progress.test.ts'],
    broken: 'client-side: MCP SDK v1 client on /sse (reference server)',
    fixed: 'client-side: the same client on /mcp',
  },
  {
    id: 'KI-39',
    title: 'Empty header values dropped by the local dispatcher',
    symptom: '`mcp-protocol-version: ""` answers 400 under wrangler dev and in production, 200 through Miniflare\'s `dispatchFetch` (and through the emulator before its front door forwarded to workerd itself)',
    cause: "Miniflare's `dispatchFetch` drops headers whose value is empty, so the Worker never sees the empty header.",
    fix: 'Nothing to change in the server. In tests, send requests through the emulator front door (it forwards to workerd\'s own socket and keeps empty values) or to wrangler dev, not through `mf.dispatchFetch`.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-39-empty-header.test.ts'],
    broken: "Miniflare's dispatchFetch",
    fixed: "the emulator front door, and workerd's own HTTP socket (what wrangler dev serves)",
  },
  {
    id: 'KI-40',
    title: 'McpAgent over the RPC transport crashes after hibernation (agents < 0.10.1)',
    symptom: 'the first tool call after the MCP Durable Object hibernated fails: `Attempting to read .name on <Class> before it was set`',
    cause: '`handleMcpMessage` is a native Durable Object RPC entry point; on a cold instance it rebuilt the transport without hydrating the object name from storage (cloudflare/agents#1282).',
    fix: 'Upgrade `agents` to 0.10.1 or later (handleMcpMessage runs the same initialization as fetch).',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-40-rpc-cold-wake.test.ts'],
    broken: 'scenarios/fixtures/rpc-cold-wake/affected.jsonc (agents 0.10.0)',
    fixed: 'scenarios/fixtures/rpc-cold-wake/fixed.jsonc (agents 0.10.1)',
    upstream: ['https://github.com/cloudflare/agents/issues/1282', 'https://github.com/cloudflare/agents/pull/1286'],
    upstreamBug: { package: 'agents', affected: '0.10.0', fixed: '0.10.1' },
  },
  {
    id: 'KI-41',
    title: 'Scheduled work lost when an alarm wakes a hibernated Agent (agents < 0.7.2)',
    symptom: 'a task scheduled with `this.schedule()` never happens if the object hibernated before it was due; the log shows `Attempting to read .name on <Class> before it was set`',
    cause: "Agent.alarm was an instance property that shadowed PartyServer's alarm(), so a wake by alarm skipped the initialization (name, onStart) and the callback threw (cloudflare/agents#1050).",
    fix: 'Upgrade `agents` to 0.7.2 or later.',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-41-alarm-wake.test.ts'],
    broken: 'scenarios/fixtures/alarm-wake/affected.jsonc (agents 0.7.1)',
    fixed: 'scenarios/fixtures/alarm-wake/fixed.jsonc (agents 0.7.2)',
    upstream: ['https://github.com/cloudflare/agents/pull/1050'],
    upstreamBug: { package: 'agents', affected: '0.7.1', fixed: '0.7.2' },
  },
  {
    id: 'KI-42',
    title: 'One more interval schedule at every wake (agents < 0.7.2)',
    symptom: 'a periodic task started at init runs more and more often: once per wake from hibernation',
    cause: 'scheduleEvery() was not idempotent, and init()/onStart() run at every start of the Durable Object, so each wake added a schedule (cloudflare/agents#1052).',
    fix: 'Upgrade `agents` to 0.7.2 or later (scheduleEvery deduplicates by callback, interval and payload).',
    reproducible: YES,
    scenarios: ['scenarios/known-issues/ki-42-schedule-every-wake.test.ts'],
    broken: 'scenarios/fixtures/schedule-every-wake/affected.jsonc (agents 0.7.1)',
    fixed: 'scenarios/fixtures/schedule-every-wake/fixed.jsonc (agents 0.7.2)',
    upstream: ['https://github.com/cloudflare/agents/pull/1052'],
    upstreamBug: { package: 'agents', affected: '0.7.1', fixed: '0.7.2' },
  },
] as const satisfies readonly Entry[]

/** Every id in the catalogue, as a literal type. */
export type KnownIssueId = (typeof ENTRIES)[number]['id']

/** Ids that the doctor checks (entries with a `doctor` check). */
export type DoctorIssueId = Extract<(typeof ENTRIES)[number], { doctor: object }>['id']

/** The catalogue, validated once at load: an invalid entry fails every import loudly. */
export const KNOWN_ISSUES: readonly KnownIssue[] = ENTRIES.map((entry) => {
  const result = KnownIssueSchema.safeParse(entry)
  if (!result.success) throw new Error(`Invalid known-issue entry ${entry.id}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  return result.data
})

/** Looks an entry up by id. @example knownIssue('KI-07').fix */
export function knownIssue(id: KnownIssueId): KnownIssue {
  const found = KNOWN_ISSUES.find((issue) => issue.id === id)
  if (!found) throw new Error(`No known issue ${id}`)
  return found
}

/** The anchor of an entry on the human page. @example knownIssueLink('KI-07') // 'docs/known-issues.md#ki-07' */
export function knownIssueLink(id: KnownIssueId): string {
  return `${KNOWN_ISSUES_PAGE}#${id.toLowerCase()}`
}
