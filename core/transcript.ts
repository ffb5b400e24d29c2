/**
 * The transcript: ordered, timestamped events of every layer. Assertions, cassettes, parity diffs and
 * reports are all views of it.
 * @example emulator.transcript.filter({ layer: 'client', type: 'sse' })
 */
import { z } from 'zod'
import { parseOptions } from './zod-error.ts'
import { DEFAULT_REDACTED_HEADERS, type Redactor } from './redact/index.ts'
import { redactEvent, redactHeaderRecord } from './redact/event.ts'

export type TranscriptLayer = 'client' | 'hop' | 'lifecycle' | 'upstream' | 'harness'

export interface TranscriptEvent {
  /** Position in the transcript: from 0, one more per event, for the emulator's lifetime (never reused, not even after `reset()`). */
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

/** Header names whose values never enter a transcript as they are (the redaction module's defaults). */
export const SENSITIVE_HEADERS = new Set(DEFAULT_REDACTED_HEADERS)

/** Copies headers into a plain object with lower-case names, sensitive values replaced. */
export function headersToRecord(headers: Headers | Record<string, string | string[] | undefined>): Record<string, string> {
  // Miniflare's responses carry undici's Headers, not the global class: test by shape.
  const out: Record<string, string> = {}
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    ;(headers as Headers).forEach((value, name) => (out[name.toLowerCase()] = value))
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    }
  }
  return redactHeaderRecord(out)
}

/** The type of the marker that stands for events dropped under `maxEvents`. */
export const TRUNCATED_EVENT = 'transcript:truncated'

/** Bound of a transcript; the emulator option `transcript`. */
export const TranscriptOptionsSchema = z
  .object({
    /**
     * Most events kept; past it the oldest are dropped (an eighth at a time) and one marker event
     * (`harness` / `transcript:truncated`, with `dropped`: how many so far) takes their place.
     */
    maxEvents: z.number().int().min(16).default(1_000_000),
  })
  .strict()
export type TranscriptOptions = z.input<typeof TranscriptOptionsSchema>
/** A bound that suits a long `serve` or container run (a test run keeps the generous default). */
export const SERVE_MAX_EVENTS = 100_000

export class Transcript {
  #events: TranscriptEvent[] = []
  readonly #listeners = new Set<TranscriptListener>()
  readonly #maxEvents: number
  readonly #start = performance.now()
  #nextSeq = 0
  #dropped = 0
  #nextExchange = 1

  constructor(options: TranscriptOptions = {}) {
    this.#maxEvents = parseOptions(TranscriptOptionsSchema, options, 'transcript options').maxEvents
  }

  /**
   * Appends an event (O(1) amortized) and tells every listener. The event is redacted first, with the
   * rules cassettes use (credential headers, OAuth codes, verifiers, tokens, client secrets): secrets
   * never sit in memory, nor reach `/v1/transcript`.
   */
  record(input: TranscriptEventInput, redactors?: Redactor[]): TranscriptEvent {
    const event = redactEvent(input, redactors) as TranscriptEvent
    event.seq = this.#nextSeq++
    event.t = Math.round((performance.now() - this.#start) * 10) / 10
    this.#events.push(event)
    if (this.#events.length > this.#maxEvents) this.#truncate()
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not break the traffic it observes.
      }
    }
    return event
  }

  /**
   * Drops the oldest events, an eighth of the bound at a time (so appending stays O(1) amortized),
   * and puts one marker in front that counts every event dropped so far. The marker carries the seq
   * and time of the last dropped event, so seqs stay contiguous and `since()` stays an index.
   */
  #truncate(): void {
    const target = this.#maxEvents - Math.max(1, Math.floor(this.#maxEvents / 8))
    const first = this.#events[0]?.type === TRUNCATED_EVENT && this.#events[0].layer === 'harness' ? 1 : 0
    const drop = this.#events.length - first - (target - 1)
    const last = this.#events[first + drop - 1]!
    this.#dropped += drop
    const marker: TranscriptEvent = { layer: 'harness', type: TRUNCATED_EVENT, dropped: this.#dropped, maxEvents: this.#maxEvents, seq: last.seq, t: last.t }
    this.#events.splice(0, first + drop, marker)
  }

  /** A new exchange number, unique within this transcript. */
  nextExchange(): number {
    return this.#nextExchange++
  }

  /**
   * The events kept, in order: a live read-only view, not a copy (it grows as events are recorded).
   * Copy it (`[...transcript.events]`) to keep a snapshot; use `since()` to read from a position.
   */
  get events(): readonly TranscriptEvent[] {
    return this.#events
  }

  /** The seq the next event will get: a cursor to pass to `since()` later. Never goes back, not even on `reset()`. */
  get nextSeq(): number {
    return this.#nextSeq
  }

  /** The last event recorded, if any is kept. */
  get last(): TranscriptEvent | undefined {
    return this.#events.at(-1)
  }

  /** How many events were dropped under `maxEvents` since the transcript started. */
  get dropped(): number {
    return this.#dropped
  }

  /**
   * Events with `seq >= seq`, in order (a copy of just those). When some were dropped under the bound,
   * the truncation marker comes first.
   * @example const from = transcript.nextSeq; await work(); const mine = transcript.since(from)
   */
  since(seq: number): TranscriptEvent[] {
    const first = this.#events[0]
    if (!first) return []
    // Seqs are contiguous from the first kept event: the position is an index, no search needed.
    return this.#events.slice(Math.max(0, seq - first.seq))
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

  /**
   * Drops all events. `seq` and the clock keep counting, so cursors (`since`) and positions stored
   * before stay valid: an event recorded after a reset never reuses a seq.
   */
  reset(): void {
    this.#events = []
  }

  toJSON(): TranscriptEvent[] {
    return [...this.#events]
  }
}
