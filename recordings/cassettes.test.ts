import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { createEmulator, isHarnessError, type Emulator } from '../emulator/index.ts'
import { committedCassettes } from './committed.ts'
import { main } from '../cli/cli.ts'
import { CASSETTE_SCENARIOS, recordScenario } from '../scripts/record-cassettes.ts'
import { buildCassette, createMockServer, emulatorTarget, loadCassette, replay, tapTranscript } from './index.ts'
import { findSecrets } from '../core/redact/scan.ts'
import { describeRequest } from './replay.ts'
import { freePort, waitForPort } from '../scenarios/helpers/targets.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
})
afterAll(() => emulator?.dispose())

/** Cassettes that re-enact an eviction get an emulator of their own (see the @fixme on ReplayTarget.settle). */
const reenactsEviction = (file: string) => readFileSync(file, 'utf8').includes('"layer": "lifecycle"')

/** A fresh emulator for one test, disposed when it finishes. */
async function freshEmulator(): Promise<Emulator> {
  const fresh = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
  onTestFinished(() => fresh.dispose())
  return fresh
}

describe('committed cassettes replay against the reference server under the emulator', () => {
  test.each(committedCassettes())('replays %s green', async (file) => {
    const target = reenactsEviction(file) ? await freshEmulator() : emulator
    const result = await replay(file, { target: emulatorTarget(target) })
    expect(result.ok).toBe(true)
    expect(result.messages).toBeGreaterThan(2)
  })
})

test('a changed tool result in a copy of the Inspector cassette fails replay with a report that points at it', async () => {
  const file = 'recordings/cassettes/inspector/tools-call-add.json'
  const cassette = await loadCassette(file)
  const call = cassette.interactions.find((i) => (i.request.body as { method?: string })?.method === 'tools/call')!
  const event = call.response!.sse![0]!
  ;(event.data as { result: { content: { text: string }[] } }).result.content[0]!.text = '6'
  const error = await replay(cassette, { target: emulator.url, source: file }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isHarnessError(error, 'ERR_REPLAY_MISMATCH')).toBe(true)
  const report = (error as Error).message
  const lines = report.split('\n')
  // The differing path comes first, in the headline, with recorded vs received and the right count.
  expect(lines[0]).toContain(`Failed to replay ${file} (mode: replay): 1 answer differs from the recording. First: result.content.0.text in the answer to #${call.id} tools/call (id 3), sse event 1 (message) (recorded "6" ≠ received "5").`)
  expect(report).not.toContain('Nearest recorded message')
  expect(lines.at(-1)).toBe('  Re-record: npm run record:cassettes -- inspector/tools-call-add')
})

test('KI-11: replaying the hibernation cassette without the eviction fails on memo, because memo lives in memory', async () => {
  const result = await replay('recordings/cassettes/sdk/hibernation.json', { target: emulator.url, throwOnMismatch: false })
  expect(result.ok).toBe(false)
  expect(result.mismatches).toHaveLength(1)
  expect(result.mismatches[0]!.difference).toMatchObject({ path: 'result.content.0.text', expected: '1', received: '2' })
})

test('an ignore matcher lets a known difference pass', async () => {
  const result = await replay('recordings/cassettes/sdk/hibernation.json', { target: emulator.url, matchers: { ignore: ['result.content'] } })
  expect(result.ok).toBe(true)
})

describe('mock serves the server side of a cassette', () => {
  test('the TS SDK client completes a session against the mock of sdk/streamable-http', async () => {
    const mock = await createMockServer('recordings/cassettes/sdk/streamable-http.json')
    try {
      const client = new Client({ name: 'mock-test', version: '0.1.0' })
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', mock.url))
      await client.connect(transport)
      expect(transport.sessionId).toMatch(/^[0-9a-f]{32}$/)
      const tools = await client.listTools()
      expect(tools.tools.map((t) => t.name)).toContain('add')
      expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ type: 'text', text: '5' }] })
      expect(await client.callTool({ name: 'counter', arguments: {} })).toMatchObject({ content: [{ text: '1' }] })
      expect(await client.callTool({ name: 'counter', arguments: {} })).toMatchObject({ content: [{ text: '2' }] })
      await transport.terminateSession()
      await client.close()
      expect(mock.errors).toEqual([])
      expect(mock.served()).toBe(8)
    } finally {
      await mock.close()
    }
  })

  test('the mock sends an elicitation only after, and its result only after the client answered', async () => {
    const mock = await createMockServer('recordings/cassettes/sdk/progress-elicitation.json')
    try {
      const client = new Client({ name: 'mock-test', version: '0.1.0' }, { capabilities: { elicitation: { form: {} } } })
      const asked: string[] = []
      client.setRequestHandler(ElicitRequestSchema, async (request) => {
        asked.push(request.params.message)
        return { action: 'accept', content: { name: 'Ada' } }
      })
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', mock.url))
      await client.connect(transport)
      const progress: number[] = []
      await client.callTool({ name: 'slow', arguments: { steps: 3, ms: 20 } }, undefined, { onprogress: (p) => progress.push(p.progress) })
      expect(progress).toEqual([1, 2, 3])
      expect(await client.callTool({ name: 'elicit_name', arguments: {} })).toMatchObject({ content: [{ text: 'Hello, Ada' }] })
      expect(asked).toEqual(['What is your name?'])
      await transport.terminateSession()
      await client.close()
      expect(mock.errors).toEqual([])
    } finally {
      await mock.close()
    }
  })

  test('a request the cassette does not hold gets ERR_REPLAY_MISS with the closest recorded one', async () => {
    const mock = await createMockServer('recordings/cassettes/sdk/streamable-http.json')
    try {
      const client = new Client({ name: 'mock-test', version: '0.1.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', mock.url)))
      await client.listTools()
      await expect(client.listTools()).rejects.toThrow(/ERR_REPLAY_MISS/)
      expect(mock.errors[0]!.message).toContain('Nearest: #4 tools/list (id 1): it was already served (the client sent more than was recorded)')
      await client.close()
    } finally {
      await mock.close()
    }
  })
})

