// KI-26: a session id is a bearer capability. McpAgent binds props when a session's Durable Object
// starts and never ties the session id to the user, so user B's valid token presented with user A's
// session id reaches A's session. The reference OAuth server guards it (server/oauth/src/session-guard.ts);
// SESSION_GUARD=off is McpAgent as shipped, kept as a documented known failure that the emulator flags.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import { connectClient, type ScriptedClient } from '../helpers/clients.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn } from '../helpers/oauth-flow.ts'

const USERS = [
  { id: 1, login: 'alice', name: 'Alice' },
  { id: 2, login: 'bob', name: 'Bob' },
]

interface Setup {
  emulator: Emulator
  aliceToken: string
  bobToken: string
  alice: ScriptedClient
  aliceSse: ScriptedClient
}

async function setup(guard: 'on' | 'off'): Promise<Setup> {
  const { emulator } = await startOAuthEmulator({ provider: upstream.github({ users: USERS }), vars: { SESSION_GUARD: guard } })
  const aliceToken = (await signIn(emulator.url, { user: 'alice' })).tokens.access_token
  const bobToken = (await signIn(emulator.url, { user: 'bob' })).tokens.access_token
  const alice = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${aliceToken}` } })
  const aliceSse = await connectClient(emulator.url, { transport: 'sse', headers: { authorization: `Bearer ${aliceToken}` } })
  expect(JSON.parse(await alice.text('whoami'))).toMatchObject({ login: 'alice' })
  return { emulator, aliceToken, bobToken, alice, aliceSse }
}

/** Bob's token with Alice's Streamable HTTP session id: a raw tools/call of whoami. */
async function bobCallsWhoamiInAliceSession(s: Setup): Promise<{ status: number; text: string }> {
  const response = await s.emulator.fetch('/mcp', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${s.bobToken}`,
      'mcp-session-id': s.alice.sessionId(),
      'mcp-protocol-version': '2025-06-18',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  })
  return { status: response.status, text: await response.text() }
}

/** Bob's token posting into Alice's legacy SSE session. */
async function bobPostsIntoAliceSseSession(s: Setup): Promise<number> {
  const response = await s.emulator.fetch(`/sse/message?sessionId=${s.aliceSse.sessionId()}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.bobToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 98, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  })
  await response.body?.cancel()
  return response.status
}

describe('KI-26 with the reference server guard (SESSION_GUARD=on)', () => {
  let s: Setup
  beforeAll(async () => {
    s = await setup('on')
  })
  afterAll(async () => {
    await s?.alice.close().catch(() => {})
    await s?.aliceSse.close().catch(() => {})
    await s?.emulator.dispose()
  })

  test("KI-26: user B's token with user A's Streamable HTTP session id gets 404 and never A's props", async () => {
    const result = await bobCallsWhoamiInAliceSession(s)
    expect(result.status).toBe(404)
    expect(result.text).not.toContain('alice')
    expect(JSON.parse(await s.alice.text('whoami'))).toMatchObject({ login: 'alice' })
  })

  test("KI-26: user B's token cannot post into user A's SSE session", async () => {
    expect(await bobPostsIntoAliceSseSession(s)).toBe(404)
    expect(JSON.parse(await s.aliceSse.text('whoami'))).toMatchObject({ login: 'alice' })
  })

  test('KI-26, KI-36: after eviction the session still belongs to A, and B still cannot take it over', async () => {
    await s.emulator.miniflare.unsafeEvictDurableObject(s.emulator.worker.name, 'ReferenceMcp', { name: s.alice.objectName(), webSockets: 'hibernate' })
    expect((await bobCallsWhoamiInAliceSession(s)).status).toBe(404)
    expect(JSON.parse(await s.alice.text('whoami'))).toMatchObject({ login: 'alice' })
  })

  test('the emulator flags each attempt to use a session with another subject', () => {
    const flagged = s.emulator.transcript.filter({ layer: 'harness', type: 'session:owner-changed' })
    expect(flagged.length).toBeGreaterThanOrEqual(2)
    expect(flagged[0]).toMatchObject({ owner: 'github-1', subject: 'github-2', ki: 'KI-26' })
  })
})

describe('KI-26 with McpAgent as shipped (SESSION_GUARD=off): known failure', () => {
  let s: Setup
  beforeAll(async () => {
    s = await setup('off')
  })
  afterAll(async () => {
    await s?.alice.close().catch(() => {})
    await s?.aliceSse.close().catch(() => {})
    await s?.emulator.dispose()
  })

  // Known failure: McpAgent serves the warm Durable Object with the props it started with (Alice's)
  // to any valid token that presents the session id. Fixed by guardSessionOwner in the reference server.
  test.fails("KI-26 (McpAgent as shipped): user B's token with user A's session id must not see A's props", async () => {
    const result = await bobCallsWhoamiInAliceSession(s)
    expect(result.text).not.toContain('"login\\":\\"alice')
    expect(result.status).toBe(404)
  })

  test("the shipped behaviour is what the known failure says: B's call returns A's props", async () => {
    const result = await bobCallsWhoamiInAliceSession(s)
    expect(result.status).toBe(200)
    expect(result.text).toContain('alice')
    expect(result.text).not.toContain('bob')
  })

  test.fails("KI-26 (McpAgent as shipped): user B's token must not post into user A's SSE session", async () => {
    expect(await bobPostsIntoAliceSseSession(s)).toBe(404)
  })

  test('the emulator flags the owner change on both transports', () => {
    const flagged = s.emulator.transcript.filter({ layer: 'harness', type: 'session:owner-changed' })
    expect(flagged.map((event) => String(event.session).split(':')[0]).sort()).toEqual(expect.arrayContaining(['sse', 'streamable-http']))
    expect(flagged.every((event) => event.owner === 'github-1' && event.subject === 'github-2')).toBe(true)
  })

  test("KI-36: after an eviction, B's token re-binds the session to B's props, which A then sees", async () => {
    await s.emulator.miniflare.unsafeEvictDurableObject(s.emulator.worker.name, 'ReferenceMcp', { name: s.alice.objectName(), webSockets: 'hibernate' })
    // Props are bound at Durable Object start: the first request after the eviction brings Bob's.
    const result = await bobCallsWhoamiInAliceSession(s)
    expect(result.status).toBe(200)
    expect(result.text).toContain('bob')
    expect(JSON.parse(await s.alice.text('whoami'))).toMatchObject({ login: 'bob' })
  })
})
