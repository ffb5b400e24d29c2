// Reconnecting with Last-Event-ID on Streamable HTTP: replay while the tool still runs, nothing
// after it finished (KI-28). Raw HTTP, so that the exact stream the server sends is visible.
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { ACCEPT_BOTH, openRawSession, rpc, type RawSession } from '../helpers/raw.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: REFERENCE_CONFIG })
})
afterAll(() => emulator?.dispose())

interface OpenStream {
  events: EventSourceMessage[]
  /** Resolves when `count` events arrived (or the stream ended / the bound passed). */
  waitFor(count: number, timeoutMs: number): Promise<EventSourceMessage[]>
  /** Resolves when the stream ends (or the bound passed): `ended` or `open`. */
  ended(timeoutMs: number): Promise<'ended' | 'open'>
  abort(): void
  status: number
}

/** Sends a request whose answer is an SSE stream and reads it as it arrives. */
async function openStream(session: RawSession, init: { method: 'POST' | 'GET'; body?: unknown; lastEventId?: string }): Promise<OpenStream> {
  const abort = new AbortController()
  const headers: Record<string, string> = {
    accept: init.method === 'GET' ? 'text/event-stream' : ACCEPT_BOTH,
    'mcp-session-id': session.sessionId,
    'mcp-protocol-version': session.protocolVersion,
  }
  if (init.body) headers['content-type'] = 'application/json'
  if (init.lastEventId) headers['last-event-id'] = init.lastEventId
  const response = await fetch(session.url, { method: init.method, headers, body: init.body ? JSON.stringify(init.body) : undefined, signal: abort.signal })
  const events: EventSourceMessage[] = []
  let done = false
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach((listener) => listener())
  const parser = createParser({ onEvent: (event) => (events.push(event), notify()) })
  void (async () => {
    try {
      const decoder = new TextDecoder()
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
    } catch {
      // Aborted on purpose.
    }
    done = true
    notify()
  })()
  const until = (ready: () => boolean, timeoutMs: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!ready()) return
        listeners.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => (listeners.delete(check), resolve()), timeoutMs)
      listeners.add(check)
      check()
    })
  return {
    events,
    status: response.status,
    async waitFor(count, timeoutMs) {
      await until(() => events.length >= count || done, timeoutMs)
      return events
    },
    async ended(timeoutMs) {
      await until(() => done, timeoutMs)
      return done ? 'ended' : 'open'
    },
    abort: () => abort.abort(),
  }
}

const messages = (events: EventSourceMessage[]) => events.map((event) => JSON.parse(event.data) as { id?: number; method?: string; result?: { content?: { text?: string }[] } })
const slowCall = (id: number, steps: number, ms: number) => rpc(id, 'tools/call', { name: 'slow', arguments: { steps, ms }, _meta: { progressToken: `p${id}` } })

test('Last-Event-ID while the tool still runs replays the missed events and delivers the result', async () => {
  const session = await openRawSession(emulator.url)
  const first = await openStream(session, { method: 'POST', body: slowCall(1, 6, 150) })
  expect(first.status).toBe(200)
  const seen = await first.waitFor(1, 5_000)
  expect(messages(seen)[0]?.method).toBe('notifications/progress')
  const lastEventId = seen.at(-1)!.id!
  expect(lastEventId).toMatch(/:/) // `<stream>:<seq>` as DESIGN.md records
  first.abort()

  const resumed = await openStream(session, { method: 'GET', lastEventId })
  expect(resumed.status).toBe(200)
  await resumed.waitFor(6, 5_000)
  const replayed = messages(resumed.events)
  // Everything after the last seen event arrives: the remaining progress and the result.
  expect(replayed.filter((m) => m.method === 'notifications/progress').length).toBeGreaterThanOrEqual(1)
  expect(replayed.find((m) => m.id === 1)?.result?.content?.[0]?.text).toBe('done')
  resumed.abort()
})

test('KI-28: Last-Event-ID after the tool finished gets nothing: the result is lost', async () => {
  const session = await openRawSession(emulator.url)
  const first = await openStream(session, { method: 'POST', body: slowCall(2, 3, 100) })
  const seen = await first.waitFor(1, 5_000)
  const lastEventId = seen.at(-1)!.id!
  first.abort()
  // Let the tool finish while nobody listens.
  await emulator.transcript.waitFor((e) => e.layer === 'hop' && e.type === 'frame' && e.name === `streamable-http:${session.sessionId}` && (e.sse as { data?: { id?: number } }[] | undefined)?.some((s) => s.data?.id === 2) === true, 5_000)
  await new Promise((resolve) => setTimeout(resolve, 100))

  const resumed = await openStream(session, { method: 'GET', lastEventId })
  // Bounded wait: the stream stays open (or ends) without the result.
  await resumed.waitFor(1, 1_500)
  const replayed = messages(resumed.events)
  emulator.transcript.record({ layer: 'harness', type: 'observation', what: 'KI-28 resume after finish', status: resumed.status, events: replayed.length })
  expect(replayed.find((m) => m.id === 2)).toBeUndefined()
  resumed.abort()
})
