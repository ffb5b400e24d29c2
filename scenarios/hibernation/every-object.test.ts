// Issue 11 item 4: eviction, crash, the idle policy and sessions() cover every Durable Object class
// of the Worker and every id kind (idFromName, newUniqueId, idFromString), with and without the tap;
// issue 11 item 3: stubs behind the tap stay transparent (RPC properties, Miniflare's namespace API).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'

const CONFIG = 'scenarios/fixtures/two-objects/wrangler.jsonc'
type Bump = { memory: number; stored: number; kind: string; id?: string }
const get = async (emulator: Emulator, path: string): Promise<Bump> => (await emulator.fetch(path)).json() as Promise<Bump>

describe('with the hop tap', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: CONFIG, hibernation: { idleMs: 300 } })
  })
  afterAll(() => emulator?.dispose())

  test('objects of both classes, named and unique, are seen with their binding and id', async () => {
    expect(await get(emulator, '/counter/a')).toMatchObject({ memory: 1, stored: 1, kind: 'Counter' })
    const note = await get(emulator, '/notes')
    expect(note).toMatchObject({ memory: 1, stored: 1, kind: 'Notes' })
    await emulator.settled()
    expect(emulator.sessions().map((s) => s.binding).sort()).toEqual(['COUNTERS', 'NOTES'])
    const seen = emulator.sessions().find((s) => s.binding === 'NOTES')!
    expect(seen).toMatchObject({ objectId: note.id, transport: 'other' })
    expect(emulator.sessions().find((s) => s.binding === 'COUNTERS')).toMatchObject({ name: 'a' })
  })

  test('evict() reaches a named object and a unique-id object of another class alike', async () => {
    expect(await get(emulator, '/counter/b')).toMatchObject({ memory: 1, stored: 1 })
    expect(await get(emulator, '/counter/b')).toMatchObject({ memory: 2, stored: 2 })
    const { id } = await get(emulator, '/notes')
    expect(await get(emulator, `/notes/${id}`)).toMatchObject({ memory: 2, stored: 2 })
    await emulator.evict({ session: 'b' })
    await emulator.evict({ object: { className: 'Notes', id: id! } })
    // Instance fields are gone, storage is kept: a real eviction of each object.
    expect(await get(emulator, '/counter/b')).toMatchObject({ memory: 1, stored: 3 })
    expect(await get(emulator, `/notes/${id}`)).toMatchObject({ memory: 1, stored: 3 })
  })

  test('a library timer in one object does not hold back the idle eviction of another', async () => {
    const { id } = await get(emulator, '/notes')
    await get(emulator, `/notes/${id}/poll`)
    await get(emulator, '/counter/c')
    const evicted = await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'evicted' && e.name === 'c' && e.why === 'idle', 10_000)
    expect(evicted).toBeDefined()
    // The polling object stays: workerd refuses, and the emulator says so.
    const refused = await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'not-hibernated' && e.name === id, 15_000)
    expect(JSON.stringify(refused.blockers)).toMatch(/active references/)
    expect(await get(emulator, `/notes/${id}`)).toMatchObject({ memory: 3 })
    await get(emulator, `/notes/${id}/unpoll`)
  })

  test('stubs stay transparent behind the tap: RPC properties read, Miniflare namespace API works', async () => {
    // `kind` is a getter read through the stub, not called: the tap must pass it as it is.
    expect((await get(emulator, '/counter/d')).kind).toBe('Counter')
    const namespace = await emulator.miniflare.getDurableObjectNamespace('COUNTERS')
    const stub = namespace.get(namespace.idFromName('d')) as unknown as { bump(): Promise<Bump> }
    expect(await stub.bump()).toMatchObject({ stored: 2 })
  })

  test('crash() aborts the objects of every class', async () => {
    await get(emulator, '/counter/e')
    const { id } = await get(emulator, '/notes')
    await emulator.crash()
    expect(await get(emulator, '/counter/e')).toMatchObject({ memory: 1, stored: 2 })
    expect(await get(emulator, `/notes/${id}`)).toMatchObject({ memory: 1, stored: 2 })
  })
})

describe('without the hop tap', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: CONFIG, hop: { tap: false } })
  })
  afterAll(() => emulator?.dispose())

  test('evict() of a named object of any class works, by class and name', async () => {
    await get(emulator, '/counter/a')
    expect(await get(emulator, '/counter/a')).toMatchObject({ memory: 2 })
    expect(await emulator.evict({ object: { className: 'Counter', name: 'a' } })).toEqual(['a'])
    expect(await get(emulator, '/counter/a')).toMatchObject({ memory: 1, stored: 3 })
  })

  test('evict() with no target says why instead of returning nothing', async () => {
    await expect(emulator.evict()).rejects.toThrow(/ERR_UNSUPPORTED[\s\S]*hop tap off[\s\S]*object: \{ className, name \}/)
  })

  test('an unknown class is named with the classes the Worker has', async () => {
    await expect(emulator.evict({ object: { className: 'Nope', name: 'x' } })).rejects.toThrow(/Counter \(binding COUNTERS\), Notes \(binding NOTES\)/)
  })
})
