import type { Transcript, TranscriptEvent } from '../../core/transcript.ts'
import type { Capture, CapturedExchange, CapturedPlatformEvent, CapturedSession } from './types.ts'

const PLATFORM_LAYERS = new Set(['hop', 'lifecycle'])
const BASE_KEYS = new Set(['seq', 't', 'layer', 'type', 'exchange'])

function asText(event: TranscriptEvent, key: 'body' | 'data'): string | undefined {
  if (event[key] !== undefined) return JSON.stringify(event[key])
  const text = event[`${key}Text`]
  return typeof text === 'string' ? text : undefined
}

/**
 * Converts emulator transcript events (client layer, plus hop and lifecycle) into a captured session,
 * ready for `buildCassette`.
 * @example const cassette = buildCassette(sessionFromTranscript(emulator.transcript.events), meta)
 */
export function sessionFromTranscript(events: readonly TranscriptEvent[]): CapturedSession {
  const byExchange = new Map<number, CapturedExchange>()
  const platform: CapturedPlatformEvent[] = []
  for (const event of events) {
    if (PLATFORM_LAYERS.has(event.layer)) {
      const detail = Object.fromEntries(Object.entries(event).filter(([key]) => !BASE_KEYS.has(key)))
      platform.push({ t: event.t, layer: event.layer as 'hop' | 'lifecycle', type: event.type, detail })
      continue
    }
    if (event.layer !== 'client' || event.exchange === undefined) continue
    if (event.type === 'request') {
      byExchange.set(event.exchange, {
        id: event.exchange,
        t: event.t,
        request: {
          method: String(event.method),
          path: String(event.path),
          query: String(event.query ?? ''),
          headers: (event.headers as Record<string, string>) ?? {},
          bodyText: asText(event, 'body'),
        },
      })
      continue
    }
    const x = byExchange.get(event.exchange)
    if (!x) continue
    if (event.type === 'response') {
      const headers = (event.headers as Record<string, string>) ?? {}
      x.response = { t: event.t, status: Number(event.status), headers, ...((headers['content-type'] ?? '').includes('text/event-stream') ? { sse: [] } : {}) }
    } else if (event.type === 'sse' && x.response) {
      x.response.sse ??= []
      x.response.sse.push({ t: event.t, event: String(event.event ?? 'message'), ...(event.id !== undefined ? { id: String(event.id) } : {}), data: asText(event, 'data') ?? '' })
    } else if (event.type === 'sse-retry' && x.response) {
      x.response.sse?.push({ t: event.t, event: 'retry', retry: Number(event.retry), data: '' })
    } else if (event.type === 'body' && x.response) {
      x.response.bodyText = asText(event, 'body')
    } else if (event.type === 'end' && x.response) {
      x.response.end = { t: event.t, reason: String(event.reason ?? 'complete') }
    }
  }
  // Keep the platform events of this capture's sessions (and global ones), not of other clients' sessions.
  const sessions = new Set<string>()
  for (const x of byExchange.values()) {
    const id = x.request.headers['mcp-session-id'] ?? x.response?.headers['mcp-session-id'] ?? new URLSearchParams(x.request.query).get('sessionId')
    if (id) sessions.add(id)
  }
  const ours = (event: CapturedPlatformEvent) => {
    const session = event.detail.session
    return typeof session !== 'string' || session === '' || sessions.has(session)
  }
  return { exchanges: [...byExchange.values()], events: platform.filter(ours) }
}

/**
 * A capture over an emulator's transcript: everything recorded between start() and stop().
 * @example const tap = tapTranscript(emulator.transcript); await tap.start(); …; buildCassette(tap.snapshot(), meta)
 */
export function tapTranscript(transcript: Transcript): Capture {
  // Cursors are seqs, not array positions: they stay valid when the transcript drops old events or is reset.
  let from = 0
  let to: number | undefined
  let off: (() => void) | undefined
  return {
    async start(onExchange) {
      from = transcript.nextSeq
      to = undefined
      if (onExchange) {
        off = transcript.on((event) => {
          if (event.layer !== 'client' || event.type !== 'end') return
          const x = sessionFromTranscript(transcript.since(from)).exchanges.find((e) => e.id === event.exchange)
          if (x) onExchange(x)
        })
      }
    },
    async stop() {
      off?.()
      to = transcript.nextSeq
    },
    snapshot: () => sessionFromTranscript(transcript.since(from).filter((event) => to === undefined || event.seq < to)),
  }
}
