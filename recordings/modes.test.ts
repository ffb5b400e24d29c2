import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { isHarnessError } from '../core/errors.ts'
import { createMockServer, loadCassette, resolveMode, useCassette, type MockServer } from './index.ts'

const SOURCE = 'recordings/cassettes/sdk/streamable-http.json'

/** The recorded session, replayed by a TS SDK client against `base`. */
async function session(base: URL): Promise<string> {
  const client = new Client({ name: 'modes-test', version: '0.1.0' })
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base))
  await client.connect(transport)
  await client.listTools()
  const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
  await client.callTool({ name: 'counter', arguments: {} })
  await client.callTool({ name: 'counter', arguments: {} })
  await transport.terminateSession()
  await client.close()
  return (result.content as { text: string }[])[0]!.text
}

let upstream: MockServer
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-modes-'))
})
beforeEach(async () => {
  // The "real server" of these tests is a mock of a committed cassette (one session each): no runtime needed.
  upstream = await createMockServer(SOURCE)
})
afterEach(() => upstream.close())
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('modes', () => {
  test('resolveMode reads HARNESS_MODE, defaults to replay and rejects unknown values', () => {
    expect(resolveMode(undefined)).toBe('replay')
    expect(resolveMode('record')).toBe('record')
    expect(() => resolveMode('rewind')).toThrow('Invalid option "mode": expected one of replay, record, passthrough, received "rewind".')
  })

  test('record saves the session a client drives through the proxy, and replay then serves it', async () => {
    const file = path.join(dir, 'recorded.json')
    const recording = await useCassette(file, { mode: 'record', target: upstream.url, meta: { client: 'mcp-typescript-sdk', transport: 'streamable-http' } })
    expect(await session(recording.url)).toBe('5')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const saved = await recording.stop()
    expect(saved?.interactions.length).toBe(8)
    expect((await loadCassette(file)).meta.client).toBe('mcp-typescript-sdk')
    const replaying = await useCassette(file)
    expect(replaying.mode).toBe('replay')
    expect(await session(replaying.url)).toBe('5')
    expect(replaying.mock?.errors).toEqual([])
    await replaying.stop()
  })

  test('passthrough forwards and writes nothing', async () => {
    const file = path.join(dir, 'passthrough.json')
    const through = await useCassette(file, { mode: 'passthrough', target: upstream.url })
    expect(await session(through.url)).toBe('5')
    expect(await through.stop()).toBeUndefined()
    await expect(loadCassette(file)).rejects.toThrow(/no such file/)
  })

  test('a missing cassette fails in replay mode when recording is off (as in CI)', async () => {
    const error = await useCassette(path.join(dir, 'missing.json'), { mode: 'replay', recordIfMissing: false }).catch((e: unknown) => e)
    expect(isHarnessError(error, 'ERR_REPLAY_MISS')).toBe(true)
    expect((error as Error).message).toContain('the cassette does not exist')
  })
})
