/**
 * Recordings a user can trust: a session recorded through `mcp-harness record` against the reference
 * server, then served by `mcp-harness mock` (a real child process, as a user runs it).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { main } from '../../cli/cli.ts'
import { loadCassette } from '../../recordings/index.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'
import { freePort, waitForPort } from '../helpers/targets.ts'

let emulator: Emulator
let dir: string
let cassette: string
const sink = new Writable({ write: (_chunk, _e, done) => done() })

beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG, workerLog: 'silent' })
  dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-mock-matching-'))
  cassette = path.join(dir, 'add.json')
  // 1. Record a session of add(2,3) through `mcp-harness record`, exactly as a user would.
  const port = await freePort()
  const recording = main(['record', '--target', emulator.url.href, '--listen', `127.0.0.1:${port}`, '--out', cassette, '--client', 'mcp-typescript-sdk'], { stdout: sink, stderr: sink })
  await waitForPort(port, 500)
  const client = new Client({ name: 'recorded-client', version: '0.1.0' })
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`))
  await client.connect(transport)
  expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ text: '5' }] })
  await transport.terminateSession()
  await client.close()
  expect(await recording).toBe(0)
}, 120_000)
afterAll(async () => {
  await emulator?.dispose()
  await rm(dir, { recursive: true, force: true })
})

/** `mcp-harness mock <cassette>` as a child process; resolves once it listens. */
async function startMock(...extra: string[]): Promise<{ url: URL; child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['bin/mcp-harness.js', 'mock', cassette, '--listen', `127.0.0.1:${port}`, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await waitForPort(port, 500)
  return { url: new URL(`http://127.0.0.1:${port}`), child, stderr: () => err, exited }
}

async function connect(url: URL) {
  const client = new Client({ name: 'client-under-test', version: '0.1.0' })
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url))
  await client.connect(transport)
  return { client, transport }
}

const failure = (promise: Promise<unknown>) => promise.then(() => '', (error: unknown) => (error as Error).message)

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
}

describe('mcp-harness record, then mcp-harness mock', () => {
  test('the recorded cassette says streamable-http, not "other"', async () => {
    expect((await loadCassette(cassette)).meta.transport).toBe('streamable-http')
  })

  test('mock answers add(4,3) and whoami with a miss naming the differing param, at once on stderr, never with "5"', async () => {
    const mock = await startMock()
    try {
      const { client } = await connect(mock.url)
      const add = await failure(client.callTool({ name: 'add', arguments: { a: 4, b: 3 } }))
      expect(add).toContain('ERR_REPLAY_MISS')
      expect(add).toMatch(/differs at params\.arguments\.a \(recorded 2 ≠ received 4\)/)
      // Printed while the mock still runs (not at Ctrl-C).
      await until(() => mock.stderr().includes('params.arguments.a'))
      expect(mock.stderr()).toContain('params.arguments.a (recorded 2 ≠ received 4)')
      const whoami = await failure(client.callTool({ name: 'whoami', arguments: {} }))
      expect(whoami).toMatch(/differs at params\.name \(recorded "add" ≠ received "whoami"\)/)
      expect(whoami).not.toMatch(/"text":\s*"5"/)
      // The recorded question still gets the recorded answer.
      expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ text: '5' }] })
      await client.close()
    } finally {
      mock.child.kill('SIGINT')
      expect(await mock.exited).toBe(1)
    }
  })

  test('two clients in a row both complete their session against one mock', async () => {
    const mock = await startMock()
    try {
      for (let run = 0; run < 2; run++) {
        const { client, transport } = await connect(mock.url)
        expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ text: '5' }] })
        await transport.terminateSession()
        await client.close()
      }
    } finally {
      mock.child.kill('SIGINT')
      expect(await mock.exited).toBe(0)
    }
    expect(mock.stderr()).not.toContain('ERR_REPLAY_MISS')
  })

  test('--strict stops the mock with exit code 1 at the first miss', async () => {
    const mock = await startMock('--strict')
    const { client } = await connect(mock.url)
    expect(await failure(client.callTool({ name: 'add', arguments: { a: 4, b: 3 } }))).toContain('ERR_REPLAY_MISS')
    expect(await mock.exited).toBe(1)
    expect(mock.stderr()).toContain('Stopped at the first miss (--strict).')
    await client.close().catch(() => {})
  })
})
