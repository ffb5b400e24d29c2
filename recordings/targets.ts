import type { Emulator } from '../emulator/emulator.ts'
import { HarnessError, isHarnessError } from '../core/errors.ts'
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
  try {
    await evictWhenIdle(emulator, session, webSockets)
  } catch (error) {
    // Without the hop tap the emulator knows no sessions; the DO name in the event is enough for Miniflare.
    const className = emulator.worker.durableObjects[0]?.className
    if (!isHarnessError(error, 'ERR_UNKNOWN_SESSION') || !session.includes(':') || !className) throw error
    await emulator.miniflare.unsafeEvictDurableObject(emulator.worker.name, className, { name: session, webSockets })
  }
}

/**
 * Evicts a session's Durable Object once its last request has finished: a client (or a replay) may
 * have its answer before the Worker→DO hop of that request is done, and the emulator refuses to
 * evict a busy object (ERR_EVICT_BLOCKED, KI-32). Retries for up to `maxMs`.
 * @example const [name] = await evictWhenIdle(emulator, client.sessionId())
 */
export async function evictWhenIdle(emulator: Emulator, session: string, webSockets: 'hibernate' | 'close' = 'hibernate', maxMs = 2_000): Promise<string[]> {
  const deadline = performance.now() + maxMs
  for (;;) {
    await hopSettled(emulator, session)
    try {
      return await emulator.evict({ session, webSockets })
    } catch (error) {
      if (!isHarnessError(error) || error.code !== 'ERR_EVICT_BLOCKED' || performance.now() >= deadline) throw error
    }
  }
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
