// Server-to-client requests across hibernation, and without a GET stream (KI-27).
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { notification, rawRequest, rpc } from '../helpers/raw.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

/** KI-27's broken variant: `elicit_unrelated` sends its elicitation without `relatedRequestId`. */
const UNRELATED_CONFIG = 'server/variants/unrelated-request/wrangler.jsonc'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

test('KI-32: an elicitation pending blocks eviction (a running request); after a crash the late answer finds nobody', async () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let asked!: () => void
  const elicited = new Promise<void>((resolve) => (asked = resolve))
  const client = await connectClient(emulator.url, {
    transport: 'streamable-http',
    onElicit: async () => {
      asked()
      await gate
      return { action: 'accept', content: { name: 'Ada' } }
    },
  })
  const call = client.client.callTool({ name: 'elicit_name', arguments: {} }, undefined, { timeout: 4_000 }).then(
    (result) => `result: ${JSON.stringify(result.content)}`,
    (error: Error) => `error: ${error.message}`,
  )
  await elicited
  // The tool call still runs inside the DO: like production, the emulator will not hibernate it, and says why.
  await expect(emulator.evict({ session: client.sessionId() })).rejects.toThrow(/ERR_EVICT_BLOCKED.*have not finished/)
  const blocked = emulator.transcript.filter({ layer: 'lifecycle', type: 'not-hibernated', name: client.objectName() })
  expect(blocked.at(-1)?.blockers).toEqual(expect.arrayContaining([expect.objectContaining({ cause: 'running-request', scope: 'observed' })]))

  // A crash is the only way to lose it mid-flight: the pending promise goes with the instance.
  await emulator.crash()
  release()
  const outcome = await call
  emulator.transcript.record({ layer: 'harness', type: 'observation', what: 'elicitation answered after a crash', outcome })
  expect(outcome).not.toContain('Hello, Ada')
  expect(outcome).toMatch(/^error: /)
  await client.close()
})

test('KI-27: an unrelated server-to-client request never reaches a client that keeps no GET stream', async () => {
  const variant = await createEmulator({ config: UNRELATED_CONFIG })
  try {
    // A raw session that declares elicitation but never opens the standalone GET stream.
    const url = new URL('/mcp', variant.url)
    const init = await rawRequest(url, { body: rpc(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: { elicitation: { form: {} } }, clientInfo: { name: 'no-get-stream', version: '0.1.0' } }) })
    const sessionId = init.headers.get('mcp-session-id')!
    const protocolVersion = '2025-06-18'
    expect((await rawRequest(url, { sessionId, protocolVersion, body: notification('notifications/initialized') })).status).toBe(202)
    const reply = await rawRequest(url, { sessionId, protocolVersion, body: rpc(1, 'tools/call', { name: 'elicit_unrelated', arguments: {} }) })
    const result = reply.messages.find((message) => message.id === 1)?.result as { content?: { text?: string }[] } | undefined
    expect(result?.content?.[0]?.text).toMatch(/^no answer: .*timed out/i)
    // The elicitation never travelled on the call's stream.
    expect(reply.messages.some((message) => message.method === 'elicitation/create')).toBe(false)

    // Control: with a GET stream open (the TS SDK opens one) the same request arrives and is answered.
    const client = await connectClient(variant.url, { transport: 'streamable-http', onElicit: () => ({ action: 'accept', content: { name: 'Ada' } }) })
    await variant.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'upgrade' && e.mcpMethod === 'GET' && e.name === client.objectName(), 5_000)
    expect(await client.text('elicit_unrelated')).toBe('Hello, Ada')
    await client.close()
  } finally {
    await variant.dispose()
  }
})
