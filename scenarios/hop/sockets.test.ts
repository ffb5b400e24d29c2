// Issue 11, item 3 (a transparent hop tap): the tap hands the Worker the Durable Object's own
// WebSocket and observes it in place. These scenarios cover the socket a Worker hands on to its
// client (`return stub.fetch(request)`, the usual WebSocket proxy), which the runtime would pump out
// of the tap's sight: its frames are still on the hop layer, both ways, and faults still act on it,
// including faults set after it opened. And a Worker that relays the socket itself, listening with
// the `onmessage`/`onclose` handler properties (which workerd calls before any listener): a fault
// acts on them as on listeners, and a frame let through reaches them once.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'

const FIXTURE_CONFIG = 'scenarios/fixtures/hibernatable-event-timeout/wrangler.jsonc'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: FIXTURE_CONFIG })
})
afterEach(() => emulator.faults.clear())
afterAll(() => emulator?.dispose())

interface Room {
  received: string[]
  closed: Promise<{ code: number; reason: string }>
  send(data: string): void
  /** Resolves with the frames received up to and including `data` (bounded wait). */
  until(data: string, ms?: number): Promise<string[]>
  close(): void
}

/**
 * Opens a WebSocket to one room of the fixture. On `room` the Worker passes the object's socket
 * through; on `handler-room` it relays it, with the handler properties on the object's side.
 */
async function openRoom(room: string, route: 'room' | 'handler-room' = 'room'): Promise<Room> {
  const response = await emulator.miniflare.dispatchFetch(`http://fixture.local/${route}/${room}`, { headers: { upgrade: 'websocket' } })
  const ws = response.webSocket
  if (!ws) throw new Error(`no WebSocket for room ${room}: status ${response.status}`)
  const received: string[] = []
  const waiters = new Set<() => void>()
  ws.accept()
  ws.addEventListener('message', (event) => {
    received.push(String(event.data))
    for (const wake of waiters) wake()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })))
  return {
    received,
    closed,
    send: (data) => ws.send(data),
    close: () => ws.close(1000, 'done'),
    until(data, ms = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const at = received.indexOf(data)
          if (at < 0) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(received.slice(0, at + 1))
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no frame "${data}" within ${ms} ms; received ${JSON.stringify(received)}`))
        }, ms)
        waiters.add(check)
        check()
      })
    },
  }
}

const frames = (name: string, direction: 'worker->do' | 'do->worker') =>
  emulator.transcript.filter({ layer: 'hop', type: 'frame', name }).filter((event) => event.direction === direction).map((event) => event.text ?? event.message)

test('a socket the Worker hands on to its client is observed both ways, and the client gets every frame in order', async () => {
  const room = await openRoom('observed')
  room.send('work:100')
  expect(await room.until('done')).toEqual(['step 1', 'step 2', 'done'])
  await emulator.settled()
  expect(frames('observed', 'worker->do')).toEqual(['work:100'])
  expect(frames('observed', 'do->worker')).toEqual(['step 1', 'step 2', 'done'])
  room.close()
  await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'close' && e.name === 'observed' && e.direction === 'worker->do', 2_000)
})

test('a fault set after the socket opened holds a client→DO frame back, then lets it through', async () => {
  const room = await openRoom('delayed')
  room.send('work:50')
  await room.until('done')
  emulator.faults.add({ match: { direction: 'worker->do', step: 'frame', session: 'delayed' }, action: { type: 'delay', ms: 300 }, times: 1 })
  // No client request follows on an open socket: Node tells the isolate itself; settled() waits for that.
  await emulator.settled()
  room.received.length = 0
  const started = performance.now()
  room.send('work:50')
  expect(await room.until('done')).toEqual(['step 1', 'done'])
  // A lower bound only: the frame cannot reach the object before its delay.
  expect(performance.now() - started).toBeGreaterThanOrEqual(290)
  expect(emulator.transcript.filter({ layer: 'hop', type: 'fault', action: 'delay', name: 'delayed' })).toHaveLength(1)
  room.close()
})

/** The two ways the fixture's Worker gives a room's socket to its client, as the test names say them. */
const ROUTES = [
  { route: 'room', prefix: '', worker: 'a Worker passing the socket on' },
  { route: 'handler-room', prefix: 'handler-', worker: 'a Worker using onmessage/onclose' },
] as const

test.each(ROUTES)('a dropped DO→Worker frame never reaches the client of $worker; the frames after it do', async ({ route, prefix }) => {
  const session = `${prefix}dropped`
  const room = await openRoom(session, route)
  emulator.faults.add({ match: { direction: 'do->worker', step: 'frame', session, nth: 1 }, action: { type: 'drop' }, times: 1 })
  await emulator.settled()
  room.send('work:100')
  expect(await room.until('done')).toEqual(['step 2', 'done'])
  room.close()
})

test.each(ROUTES)('closing the hop with a code closes the client socket of $worker with that code', async ({ route, prefix }) => {
  const session = `${prefix}cut`
  const room = await openRoom(session, route)
  emulator.faults.add({ match: { direction: 'do->worker', step: 'frame', session }, action: { type: 'close', code: 4000, reason: 'cut by a fault' }, times: 1 })
  await emulator.settled()
  room.send('work:50')
  const bound = new Promise((resolve) => setTimeout(() => resolve('no close within 5 s'), 5_000))
  expect(await Promise.race([room.closed, bound])).toMatchObject({ code: 4000 })
  expect(room.received).toEqual([])
})

test('a delayed DO→Worker frame reaches onmessage once, in its place', async () => {
  const room = await openRoom('handler-delayed', 'handler-room')
  emulator.faults.add({ match: { direction: 'do->worker', step: 'frame', session: 'handler-delayed', nth: 1 }, action: { type: 'delay', ms: 200 }, times: 1 })
  await emulator.settled()
  room.send('work:100')
  expect(await room.until('done')).toEqual(['step 1', 'step 2', 'done'])
  await emulator.settled()
  expect(frames('handler-delayed', 'do->worker')).toEqual(['step 1', 'step 2', 'done'])
  room.close()
})
