// Issue 11 item 3/4: the hop layer sees every Durable Object call, also those one object makes to
// another (the tap wraps each object's env as it wraps the Worker's), and the calls behave the same
// with and without the tap.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'

const CONFIG = 'scenarios/fixtures/two-objects/wrangler.jsonc'
type Answer = { id: string; rpc: { memory: number; stored: number }; fetched: string }
// A new Notes object (unique id) bumps the Counter named `counter`.
const bumpCounter = async (emulator: Emulator, counter: string): Promise<Answer> => (await emulator.fetch(`/notes//bump-counter?counter=${counter}`)).json() as Promise<Answer>

describe('with the hop tap', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: CONFIG })
  })
  afterAll(() => emulator?.dispose())

  test('an object calling another object by RPC and by fetch shows on the hop layer, with the callee named', async () => {
    const answer = await bumpCounter(emulator, 'from-notes')
    expect(answer).toMatchObject({ rpc: { memory: 1, stored: 1 }, fetched: 'pong from Counter' })
    // One pull through the Worker's entry brings the object's own steps too: they share its isolate.
    await emulator.settled()
    const hop = emulator.transcript.filter({ layer: 'hop' })
    const rpc = hop.find((e) => e.type === 'rpc' && e.name === 'from-notes' && e.method === 'bump')!
    const result = hop.find((e) => e.type === 'rpc-result' && e.call === rpc?.call)
    expect(result).toMatchObject({ ok: true, value: { memory: 1, stored: 1 } })
    const fetched = hop.find((e) => e.type === 'fetch' && e.name === 'from-notes')!
    expect(fetched).toMatchObject({ method: 'GET', url: 'http://counter/ping' })
    expect(hop.find((e) => e.type === 'fetch-result' && e.call === fetched.call)).toMatchObject({ status: 200 })
    // The Worker's own call to the calling object is there too, before it.
    const outer = emulator.transcript.filter({ layer: 'hop', type: 'rpc' }).find((e) => e.method === 'bumpCounter' && e.name === answer.id)
    expect(outer).toBeDefined()
    expect(outer!.seq).toBeLessThan(rpc.seq)
    // The callee is a session of its own, with its binding.
    expect(emulator.sessions().find((s) => s.name === 'from-notes')).toMatchObject({ binding: 'COUNTERS', transport: 'other' })
  })
})

describe('without the hop tap', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: CONFIG, hop: { tap: false } })
  })
  afterAll(() => emulator?.dispose())

  test('the same object-to-object calls answer the same, and nothing is on the hop layer', async () => {
    expect(await bumpCounter(emulator, 'from-notes')).toMatchObject({ rpc: { memory: 1, stored: 1 }, fetched: 'pong from Counter' })
    expect(await bumpCounter(emulator, 'from-notes')).toMatchObject({ rpc: { memory: 2, stored: 2 } })
    expect(emulator.transcript.filter({ layer: 'hop' })).toHaveLength(0)
  })
})
