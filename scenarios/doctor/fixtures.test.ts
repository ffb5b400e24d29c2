// Issue "doctor without false alarms" + catalogue item 2: the doctor runs over every Worker of the
// repository (the reference servers, server/variants/*, scenarios/fixtures/*) and must name exactly
// the seeded faults with the right KI id (the confusion table below), with zero false failures or
// false warnings on the correct ones. Workers of the same project share one emulator per run.
import { readdirSync, existsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { runDoctor, type DoctorOptions, type DoctorReport } from '../../doctor/index.ts'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn } from '../helpers/oauth-flow.ts'
import { runCli } from './helpers.ts'

/** One doctor run and what it must find: the ids that fail and the ids that warn, exactly. */
interface Run {
  /** What the run shows (the row's name in the table). */
  name: string
  options?: Partial<DoctorOptions>
  fail: string[]
  warn: string[]
  /** Further assertions on the report (cause, fix, evidence) and the CLI exit code. */
  check?: (report: DoctorReport, exit: number | undefined) => void
}

/** A Worker of the repository and the doctor runs made on it. */
interface Row {
  /** The wrangler config, relative to the project root. */
  config: string
  /** `correct`: no failure allowed; `broken`: a seeded fault (the KI it reproduces); `not-mcp`: a Worker that serves no MCP at all. */
  kind: 'correct' | 'broken' | 'not-mcp'
  /** Why the row expects what it does (the seeded fault, or what the doctor cannot see from outside). */
  note: string
  runs: Run[]
  /** Starts the emulator when the Worker needs vars or upstream mocks the config alone does not give. */
  start?: () => Promise<Emulator>
  /** Run through the CLI (exit code asserted) instead of runDoctor. */
  cli?: boolean
}

const FIXTURE_TOKEN = 'doctor-fixture-token'
// Generous: several workerd processes start at once on a shared machine; a slow answer is not a finding.
const PROBE_TIMEOUT_MS = 20_000
// The legacy SSE message route of agents 0.32 answers malformed JSON with a 500: a real warning on every McpAgent server with /sse.
const MCPAGENT_WARN = ['KI-08']
const NO_HEALTH = ['KI-21']