describe('capture', () => {
  test('KI-11: a cassette saved from the emulator transcript with an eviction right after the GET stream opens replays green', async () => {
    const recorder = await freshEmulator()
    const tap = tapTranscript(recorder.transcript)
    await tap.start()
    const client = new Client({ name: 'tap-evict-test', version: '0.1.0' })
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', recorder.url))
    await client.connect(transport)
    const memo = async () => ((await client.callTool({ name: 'memo', arguments: {} })).content as { text: string }[])[0]!.text
    // The SDK opens its GET stream right after initialize: the eviction races that stream's Worker→DO upgrade.
    await recorder.evict({ session: transport.sessionId!, webSockets: 'hibernate' })
    expect(await memo()).toBe('1')
    expect(await memo()).toBe('2')
    await recorder.evict({ session: transport.sessionId!, webSockets: 'hibernate' })
    expect(await memo()).toBe('1')
    await transport.terminateSession()
    await client.close()
    await tap.stop()
    const cassette = buildCassette(tap.snapshot(), { client: 'tap-evict-test', scenario: 'tap-evict', transport: 'streamable-http', recordedWith: 'emulator' })
    expect(cassette.events.filter((event) => event.layer === 'lifecycle' && event.type === 'evicted')).toHaveLength(2)
    expect(findSecrets(cassette)).toEqual([])
    const result = await replay(cassette, { target: emulatorTarget(await freshEmulator()) })
    expect(result.ok).toBe(true)
  })

  test('a cassette saved from the emulator transcript replays green', async () => {
    const tap = tapTranscript(emulator.transcript)
    await tap.start()
    const client = new Client({ name: 'tap-test', version: '0.1.0' })
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', emulator.url))
    await client.connect(transport)
    await client.callTool({ name: 'memo', arguments: {} })
    await client.callTool({ name: 'memo', arguments: {} })
    await transport.terminateSession()
    await client.close()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await tap.stop()
    const cassette = buildCassette(tap.snapshot(), { client: 'tap-test', scenario: 'tap', transport: 'streamable-http', recordedWith: 'emulator' })
    expect(cassette.interactions.map((i) => describeRequest(i))).toEqual(['initialize (id 0)', 'notifications/initialized', 'GET /mcp', 'tools/call (id 1)', 'tools/call (id 2)', 'DELETE /mcp'])
    // Hop and lifecycle events come along, normalized like the HTTP traffic (session ids become placeholders).
    for (const event of cassette.events) if (typeof event.detail.name === 'string') expect(event.detail.name).toMatch(/^(?:streamable-http|sse):<session-\d+>$/)
    expect(findSecrets(cassette)).toEqual([])
    expect((await replay(cassette, { target: emulatorTarget(emulator) })).ok).toBe(true)
  })

  test('re-recording the same session gives the same file, apart from timings', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-rerecord-'))
    try {
      const scenario = CASSETTE_SCENARIOS.find((s) => s.id === 'sdk/streamable-http')!
      const untimed = (text: string) => text.replace(/"t": \d+/g, '"t": 0')
      const first = await readFile(await recordScenario(emulator, scenario, dir), 'utf8')
      const second = await readFile(await recordScenario(emulator, scenario, dir), 'utf8')
      expect(untimed(second)).toBe(untimed(first))
      expect(untimed(first)).toBe(untimed(await readFile('recordings/cassettes/sdk/streamable-http.json', 'utf8')))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('CLI commands', () => {
  test('record writes the cassette when the client ends the session, and replay exits 0 on a match and 1 on a mismatch', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-cli-'))
    try {
      const out = path.join(dir, 'cli.json')
      const port = await freePort()
      const recording = cli(['record', '--target', emulator.url.href, '--listen', `127.0.0.1:${port}`, '--out', out, '--client', 'mcp-typescript-sdk'])
      await waitForPort(port)
      const client = new Client({ name: 'cli-test', version: '0.1.0' })
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`))
      await client.connect(transport)
      await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })
      await transport.terminateSession()
      await client.close()
      expect(await recording).toBe(0)
      const cassette = await loadCassette(out)
      expect(cassette.meta).toMatchObject({ client: 'mcp-typescript-sdk', scenario: 'cli', recordedWith: 'proxy' })
      expect(await cli(['replay', out, '--target', emulator.url.href])).toBe(0)
      const text = (await readFile(out, 'utf8')).replace('"text": "3"', '"text": "4"')
      await writeFile(out, text)
      expect(await cli(['replay', out, '--target', emulator.url.href])).toBe(1)
      expect(output.join('')).toContain('First: result.content.0.text in the answer to')
      expect(output.join('')).toContain('(recorded "4" ≠ received "3")')
      expect(output.join('')).toContain(`Re-record: mcp-harness record --target ${emulator.url.href} --out ${out}`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

const output: string[] = []
/** Runs the mcp-harness CLI in-process, collecting what it prints. */
function cli(argv: string[]): Promise<number> {
  const sink = new Writable({ write: (chunk, _encoding, done) => (output.push(String(chunk)), done()) })
  return main(argv, { stdout: sink, stderr: sink })
}
