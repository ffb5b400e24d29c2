/**
 * The transcript: ordered, timestamped events of every layer. Assertions, cassettes, parity diffs and
 * reports are all views of it.
 * @example emulator.transcript.filter({ layer: 'client', type: 'sse' })
 */
export type TranscriptLayer = 'client' | 'hop' | 'lifecycle' | 'upstream' | 'harness'

export interface TranscriptEvent {
  /** Position in the transcript, from 0. */
  seq: number
  /** Milliseconds since the transcript started (0.1 ms resolution). */
  t: number
  layer: TranscriptLayer
  /** What happened, e.g. `request`, `response`, `sse`, `end` on the client layer. */
  type: string
  /** Groups the events of one HTTP exchange (client layer) or one hop interaction. */
  exchange?: number
  [key: string]: unknown
}

export type TranscriptEventInput = Omit<TranscriptEvent, 'seq' | 't'>
export type TranscriptListener = (event: TranscriptEvent) => void

/** Header names whose values never enter a transcript as they are (STYLE: redact before anything persists). */
export const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'cf-access-client-secret',
])

/** Copies headers into a plain object with lower-case names, sensitive values replaced. */
export function headersToRecord(headers: Headers | Record<string, string | string[] | undefined>): Record<string, string> {
  // Miniflare's responses carry undici's Headers, not the global class: test by shape.
  const out: Record<string, string> = {}
  const set = (name: string, value: string) => {
    const key = name.toLowerCase()
    out[key] = SENSITIVE_HEADERS.has(key) ? redactValue(key, value) : value
  }
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    ;(headers as Headers).forEach((value, name) => set(name, value))
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue
      set(name, Array.isArray(value) ? value.join(', ') : value)
    }
  }
  return out
}

function redactValue(name: string, value: string): string {
  // Keep the scheme so a reader can still tell Bearer from Basic.
  if (name === 'authorization' || name === 'proxy-authorization') {
    const scheme = value.split(' ')[0]
    return value.includes(' ') ? `${scheme} [redacted]` : '[redacted]'
  }
  return '[redacted]'
}

export class Transcript {
  readonly #events: TranscriptEvent[] = []
  readonly #listeners = new Set<TranscriptListener>()
  #start = performance.now()
  #nextExchange = 1

  /** Appends an event and tells every listener. */
  record(input: TranscriptEventInput): TranscriptEvent {
    const event = {
      ...input,
      seq: this.#events.length,
      t: Math.round((performance.now() - this.#start) * 10) / 10,
    } as TranscriptEvent
    this.#events.push(event)
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not break the traffic it observes.
      }
    }
    return event
  }

  /** A new exchange number, unique within this transcript. */
  nextExchange(): number {
    return this.#nextExchange++
  }

  /** All events so far (a copy). */
  get events(): TranscriptEvent[] {
    return [...this.#events]
  }

  /** Events matching every given field. */
  filter(match: Partial<Pick<TranscriptEvent, 'layer' | 'type' | 'exchange'>> & Record<string, unknown>): TranscriptEvent[] {
    return this.#events.filter((event) => Object.entries(match).every(([key, value]) => event[key] === value))
  }

  /** Subscribes to new events; returns the unsubscribe function. */
  on(listener: TranscriptListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Resolves with the first event (already recorded or future) that satisfies `predicate`.
   * @example await transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'evicted', 2000)
   */
  waitFor(predicate: (event: TranscriptEvent) => boolean, timeoutMs = 5_000): Promise<TranscriptEvent> {
    const found = this.#events.find(predicate)
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off()
        reject(new Error(`[mcp-harness] no matching transcript event within ${timeoutMs} ms`))
      }, timeoutMs)
      const off = this.on((event) => {
        if (!predicate(event)) return
        clearTimeout(timer)
        off()
        resolve(event)
      })
    })
  }

  /** Drops all events and restarts the clock. */
  reset(): void {
    this.#events.length = 0
    this.#start = performance.now()
  }

  toJSON(): TranscriptEvent[] {
    return this.events
  }
}
