// Hibernation and eviction behind the hop tap (issue 3 "Done when": evict() + next call keeps the
// session; counter continues, memo resets; on both transports). KI-11.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient, TRANSPORTS } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

describe.each(TRANSPORTS)('%s', (transport) => {
  test(`KI-11: evict() keeps the session; counter continues and memo resets (${transport})`, async () => {
    const client = await connectClient(emulator.url, { transport })
    expect(await client.text('counter')).toBe('1')
    expect(await client.text('memo')).toBe('1')

    const evicted = await emulator.evict({ session: client.sessionId(), webSockets: 'hibernate' })
    expect(evicted).toEqual([client.objectName()])
    expect(emulator.sessions().find((s) => s.name === client.objectName())?.state).toBe('hibernated')

    const started = performance.now()
    expect(await client.text('counter')).toBe('2')
    const firstCallMs = Math.round((performance.now() - started) * 10) / 10
    emulator.transcript.record({ layer: 'harness', type: 'measure', what: 'first call after wake', transport, ms: firstCallMs })
    // The instance field went with the old instance: the constructor ran again.
    expect(await client.text('memo')).toBe('1')
    const tools = await client.client.listTools()
    expect(tools.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['add', 'counter', 'memo']))

    // The wake is seen on the hop: have the tap's reports of the calls above first.
    await emulator.settled()
    const woke = await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'woke' && e.name === client.objectName(), 2_000)
    expect(woke).toMatchObject({ after: 'evicted:manual', detectedBy: 'hop' })
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'woke', name: client.objectName() })).toHaveLength(1)
    expect(emulator.sessions().find((s) => s.name === client.objectName())?.state).toBe('active')
    await client.close()
  })
})

test('KI-11: the idle policy evicts a quiet DO through on-demand eviction, without a real 10 s wait', async () => {
  const idle = await createEmulator({ config: REFERENCE_CONFIG, hibernation: { idleMs: 50 } })
  try {
    const client = await connectClient(idle.url, { transport: 'streamable-http' })
    expect(await client.text('counter')).toBe('1')
    expect(await client.text('memo')).toBe('1')
    // The eviction after the memo call (on a loaded machine the idle policy may also evict between two
    // calls: that earlier one is not the one this test waits for).
    const quietFrom = idle.transcript.nextSeq
    const evicted = await idle.transcript.waitFor((e) => e.seq >= quietFrom && e.layer === 'lifecycle' && e.type === 'evicted' && e.name === client.objectName(), 5_000)
    expect(evicted).toMatchObject({ why: 'idle', webSockets: 'hibernate' })
    expect(await client.text('counter')).toBe('2')
    expect(await client.text('memo')).toBe('1')
    await client.close()
  } finally {
    await idle.dispose()
  }
})

test('KI-11: restart() keeps Durable Object storage and loses instance state', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http' })
  expect(await client.text('counter')).toBe('1')
  expect(await client.text('memo')).toBe('1')
  await emulator.restart()
  expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'restarted' }).length).toBeGreaterThan(0)
  expect(await client.text('counter')).toBe('2')
  expect(await client.text('memo')).toBe('1')
  await client.close()
})

test('wipeStorage() starts every session from empty storage', async () => {
  const client = await connectClient(emulator.url, { transport: 'streamable-http' })
  expect(await client.text('counter')).toBe('1')
  await emulator.wipeStorage()
  // The saved initialize went with the storage: McpAgent no longer knows the session.
  await expect(client.text('counter')).rejects.toThrow(/Session not found|404/)
  const fresh = await connectClient(emulator.url, { transport: 'streamable-http' })
  expect(await fresh.text('counter')).toBe('1')
  await fresh.close()
})

test('evict() names an unknown session in a HarnessError', async () => {
  await expect(emulator.evict({ session: 'no-such-session' })).rejects.toThrow(/ERR_UNKNOWN_SESSION/)
})
