import { describe, expect, test } from 'vitest'
import { Transcript, TRUNCATED_EVENT } from './transcript.ts'

const record = (transcript: Transcript, n: number) => {
  for (let i = 0; i < n; i++) transcript.record({ layer: 'client', type: 'request', n: i })
}

describe('Transcript', () => {
  test('seq keeps counting across reset(): cursors taken before stay valid', () => {
    const transcript = new Transcript()
    record(transcript, 3)
    const cursor = transcript.nextSeq
    transcript.reset()
    expect(transcript.events).toEqual([])
    record(transcript, 2)
    expect(transcript.events.map((e) => e.seq)).toEqual([3, 4])
    expect(transcript.since(cursor).map((e) => e.seq)).toEqual([3, 4])
    expect(transcript.since(4).map((e) => e.seq)).toEqual([4])
    expect(transcript.nextSeq).toBe(5)
  })

  test('time keeps counting across reset()', () => {
    const transcript = new Transcript()
    const before = transcript.record({ layer: 'client', type: 'x' })
    transcript.reset()
    expect(transcript.record({ layer: 'client', type: 'y' }).t).toBeGreaterThanOrEqual(before.t)
  })

  test('events is a live view, not a copy', () => {
    const transcript = new Transcript()
    const view = transcript.events
    record(transcript, 2)
    expect(view).toBe(transcript.events)
    expect(view).toHaveLength(2)
    expect(transcript.last?.seq).toBe(1)
  })

  test('since() returns only the events from the cursor on, and nothing past the end', () => {
    const transcript = new Transcript()
    record(transcript, 10)
    expect(transcript.since(7).map((e) => e.n)).toEqual([7, 8, 9])
    expect(transcript.since(10)).toEqual([])
    expect(transcript.since(0)).toHaveLength(10)
  })

  test('over maxEvents the oldest are dropped, with one marker counting them, and seqs stay contiguous', () => {
    const transcript = new Transcript({ maxEvents: 16 })
    record(transcript, 100)
    const events = transcript.events
    expect(events.length).toBeLessThanOrEqual(16)
    expect(events.filter((e) => e.type === TRUNCATED_EVENT)).toHaveLength(1)
    const [marker, ...kept] = events
    expect(marker).toMatchObject({ layer: 'harness', type: TRUNCATED_EVENT, dropped: transcript.dropped })
    expect(transcript.dropped + kept.length).toBe(100)
    expect(kept.at(-1)).toMatchObject({ seq: 99, n: 99 })
    events.forEach((event, index) => expect(event.seq).toBe(marker!.seq + index))
    // A cursor into the dropped range gets the marker first, so the reader learns what it missed.
    expect(transcript.since(0)[0]).toBe(marker)
    expect(transcript.since(98).map((e) => e.n)).toEqual([98, 99])
  })

  test('listeners see every event, the marker is not an event of its own', () => {
    const transcript = new Transcript({ maxEvents: 16 })
    const seen: number[] = []
    transcript.on((event) => seen.push(event.seq))
    record(transcript, 40)
    expect(seen).toEqual([...Array(40).keys()])
  })

  test('appending stays linear at the bound (no copy per event)', () => {
    const transcript = new Transcript({ maxEvents: 10_000 })
    record(transcript, 200_000)
    expect(transcript.events.length).toBeLessThanOrEqual(10_000)
    expect(transcript.nextSeq).toBe(200_000)
  })

  test('refuses a bound too small to keep anything useful', () => {
    expect(() => new Transcript({ maxEvents: 3 })).toThrow(/maxEvents/)
  })
})
