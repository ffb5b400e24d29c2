/**
 * Issue 14 item 4 (KI-06, KI-24 neighbours): a whole OAuth sign-in recorded through `mcp-harness record`.
 * The proxy rewrites the server's URLs (challenge, metadata, redirects) to its own, so discovery,
 * registration, consent, the upstream sign-in, the callback, the token exchange and the authenticated
 * MCP session all pass through it, and none of the credentials reach the cassette.
 * Issue 14 "Done when": the cassette replays green against a freshly started server, whose client id,
 * state, codes, PKCE pair, tokens and session ids all differ from the recorded run's.
 */
import { readFile } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { upstream, type Emulator } from '../../emulator/index.ts'
import { main } from '../../cli/cli.ts'
import { findSecrets } from '../../core/redact/scan.ts'
import { createMockServer, loadCassette, replay } from '../../recordings/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn, type SignIn } from '../helpers/oauth-flow.ts'
import { freePort, waitForPort } from '../helpers/targets.ts'

const ALICE = { id: 1001, login: 'alice', name: 'Alice Example', email: 'alice@example.com' }

let emulator: Emulator
let dir: string
let file: string
let session: SignIn
let whoami: string

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator({ provider: upstream.github({ users: [ALICE] }) }))
  dir = await mkdtemp(path.join(os.tmpdir(), 'o-'))
  file = path.join(dir, 'oauth.json')
  const port = await freePort()
  const sink = new Writable({ write: (_c, _e, done) => done() })
  const recording = main(['record', '--target', emulator.url.href, '--listen', `127.0.0.1:${port}`, '--out', file, '--client', 'mcp-typescript-sdk', '--idle-ms', '5000'], { stdout: sink, stderr: sink })
  await waitForPort(port, 500)
  const proxy = new URL(`http://127.0.0.1:${port}`)
  // signIn refuses to leave the origin it started from (KI-24): it completes only if every URL the server gives out was rewritten to the proxy.
  session = await signIn(proxy, { user: 'alice' })
  const client = await connectClient(proxy, { transport: 'streamable-http', headers: { authorization: `Bearer ${session.tokens.access_token}` } })
  whoami = await client.text('whoami')
  await (client.transport as { terminateSession(): Promise<void> }).terminateSession()
  await client.close()
  expect(await recording).toBe(0)
}, 180_000)
afterAll(async () => {
  await emulator?.dispose()
  await rm(dir, { recursive: true, force: true })
})

test('the whole sign-in and the authenticated session pass through the recording proxy', async () => {
  expect(whoami).toContain('alice')
  const cassette = await loadCassette(file)
  const paths = cassette.interactions.map((i) => `${i.request.method} ${i.request.path}`)
  for (const step of ['POST /mcp', 'GET /.well-known/oauth-authorization-server', 'POST /register', 'GET /authorize', 'POST /token', 'DELETE /mcp']) expect(paths).toContain(step)
  expect(paths.some((p) => p.includes('/__mcp-harness/upstream/authorize'))).toBe(true)
  expect(paths.some((p) => /callback/.test(p))).toBe(true)
  expect(cassette.meta.transport).toBe('streamable-http')
})

test('the cassette holds no secret: secret scan clean, and none of the live credentials appear', async () => {
  const text = await readFile(file, 'utf8')
  expect(findSecrets(JSON.parse(text))).toEqual([])
  for (const secret of [session.tokens.access_token, session.tokens.refresh_token, session.code, session.verifier, session.client.client_secret]) if (secret) expect(text).not.toContain(secret)
  // The server's origin is a placeholder in the traffic (the re-record command in meta names it on purpose).
  const traffic = JSON.stringify((await loadCassette(file)).interactions)
  expect(traffic).not.toContain(emulator.url.origin)
  expect(traffic).toContain('<origin>')
})

test('the recorded sign-in replays green against the cassette\'s own mock', async () => {
  const mock = await createMockServer(file)
  try {
    const result = await replay(file, { target: mock.url, throwOnMismatch: false })
    expect(result.report).toBe('')
    expect(result.ok).toBe(true)
    expect(mock.errors).toEqual([])
  } finally {
    await mock.close()
  }
})

test('run-varying OAuth values are placeholders bound at replay time: the registered client id, and the token under the name of the answer that issued it', async () => {
  const cassette = await loadCassette(file)
  const register = cassette.interactions.find((i) => i.request.path === '/register')!
  expect((register.response!.body as { client_id: string }).client_id).toBe('<client-1>')
  expect(JSON.stringify(cassette.interactions)).not.toContain(session.client.client_id)
  const call = cassette.interactions.find((i) => i.request.headers.authorization !== undefined)!
  expect(call.request.headers.authorization).toBe('Bearer <redacted:access_token>')
})

test('the recorded sign-in replays green against a freshly started emulator with the same upstream provider', async () => {
  const { emulator: fresh } = await startOAuthEmulator({ provider: upstream.github({ users: [ALICE] }) })
  try {
    const result = await replay(file, { target: fresh.url, throwOnMismatch: false, waitMs: 20_000 })
    expect(result.report).toBe('')
    expect(result.ok).toBe(true)
  } finally {
    await fresh.dispose()
  }
}, 180_000)

test('a genuinely different answer from a fresh server still fails the replay, at the differing field of whoami', async () => {
  const { emulator: fresh } = await startOAuthEmulator({ provider: upstream.github({ users: [{ ...ALICE, name: 'Alice Changed' }] }) })
  try {
    const result = await replay(file, { target: fresh.url, throwOnMismatch: false, waitMs: 20_000 })
    expect(result.ok).toBe(false)
    expect(result.differing).toBe(1)
    expect(result.first?.request).toMatch(/^tools\/call/)
    expect(result.first?.difference.path).toBe('result.content.0.text')
    expect(String(result.first?.difference.received)).toContain('Alice Changed')
  } finally {
    await fresh.dispose()
  }
}, 180_000)
