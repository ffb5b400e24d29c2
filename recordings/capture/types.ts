/** One SSE event as it passed the capture, data verbatim. */
export interface CapturedSseEvent {
  /** Milliseconds since the capture started. */
  t: number
  event?: string
  id?: string
  retry?: number
  data: string
}

/** One WebSocket message or close as it passed the capture; text verbatim, binary in base64. */
export interface CapturedWsFrame {
  t: number
  from: 'client' | 'server'
  data?: string
  binary?: string
  close?: { code: number; reason: string }
}

/** One HTTP exchange as a capture saw it, before redaction and normalization. */
export interface CapturedExchange {
  id: number
  /** When the request started, ms since the capture started. */
  t: number
  request: { method: string; path: string; query: string; headers: Record<string, string>; bodyText?: string }
  response?: {
    t: number
    status: number
    headers: Record<string, string>
    bodyText?: string
    sse?: CapturedSseEvent[]
    /** After a 101 upgrade: the WebSocket frames, both directions. */
    ws?: CapturedWsFrame[]
    end?: { t: number; reason: string }
  }
}

/** A platform event captured beside the HTTP traffic (hop, lifecycle, or a harness mark such as an eviction). */
export interface CapturedPlatformEvent {
  t: number
  layer: 'hop' | 'lifecycle' | 'harness'
  type: string
  detail: Record<string, unknown>
}

/** Everything a capture saw of one session. */
export interface CapturedSession {
  exchanges: CapturedExchange[]
  events: CapturedPlatformEvent[]
  /** Origins of the recorded server (e.g. `http://127.0.0.1:8788`); the cassette writes them as `<origin>`. */
  origins?: string[]
}

/**
 * How traffic is captured; a capture never touches disk (STYLE.md #1).
 * @example const capture = createRecordingProxy({ target }); await capture.start(); …; const session = capture.snapshot()
 */
export interface Capture {
  start(onExchange?: (exchange: CapturedExchange) => void): Promise<void>
  stop(): Promise<void>
  /** What was captured so far (a copy); open streams appear with `end` missing. */
  snapshot(): CapturedSession
}