const ROWS: Row[] = [
  { config: 'server/wrangler.jsonc', kind: 'correct', note: 'the reference McpAgent server', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  {
    config: 'server/oauth/wrangler.jsonc',
    kind: 'correct',
    note: 'OAuthProvider + GitHub (mocked): checked without a token, then signed in',
    start: async () => (await startOAuthEmulator()).emulator,
    runs: [
      { name: 'no token', fail: [], warn: [] },
      { name: 'signed in', options: { signIn: true }, fail: [], warn: MCPAGENT_WARN },
    ],
  },
  {
    config: 'server/variants/bearer-front-door/wrangler.jsonc',
    kind: 'broken',
    note: 'KI-23 lives in waitUntil work after the response (not visible from outside); its front door also checks the token before OPTIONS, so a browser preflight gets 401 (KI-07)',
    runs: [
      {
        name: 'token',
        options: { token: 'local-test-token' },
        fail: ['KI-07'],
        warn: NO_HEALTH,
        check: (report) => {
          expect(finding(report, 'KI-07').cause).toContain('OPTIONS /mcp → 401: the auth check runs before the preflight is answered')
          expect(finding(report, 'KI-02').cause).toMatch(/^Streamable HTTP at \/mcp \(sessionful: initialize returns mcp-session-id\) with the token given\./)
          expect(JSON.stringify(report)).not.toContain('local-test-token')
        },
      },
    ],
  },
  { config: 'server/variants/never-hibernates/wrangler.jsonc', kind: 'correct', note: 'KI-32 needs an eviction attempt: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  { config: 'server/variants/plain-websocket/wrangler.jsonc', kind: 'correct', note: 'KI-32 (ws.accept) needs a viewer socket and an eviction: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  { config: 'server/variants/waits-until/wrangler.jsonc', kind: 'correct', note: 'KI-32 (pending waitUntil) needs an eviction attempt: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  { config: 'server/variants/unrelated-request/wrangler.jsonc', kind: 'correct', note: 'KI-27 needs a client that never opens the GET stream: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  {
    config: 'server/variants/no-expose-headers/wrangler.jsonc',
    kind: 'broken',
    cli: true,
    note: 'KI-22: mcp-session-id not exposed',
    runs: [
      {
        name: 'CLI, exit 1',
        fail: ['KI-22'],
        warn: NO_HEALTH,
        check: (report, exit) => {
          expect(exit).toBe(1)
          expect(finding(report, 'KI-22').cause).toContain('does not list it: a browser script cannot read it')
          expect(finding(report, 'KI-22').evidence).toContain('access-control-expose-headers: x-request-id')
          expect(finding(report, 'KI-07').status).toBe('ok')
        },
      },
    ],
  },
  {
    config: 'server/variants/no-options/wrangler.jsonc',
    kind: 'broken',
    note: 'KI-07: OPTIONS refused with 405',
    runs: [
      {
        name: 'no options',
        fail: ['KI-07'],
        warn: NO_HEALTH,
        check: (report) => {
          expect(finding(report, 'KI-07').cause).toContain("Response to preflight request doesn't pass access control check")
          expect(finding(report, 'KI-07').evidence[0]).toMatch(/^OPTIONS \/mcp → 405 /)
          // The variant serves no /sse: named, not failed.
          expect(finding(report, 'KI-18').status).toBe('skipped')
        },
      },
    ],
  },
  { config: 'server/variants/catch-all-mcp/wrangler.jsonc', kind: 'broken', note: 'KI-18: a catch-all route sends /sse to the Streamable HTTP handler', runs: [{ name: 'no options', fail: ['KI-18'], warn: [], check: (report) => expect(finding(report, 'KI-18').cause).toContain('announces SSE /sse, but it does not answer as MCP') }] },
  { config: 'server/variants/default-validator/wrangler.jsonc', kind: 'correct', note: 'KI-30 needs an elicitation answered by a client: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  {
    config: 'server/variants/exact-sse-path/wrangler.jsonc',
    kind: 'broken',
    note: 'KI-04: `pathname === "/sse"` leaves /sse/message unrouted (404), so its preflight is refused too (KI-07, same route)',
    runs: [{ name: 'no options', fail: ['KI-04', 'KI-07'], warn: [], check: (report) => expect(finding(report, 'KI-04').cause).toContain('announces /sse/message for messages, but a POST there answers 404') }],
  },
  { config: 'server/variants/missing-env/wrangler.jsonc', kind: 'correct', note: 'KI-09 shows only when the tool reads the missing var: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  {
    config: 'server/variants/sdk-v2-server/wrangler.jsonc',
    kind: 'broken',
    note: 'KI-10: the Durable Object throws at start, so /mcp and /sse answer 500 (error 1101); the Worker log names McpAgent\'s error, so the doctor names KI-10 (KI-02 skipped: the paths cannot be judged behind the crash)',
    runs: [{ name: 'no options', fail: ['KI-10'], warn: [], check: (report) => expect(finding(report, 'KI-10').evidence).toContain('POST /mcp → 500 text/plain error code: 1101') }],
  },
  { config: 'server/variants/validated-sse-message/wrangler.jsonc', kind: 'correct', note: 'KI-37 fixed: the /sse/message route answers malformed JSON with -32700, so no KI-08 warning', runs: [{ name: 'no options', fail: [], warn: [], check: (report) => expect(report.findings.filter((item) => item.id === 'KI-08').map((item) => item.status)).toEqual(['ok', 'ok']) }] },
  { config: 'server/variants/ws-attachment/wrangler.jsonc', kind: 'correct', note: 'KI-14 needs a /room socket and an eviction: not visible from outside', runs: [{ name: 'no options', fail: [], warn: MCPAGENT_WARN }] },
  { config: 'scenarios/fixtures/broken-no-do-binding/wrangler.jsonc', kind: 'broken', note: 'KI-12: no durable_objects binding', runs: [{ name: 'no options', fail: ['KI-12'], warn: [], check: startFailure(/binds no Durable Object/, /"durable_objects"/) }] },
  { config: 'scenarios/fixtures/broken-no-migration/wrangler.jsonc', kind: 'broken', note: 'KI-13: no migration for the class', runs: [{ name: 'no options', fail: ['KI-13'], warn: [], check: startFailure(/no migration defined/, /"migrations": \[\{ "tag": "v1", "new_sqlite_classes": \["ReferenceMcp"\] \}\]/) }] },
  { config: 'scenarios/fixtures/broken-not-exported/wrangler.jsonc', kind: 'broken', note: 'KI-01: the class is not exported', runs: [{ name: 'no options', fail: ['KI-01'], warn: [], check: startFailure(/does not export the Durable Object class HiddenMcp/, /export/) }] },
  { config: 'scenarios/fixtures/broken-syntax/wrangler.jsonc', kind: 'broken', note: 'the entry does not parse (no known id: a build failure)', runs: [{ name: 'no options', fail: ['start'], warn: [] }] },
  { config: 'scenarios/fixtures/hibernatable-event-timeout/wrangler.jsonc', kind: 'not-mcp', note: 'a Durable Object probe Worker, no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/kv-notes/wrangler.jsonc', kind: 'not-mcp', note: 'a KV notes Worker, no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/throws/wrangler.jsonc', kind: 'not-mcp', note: 'answers "ok" on every path (so /health passes) and throws on /throw; no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: [] }] },
  { config: 'scenarios/fixtures/two-objects/wrangler.jsonc', kind: 'not-mcp', note: 'two Durable Object classes behind plain routes, no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: NO_HEALTH }] },
  {
    config: 'scenarios/fixtures/doctor-stateless/wrangler.jsonc',
    kind: 'correct',
    cli: true,
    note: 'createMcpHandler, no session id, /sse answers 405, CORS allows no mcp-session-id',
    runs: [
      {
        name: 'CLI, exit 0',
        fail: [],
        warn: NO_HEALTH,
        check: (report, exit) => {
          expect(exit).toBe(0)
          expect(finding(report, 'KI-02').cause).toContain('Streamable HTTP at /mcp (stateless: no mcp-session-id')
          expect(finding(report, 'KI-02').cause).not.toContain('legacy SSE')
          expect(finding(report, 'KI-07').evidence[0]).toContain('for POST with content-type,mcp-protocol-version)')
          expect(finding(report, 'KI-22')).toMatchObject({ status: 'ok', cause: expect.stringContaining('stateless: no mcp-session-id expected') })
        },
      },
    ],
  },
  {
    config: 'scenarios/fixtures/doctor-token-stateless/wrangler.jsonc',
    kind: 'correct',
    note: 'stateless behind plain bearer tokens; unknown tokens are verified at api.cloudflare.com (unmocked)',
    runs: [
      {
        name: 'no token',
        fail: [],
        warn: NO_HEALTH,
        check: (report) => {
          expect(finding(report, 'KI-24')).toMatchObject({ status: 'skipped', cause: expect.stringContaining('plain bearer-token server') })
          expect(finding(report, 'KI-02')).toMatchObject({ status: 'skipped', cause: expect.stringContaining('/mcp and /sse answer 401') })
        },
      },
      {
        name: 'token',
        options: { token: FIXTURE_TOKEN },
        fail: [],
        warn: NO_HEALTH,
        check: (report) => {
          expect(finding(report, 'KI-02')).toMatchObject({ status: 'ok', cause: expect.not.stringContaining('legacy SSE') })
          expect(finding(report, 'KI-08').status).toBe('ok')
        },
      },
      {
        name: 'token the Worker verifies upstream',
        options: { headers: { Authorization: 'Bearer not-the-fixture-token' } },
        fail: [],
        warn: [...NO_HEALTH, 'upstream'],
        check: (report) => {
          expect(finding(report, 'upstream').cause).toContain('GET https://api.cloudflare.com/client/v4/user/tokens/verify')
          expect(finding(report, 'KI-02')).toMatchObject({ status: 'skipped', cause: expect.stringContaining('not from the server') })
        },
      },
    ],
  },
  {
    config: 'scenarios/fixtures/doctor-token-mount-404/wrangler.jsonc',
    kind: 'broken',
    note: 'KI-02 behind the token: a prefix mount strips /mcp, so authenticated requests (preflight included) get 404',
    runs: [
      // Without a token the 404 behind the auth check is invisible, but the preflight (never authenticated) shows it.
      { name: 'no token', fail: ['KI-07'], warn: NO_HEALTH, check: (report) => expect(finding(report, 'KI-07').cause).toContain('OPTIONS /mcp → 404: the request does not reach the MCP handler') },
      {
        name: 'token',
        options: { token: FIXTURE_TOKEN },
        fail: ['KI-02', 'KI-07'],
        warn: NO_HEALTH,
        check: (report) => expect(finding(report, 'KI-02').cause).toContain('with the token given initialize gets 404 instead of an MCP answer'),
      },
    ],
  },
  { config: 'scenarios/fixtures/agent-mcp-client/wrangler.jsonc', kind: 'correct', note: 'OAuth McpAgent that also calls MCP servers; without a token only the challenge and its CORS are checked', runs: [{ name: 'no token', fail: [], warn: NO_HEALTH }] },
  {
    config: 'scenarios/fixtures/bearer-mcpagent/wrangler.jsonc',
    kind: 'broken',
    note: 'a Node-client bearer template with no CORS at all: the token check answers the preflight 401 (KI-07) and the 401 has no CORS headers (KI-22); true findings for a browser client, not seeded',
    runs: [{ name: 'no token', fail: ['KI-07', 'KI-22'], warn: NO_HEALTH, check: (report) => expect(finding(report, 'KI-07').cause).toContain('OPTIONS /mcp → 401: the auth check runs before the preflight is answered') }],
  },
  { config: 'scenarios/fixtures/broken-json/wrangler.jsonc', kind: 'broken', note: 'the wrangler config does not parse (no known id: a start failure)', runs: [{ name: 'no options', fail: ['start'], warn: [], check: (report) => expect(report.findings[0]!.cause).toContain('CommaExpected') }] },
  { config: 'scenarios/fixtures/cloudflare-stateless/wrangler.jsonc', kind: 'correct', note: 'stateless behind Cloudflare OAuth or API tokens; without a token only the challenge and its CORS are checked', runs: [{ name: 'no token', fail: [], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/compressed-stream/wrangler.jsonc', kind: 'not-mcp', note: 'KI-31 event streams on /gzip and /plain, no MCP endpoint (judged by its own scenario)', runs: [{ name: 'no options', fail: ['KI-02'], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/entrypoint-class/wrangler.jsonc', kind: 'not-mcp', note: 'a WorkerEntrypoint class answering "answered" on every path (so /health passes), no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: [] }] },
  { config: 'scenarios/fixtures/github-oauth/wrangler.jsonc', kind: 'correct', note: 'OAuthProvider + GitHub template; without a token only the challenge and its CORS are checked', runs: [{ name: 'no token', fail: [], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/google-oauth/wrangler.jsonc', kind: 'correct', note: 'OAuthProvider + Google template; without a token only the challenge and its CORS are checked', runs: [{ name: 'no token', fail: [], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/header-echo/wrangler.jsonc', kind: 'not-mcp', note: 'echoes every request as JSON 200 (so /health passes), no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: [] }] },
  { config: 'scenarios/fixtures/hono-mount/wrangler.jsonc', kind: 'correct', note: 'createMcpHandler mounted in a Hono app, stateless', runs: [{ name: 'no options', fail: [], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/installed-worker/wrangler.jsonc', kind: 'correct', note: 'a user project with the package installed: McpAgent with /mcp and /sse, no health route', runs: [{ name: 'no options', fail: [], warn: [...MCPAGENT_WARN, ...NO_HEALTH] }] },
  { config: 'scenarios/fixtures/oidc-jwks/wrangler.jsonc', kind: 'correct', note: 'OIDC + JWKS template (issuer from .dev.vars); without a token only the challenge and its CORS are checked', runs: [{ name: 'no token', fail: [], warn: NO_HEALTH }] },
  { config: 'scenarios/fixtures/io-entry-points/wrangler.jsonc', kind: 'not-mcp', note: 'IoContext model fixture: a Durable Object, scheduled and queue handlers, JSON 200 on other paths (so /health passes), no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: [] }] },
  { config: 'scenarios/fixtures/prototype-handlers/wrangler.jsonc', kind: 'not-mcp', note: 'handlers on a class prototype answering JSON 200 on every path (so /health passes), no MCP endpoint', runs: [{ name: 'no options', fail: ['KI-02'], warn: [] }] },
  { config: 'scenarios/fixtures/stateless-mcp/wrangler.jsonc', kind: 'correct', note: 'createMcpHandler with the v2 McpServer, stateless', runs: [{ name: 'no options', fail: [], warn: NO_HEALTH }] },
]

/** The one finding with this id (fails the test when there is none or several). */
function finding(report: DoctorReport, id: string) {
  const found = report.findings.filter((item) => item.id === id)
  expect(found, `one ${id} finding`).toHaveLength(1)
  return found[0]!
}

/** A Worker that cannot start: one failing finding with the cause and the fix, no probing. */
function startFailure(cause: RegExp, fix: RegExp): Run['check'] {
  return (report) => {
    expect(report.findings).toHaveLength(1)
    expect(report.findings[0]).toMatchObject({ status: 'fail', cause: expect.stringMatching(cause), fix: expect.stringMatching(fix) })
    expect(report.url).toBeUndefined()
  }
}

/** Every Worker project in the repository: the reference servers, server/variants/*, scenarios/fixtures/*. */
function repositoryWorkers(): string[] {
  const configIn = (dir: string) => ['wrangler.jsonc', 'wrangler.json', 'wrangler.toml'].map((name) => path.join(dir, name)).find((file) => existsSync(file))
  const children = (dir: string) => readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => path.join(dir, entry.name))
  return ['server', 'server/oauth', ...children('server/variants'), ...children('scenarios/fixtures')].map(configIn).filter((file): file is string => !!file).sort()
}

const ids = (report: DoctorReport, status: 'fail' | 'warn') => [...new Set(report.findings.filter((item) => item.status === status).map((item) => item.id))].sort()

interface Outcome {
  row: Row
  run: Run
  fail: string[]
  warn: string[]
  exit?: number
  report: DoctorReport
  /** Wall time of the row's runs, emulator start included (the first run carries it). */
  ms: number
}

async function doctorRow(row: Row): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  let since = performance.now()
  const elapsed = () => {
    const ms = Math.round(performance.now() - since)
    since = performance.now()
    return ms
  }
  const needsServer = row.runs.length > 1 || row.start
  let emulator: Emulator | undefined
  try {
    if (needsServer) emulator = row.start ? await row.start() : await createEmulator({ config: row.config, workerLog: 'transcript' })
    for (const run of row.runs) {
      if (row.cli) {
        const { code, stdout } = await runCli(['doctor', '--config', row.config, '--timeout', String(PROBE_TIMEOUT_MS), '--json'])
        const report = JSON.parse(stdout) as DoctorReport
        outcomes.push({ row, run, fail: ids(report, 'fail'), warn: ids(report, 'warn'), exit: code, report, ms: elapsed() })
        continue
      }
      const options = { ...(emulator ? {} : { config: row.config }), timeoutMs: PROBE_TIMEOUT_MS, ...run.options }
      const signInWith = async (url: string) => (await signIn(new URL(url).origin)).tokens.access_token
      const report = await runDoctor(options, { ...(emulator ? { emulator } : {}), signIn: signInWith })
      outcomes.push({ row, run, fail: ids(report, 'fail'), warn: ids(report, 'warn'), report, ms: elapsed() })
    }
  } finally {
    await emulator?.dispose()
  }
  return outcomes
}

/** Runs `work` over `items`, `limit` at a time (each doctor run starts a workerd). */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++
        results[index] = await work(items[index]!)
      }
    }),
  )
  return results
}

/** The confusion table: per Worker and run, the ids expected to fail and those found. */
function confusionTable(outcomes: Outcome[]): string {
  const cell = (list: string[]) => list.join(',') || '-'
  const lines = outcomes.map(({ row, run, fail, warn, ms }) => {
    const verdict = cell(fail) === cell(run.fail) && cell(warn) === cell(run.warn) ? 'match' : 'MISMATCH'
    return `${row.config.replace(/\/wrangler\.jsonc?$/, '').padEnd(46)} ${run.name.padEnd(36)} expected fail ${cell(run.fail).padEnd(14)} found ${cell(fail).padEnd(14)} warn ${cell(warn).padEnd(18)} ${verdict.padEnd(8)} ${ms} ms`
  })
  return lines.join('\n')
}

let outcomes: Outcome[] = []
const started = performance.now()
afterAll(() => {
  if (outcomes.length) process.stderr.write(`doctor over ${new Set(outcomes.map((item) => item.row)).size} Workers, ${outcomes.length} runs: ${Math.round(performance.now() - started)} ms\n${confusionTable(outcomes)}\n`)
})

test('the table covers every Worker project in the repository', () => {
  const missing = repositoryWorkers().filter((config) => !ROWS.some((row) => path.normalize(row.config) === config))
  expect(missing, `add a row for each of these to ROWS in scenarios/doctor/fixtures.test.ts`).toEqual([])
})

test('doctor names each seeded fault with its KI id and raises no false alarm on the correct Workers (confusion table)', async () => {
  // A row whose Worker is not in this checkout is skipped; the test above catches Workers without a row.
  outcomes = (await pool(ROWS.filter((row) => existsSync(row.config)), 3, doctorRow)).flat()
  const table = confusionTable(outcomes)
  for (const outcome of outcomes) {
    expect({ fail: outcome.fail, warn: outcome.warn }, `${outcome.row.config} (${outcome.run.name}): ${outcome.row.note}\n${table}`).toEqual({ fail: [...outcome.run.fail].sort(), warn: [...outcome.run.warn].sort() })
    outcome.run.check?.(outcome.report, outcome.exit)
  }
  // A correct stateless server passes through the CLI with exit code 0 (asserted in its row's check).
  expect(outcomes.find((item) => item.row.config.includes('doctor-stateless'))?.exit).toBe(0)
  // Each seeded fault is found by its own id; no correct Worker fails anything.
  expect(outcomes.filter((item) => item.row.kind === 'correct').flatMap((item) => item.fail)).toEqual([])
}, 300_000)
