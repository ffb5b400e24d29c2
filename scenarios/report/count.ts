import type { Cassette } from '../../recordings/format/schema.ts'

/** What a cassette holds, counted without the report's code: requests, responses, SSE events, ends, platform events. */
export function countCassetteEvents(cassette: Cassette): number {
  return cassette.interactions.reduce((n, i) => n + 1 + (i.response ? 2 + (i.response.sse?.length ?? 0) : 0), 0) + cassette.events.length
}
