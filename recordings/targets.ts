import type { Emulator } from '../emulator/emulator.ts'
import { HarnessError } from '../emulator/errors.ts'
import type { PlatformEvent } from './format/schema.ts'
import { Bindings } from './match/bindings.ts'
import type { ReplayTarget } from './replay.ts'

/** Lifecycle event types a replay re-enacts on an emulator as an eviction. */
export const EVICT_EVENT_TYPES = new Set(['evict', 'evicted'])

/** The session or DO name a platform event is about, if any. */
export function eventSubject(event: PlatformEvent): string | undefined {
  const subject = event.detail.name ?? event.detail.object ?? event.detail.session
  return typeof subject === 'string' && subject !== '' ? subject : undefined
}

/**
 * Evicts a Durable Object the way a recorded `lifecycle/evicted` event says (hibernate by default).
 * @example await evictFromEvent(emulator, { t: 0, layer: 'lifecycle', type: 'evicted', detail: { name: 'streamable-http:abc' } })
 */
export async function evictFromEvent(emulator: Emulator, event: PlatformEvent): Promise<void> {
  const session = eventSubject(event)
  if (!session) throw new HarnessError('ERR_UNSUPPORTED', `Failed to re-enact ${event.layer}/${event.type}: the event names no session or Durable Object (detail.name).`)
  const webSockets = event.detail.webSockets === 'close' ? 'close' : 'hibernate'
  await hopSettled(emulator, session)
  await emulator.evict({ session, webSockets })
}

/**
 * Waits (bounded) until the Worker→DO hop of a session (of every session for '') has been quiet for `quietMs`.
 * @fixme A replay is faster than a client: the client's response can end while the hop's WebSocket
 * for it is still closing, and workerd then refuses the eviction for 30 s ("still has active
 * references"); the emulator's own quiesce does not count a closing socket yet.
 */
export async function hopSettled(emulator: Emulator, session: string, quietMs = 30, maxMs = 1_000): Promise<void> {
  const id = session.slice(session.indexOf(':') + 1)
  await new Promise<void>((resolve) => {
    let quiet = setTimeout(done, quietMs)
    const cap = setTimeout(done, maxMs)
    const off = emulator.transcript.on((e) => {
      if (e.layer !== 'hop' || (id !== '' && e.session !== id && !String(e.name ?? '').endsWith(id))) return
      clearTimeout(quiet)
      quiet = setTimeout(done, quietMs)
    })
    function done() {
      clearTimeout(quiet)
      clearTimeout(cap)
      off()
      resolve()
    }
  })
}

/**
 * A replay target over a running emulator: requests go to its front door, and the recorded
 * evictions and crashes of the replayed sessions happen for real.
 * @example await replay(cassette, { target: emulatorTarget(emulator) })
 */
export function emulatorTarget(emulator: Emulator): ReplayTarget {
  return {
    url: emulator.url,
    settle: () => hopSettled(emulator, ''),
    async onPlatformEvent(event) {
      if (event.layer !== 'lifecycle') return
      // An event about a session this replay never opened (its placeholder is unbound) is not ours.
      const subject = eventSubject(event)
      if (subject && Bindings.has(subject)) return
      if (EVICT_EVENT_TYPES.has(event.type)) await evictFromEvent(emulator, event)
      else if (event.type === 'crashed') await emulator.crash()
    },
  }
}
