import { mkdir, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../index.ts'
import { connectClient } from '../../scenarios/helpers/clients.ts'
import { REFERENCE_CONFIG } from '../../scenarios/helpers/use-emulator.ts'
import { parseCassette } from '../../recordings/format/serialize.ts'
import { CONTROL_OPENAPI_PATH, controlOpenApiText } from './openapi.ts'
import { saveEmulatorCassette } from '../../recordings/capture/save-emulator-cassette.ts'
import { startControlPlane, type ControlPlane } from './server.ts'

let emulator: Emulator
let control: ControlPlane
let cassettesDir: string

beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
  cassettesDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'control-')), 'cassettes')
  control = await startControlPlane(emulator, { cassettesDir }, { saveCassette: saveEmulatorCassette })
})
afterAll(async () => {
  await control?.close()
  await emulator?.dispose()
})

const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const { token = control.token, ...rest } = init
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(rest.headers as Record<string, string>) }
  if (token !== null) headers.authorization = `Bearer ${token}`
  return fetch(new URL(path, control.url), { ...rest, headers })
}

describe('control plane', () => {
  test('listens on loopback with a random token and a versioned prefix', async () => {
    expect(control.url.hostname).toBe('127.0.0.1')
    expect(control.url.pathname).toBe('/v1/')
    expect(control.token.length).toBeGreaterThanOrEqual(32)
    const health = await (await call('health')).json()
    expect(health).toMatchObject({ ok: true, apiVersion: '1.0.0', worker: emulator.worker.name })
    expect(health.features).toContain('evict')
    const urls = await (await call('urls')).json()
    expect(urls).toEqual({ base: emulator.url.href, mcp: new URL('/mcp', emulator.url).href, sse: new URL('/sse', emulator.url).href, control: control.url.href })
  })

  test('answers 401 without the token and with a wrong one', async () => {
    for (const token of [null, 'wrong-token-wrong-token-wrong-token-wrong-tok']) {
      const res = await call('health', { token })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('Bearer')
      const body = await res.json()
      expect(body.error.code).toBe('ERR_CONTROL')
      expect(body.error.message).toMatch(/bearer token/)
    }
  })

  test('answers 400 naming the problem for malformed requests', async () => {
    const notJson = await call('evict', { method: 'POST', body: '{nope' })
    expect(notJson.status).toBe(400)
    expect((await notJson.json()).error.message).toMatch(/not JSON/)
    const missing = await call('evict', { method: 'POST', body: JSON.stringify({ session: 5, webSockets: 'sometimes' }) })
    expect(missing.status).toBe(400)
    const message = (await missing.json()).error.message
    expect(message).toMatch(/webSockets/)
    expect(message).toMatch(/session/)
    const extra = await call('transcript?layer=everything')
    expect(extra.status).toBe(400)
  })

  test('rejects a non-loopback Host header, unknown routes and wrong methods', async () => {
    const port = control.url.port
    const rebinding = await new Promise<number>((resolve, reject) => {
      // fetch() does not let a caller set Host; a raw request does.
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/health', headers: { host: `evil.example:${port}`, authorization: `Bearer ${control.token}` } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      }, reject)
    })
    expect(rebinding).toBe(403)
    expect((await call('nothing')).status).toBe(404)
    const wrongMethod = await call('evict')
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')
  })

  test('KI-11: evict by session keeps counter and resets memo on both transports', async () => {
    for (const transport of ['streamable-http', 'sse'] as const) {
      const client = await connectClient(emulator.url, { transport })
      expect(await client.text('counter')).toBe('1')
      expect(await client.text('memo')).toBe('1')
      const sessions = (await (await call('sessions')).json()).sessions
      expect(sessions).toContainEqual(expect.objectContaining({ id: client.sessionId(), transport, name: client.objectName() }))
      const res = await call('evict', { method: 'POST', body: JSON.stringify({ session: client.sessionId() }) })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ evicted: [client.objectName()] })
      expect(await client.text('counter')).toBe('2')
      expect(await client.text('memo')).toBe('1')
      await client.close()
    }
  })

  test('evicting an unknown session answers 404 with the known ones', async () => {
    const res = await call('evict', { method: 'POST', body: JSON.stringify({ session: 'never-seen' }) })
    expect(res.status).toBe(404)
    const body = await res.json()
    expect(body.error.code).toBe('ERR_UNKNOWN_SESSION')
    expect(body.error.message).toMatch(/Known sessions: /)
  })

  test('sets, lists and clears hop faults that act on the wire', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    const bad = await call('faults', { method: 'PUT', body: JSON.stringify({ faults: [{ action: { type: 'explode' } }] }) })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.message).toMatch(/faults\.0\.action/)
    const set = await call('faults', {
      method: 'PUT',
      body: JSON.stringify({ faults: [{ match: { session: client.sessionId(), method: 'tools/call', direction: 'do->worker' }, action: { type: 'delay', ms: 300 }, times: 1 }] }),
    })
    expect(set.status).toBe(200)
    expect((await set.json()).faults).toMatchObject([{ fired: 0, fault: { action: { type: 'delay', ms: 300 } } }])
    const started = performance.now()
    expect(await client.text('add', { a: 1, b: 2 })).toBe('3')
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect((await (await call('faults')).json()).faults[0].fired).toBe(1)
    expect((await (await call('faults', { method: 'DELETE' })).json()).faults).toEqual([])
    await client.close()
  })

  test('crashes every Durable Object, keeping storage', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('counter')).toBe('1')
    const res = await call('crash', { method: 'POST', body: '{}' })
    expect(res.status).toBe(200)
    expect((await (await call('transcript?layer=lifecycle&type=crashed')).json()).events.length).toBe(1)
    // Streamable HTTP sessions survive a hard abort (DESIGN.md); storage is kept.
    expect(await client.text('counter')).toBe('2')
    await client.close()
  })

  test('saves the transcript as a cassette that validates', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('add', { a: 20, b: 22 })).toBe('42')
    await client.close()
    const file = path.join(cassettesDir, 'sdk', 'saved.json')
    const res = await call('cassettes', { method: 'POST', body: JSON.stringify({ path: 'sdk/saved.json', client: 'control-test', scenario: 'add' }) })
    expect(res.status).toBe(200)
    const saved = await res.json()
    expect(saved.path).toBe(file)
    expect(saved.interactions).toBeGreaterThan(2)
    const cassette = parseCassette(await readFile(file, 'utf8'), file)
    expect(cassette.meta).toMatchObject({ client: 'control-test', scenario: 'add', recordedWith: 'emulator' })
    expect(JSON.stringify(cassette)).not.toContain(client.sessionId())
  })

  test('refuses cassette paths that leave its folder (absolute, "..", a symbolic link out) with 400, writing nothing', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'control-outside-'))
    await mkdir(cassettesDir, { recursive: true })
    await symlink(outside, path.join(cassettesDir, 'escape'))
    for (const given of [path.join(outside, 'x.json'), '../x.json', 'sdk/../../x.json', 'escape/x.json', 'escape/deeper/x.json']) {
      const res = await call('cassettes', { method: 'POST', body: JSON.stringify({ path: given }) })
      expect(res.status).toBe(400)
      const { error } = await res.json()
      expect(error.code).toBe('ERR_PATH')
      expect(error.message).toContain(JSON.stringify(given))
    }
    expect(await readdir(outside)).toEqual([])
    expect(await readdir(path.dirname(cassettesDir))).toEqual(['cassettes'])
  })

  test('a transcript read right after a call already holds the call\'s hop steps (reports are pulled first)', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    try {
      const { next } = await (await call('transcript?layer=client&type=none')).json()
      expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
      const hop = (await (await call(`transcript?since=${next}&layer=hop`)).json()).events as { type: string; methods?: string[] }[]
      expect(hop.some((event) => event.type === 'frame' && event.methods?.includes('tools/call'))).toBe(true)
    } finally {
      await client.close()
    }
  })

  test('reads the transcript with filters and resets it', async () => {
    const all = await (await call('transcript')).json()
    expect(all.events.length).toBeGreaterThan(0)
    const evictions = await (await call('transcript?layer=lifecycle&type=evicted')).json()
    expect(evictions.events.length).toBeGreaterThanOrEqual(1)
    expect(evictions.events.every((e: { layer: string }) => e.layer === 'lifecycle')).toBe(true)
    const since = await (await call(`transcript?since=${all.next - 1}`)).json()
    expect(since.events.every((e: { seq: number }) => e.seq >= all.next - 1)).toBe(true)
    expect((await call('transcript', { method: 'DELETE' })).status).toBe(200)
    const after = await (await call('transcript?layer=client')).json()
    expect(after.events).toEqual([])
  })

  test('restarts the runtime keeping storage', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('counter')).toBe('1')
    const res = await call('restart', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(await client.text('counter')).toBe('2')
    await client.close()
  })

  test('the committed OpenAPI document matches the schemas', async () => {
    expect(await readFile(CONTROL_OPENAPI_PATH, 'utf8')).toBe(controlOpenApiText())
  })
})
