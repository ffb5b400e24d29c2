import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { createEmulator, type Emulator } from './index.ts'

// Issue 2, build item 3: the emulator must serve any Worker wrangler can build, not only ours.
const FIXTURE = 'scenarios/fixtures/kv-notes'

describe('a Worker that is not ours (scenarios/fixtures/kv-notes)', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: FIXTURE })
  })
  afterAll(() => emulator?.dispose())

  test('reads name, compatibility date and flags from its wrangler.jsonc', () => {
    expect(emulator.worker).toMatchObject({ name: 'kv-notes-fixture', compatibilityDate: '2024-06-01', compatibilityFlags: ['nodejs_compat'] })
    expect(emulator.worker.durableObjects).toEqual([{ binding: 'TALLY', className: 'Tally', scriptName: undefined, useSQLite: false }])
  })

  test('binds vars from the config and secrets from the .dev.vars beside it', async () => {
    const response = await emulator.fetch('/env')
    expect(await response.json()).toEqual({ greeting: 'hello from vars', apiToken: 'fixture-token-from-dev-vars' })
  })

  test('stores and reads KV values', async () => {
    expect((await emulator.fetch('/notes/first', { method: 'PUT', body: 'remember this' })).status).toBe(204)
    const response = await emulator.fetch('/notes/first')
    expect(await response.text()).toBe('remember this')
    expect((await emulator.fetch('/notes/missing')).status).toBe(404)
  })

  test('runs a classic (non-SQLite) Durable Object that keeps its storage', async () => {
    const first = (await (await emulator.fetch('/tally', { method: 'POST' })).json()) as { count: number }
    const second = (await (await emulator.fetch('/tally', { method: 'POST' })).json()) as { count: number }
    expect(second.count).toBe(first.count + 1)
  })

  test('wipeStorage() empties the Durable Object and KV in the running workerd, and the Worker answers at once', async () => {
    await emulator.fetch('/notes/kept', { method: 'PUT', body: 'gone after the wipe' })
    await emulator.fetch('/tally', { method: 'POST' })
    expect(((await (await emulator.fetch('/tally', { method: 'POST' })).json()) as { count: number }).count).toBeGreaterThan(1)
    const runtime = emulator.miniflare
    await emulator.wipeStorage()
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'storage-wiped' })).toHaveLength(1)
    // The same Miniflare, not restarted: only the storage went.
    expect(emulator.miniflare).toBe(runtime)
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'restarted' })).toHaveLength(0)
    expect(await (await emulator.fetch('/tally', { method: 'POST' })).json()).toEqual({ count: 1 })
    expect((await emulator.fetch('/notes/kept')).status).toBe(404)
    expect((await emulator.fetch('/env')).status).toBe(200)
  })

  test('applies nodejs_compat at its compatibility date: node:buffer works, no global process before 2024-09-23', async () => {
    expect(await (await emulator.fetch('/runtime')).json()).toEqual({ base64: 'd29ya2Vycw==', globalProcess: 'undefined' })
  })

  test('the same code at a later compatibility date gets a global process (nodejs_compat_v2)', async () => {
    const later = await createEmulator({
      config: { name: 'kv-notes-later', main: 'src/index.ts', compatibility_date: '2024-09-23', compatibility_flags: ['nodejs_compat'], baseDir: FIXTURE },
    })
    try {
      expect(await (await later.fetch('/runtime')).json()).toEqual({ base64: 'd29ya2Vycw==', globalProcess: 'object' })
    } finally {
      await later.dispose()
    }
  })

  test('bridges a WebSocket upgrade through the front door, each message and the close recorded', async () => {
    const socket = new WebSocket(new URL('/echo', emulator.url.href.replace('http', 'ws')))
    const received: string[] = []
    const closed = new Promise<{ code: number; reason: string }>((resolve, reject) => {
      socket.on('message', (data) => received.push(data.toString()))
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
      socket.on('error', reject)
    })
    await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject))
    socket.send('hello')
    await expect.poll(() => received).toEqual(['echo: hello'])
    socket.send('bye')
    expect(await closed).toEqual({ code: 4000, reason: 'asked to leave' })
    const exchange = emulator.transcript.filter({ layer: 'client', type: 'request', path: '/echo' })[0]?.exchange
    const events = emulator.transcript.filter({ layer: 'client', exchange })
    expect(events.find((e) => e.type === 'response')?.status).toBe(101)
    expect(events.filter((e) => e.type === 'ws-message').map((e) => [e.direction, e.dataText ?? e.data])).toEqual([
      ['client->worker', 'hello'],
      ['worker->client', 'echo: hello'],
      ['client->worker', 'bye'],
    ])
    expect(events.find((e) => e.type === 'ws-close')).toMatchObject({ by: 'worker', code: 4000 })
  })

  test('answers a refused upgrade with the Worker\'s own status', async () => {
    const socket = new WebSocket(new URL('/env', emulator.url.href.replace('http', 'ws')))
    const status = await new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).on('error', () => resolve(-1)))
    expect(status).toBe(200)
  })

  test('records its traffic in the transcript like an MCP Worker', async () => {
    await emulator.fetch('/env')
    const requests = emulator.transcript.filter({ layer: 'client', type: 'request' }).map((event) => event.path)
    expect(requests).toContain('/env')
    expect(emulator.errors).toEqual([])
  })
})
