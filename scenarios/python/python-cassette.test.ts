import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { emulatorTarget, loadCassette, replay } from '../../recordings/index.ts'
import { PYTHON_CASSETTE } from './record-python-cassette.ts'

// Issue 6: a session of the official MCP Python SDK client, recorded through the recording proxy,
// replays in the TypeScript suite (re-record: node scenarios/python/record-python-cassette.ts).
let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
})
afterAll(() => emulator?.dispose())

test('the Python SDK cassette carries initialize, tools/call, elicitation and sampling from the Python client', async () => {
  const cassette = await loadCassette(PYTHON_CASSETTE)
  expect(cassette.meta).toMatchObject({ client: 'mcp-python-sdk', recordedWith: 'proxy', transport: 'streamable-http' })
  expect(cassette.interactions[0]!.request.headers['user-agent']).toMatch(/python-httpx/)
  const sent = cassette.interactions.map((i) => i.request.body as { method?: string; result?: { action?: string; model?: string } } | undefined)
  expect(sent.map((body) => body?.method).filter(Boolean)).toEqual(expect.arrayContaining(['initialize', 'notifications/initialized', 'tools/list', 'tools/call']))
  // Answers to the server's elicitation/create and sampling/createMessage go back as POSTed results.
  expect(sent.some((body) => body?.result?.action === 'accept')).toBe(true)
  expect(sent.some((body) => body?.result?.model === 'scripted')).toBe(true)
})

test('replays the Python SDK session green against the reference server under the emulator', async () => {
  const watchdog = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('replay did not finish within 15 s')), 15_000))
  const result = await Promise.race([replay(PYTHON_CASSETTE, { target: emulatorTarget(emulator), waitMs: 2_000 }), watchdog])
  expect(result.ok).toBe(true)
  expect(result.messages).toBeGreaterThan(5)
}, 30_000)
