/**
 * Client-layer capture for parity runs: a `fetch` that records every HTTP exchange a scripted
 * client makes (request, status, headers, body, SSE events as they arrive), so that two runs of
 * the same scenario on two targets can be normalized and compared. The capture never touches disk.
 */
import { createParser } from 'eventsource-parser'

/** One SSE event as the client received it. */
export interface CapturedEvent {
  event?: string
  id?: string
  data: string
}

/** One HTTP request and what came back, in the order the client issued the requests. */
export interface CapturedExchange {
  /** Position among the run's exchanges (issue order). */
  seq: number
  /** Label of the scenario step that issued it (`step()`), if any. */
  step?: string
  request: { method: string; path: string; query: string; headers: Record<string, string>; body?: string }
  response?: {
    status: number
    headers: Record<string, string>
    /** The whole body when it was not an event stream. */
    body?: string
    /** Events of an event stream, in arrival order. */
    events?: CapturedEvent[]
    /** How the stream ended: `end` (server closed), `aborted` (client closed), `open` (still open when the run ended). */
    ended?: 'end' | 'aborted' | 'open'
  }
  /** The network error when no response came (refused, timed out). */
  error?: string
  /**
   * The client read only part of a stream on purpose (e.g. aborted after the first event), so how
   * many events arrived depends on timing: compared by status and headers only.
   */
  partial?: boolean
}

/** Request header a scenario sets to mark its exchange `partial`; removed before sending. */
export const PARTIAL_HEADER = 'x-mcp-harness-partial'

/** A recording fetch plus what it recorded. */
export interface Capture {
  /** Use as the `fetch` of SDK transports and raw steps. */
  readonly fetch: typeof fetch
  readonly exchanges: CapturedExchange[]
  /** Names the scenario step that the next exchanges belong to. */
  step(label: string | undefined): void
  /**
   * Waits (bounded) for requests still awaiting their response and for finite bodies still being
   * read: a client may finish a step before the answer to its POST arrives (on legacy SSE the
   * result comes on the stream first). Streams still open stay `open`.
   */
  settle(timeoutMs?: number): Promise<void>
  /** Aborts every request still open (streams the scenario left behind), so nothing outlives the run. */
  close(): void
}

const headerRecord = (headers: Headers): Record<string, string> => Object.fromEntries([...headers].map(([name, value]) => [name.toLowerCase(), value]))

/**
 * Creates a capture whose `fetch` forwards to the real one (or `inner`), adding `extraHeaders`
 * (e.g. `Authorization` for a protected `url=` target) to every request.
 * @example const capture = createCapture(); await new StreamableHTTPClientTransport(url, { fetch: capture.fetch })
 */
export function createCapture(options: { inner?: typeof fetch; extraHeaders?: Record<string, string> } = {}): Capture {
  const inner = options.inner ?? globalThis.fetch
  const exchanges: CapturedExchange[] = []
  const pending = new Set<Promise<void>>()
  let currentStep: string | undefined
  const closeAll = new AbortController()

  const capturingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    for (const [name, value] of Object.entries(options.extraHeaders ?? {})) request.headers.set(name, value)
    const partial = request.headers.has(PARTIAL_HEADER)
    request.headers.delete(PARTIAL_HEADER)
    const url = new URL(request.url)
    const body = request.body ? await request.clone().text() : undefined
    const exchange: CapturedExchange = {
      seq: exchanges.length,
      ...(currentStep ? { step: currentStep } : {}),
      ...(partial ? { partial } : {}),
      request: { method: request.method, path: url.pathname, query: url.search, headers: headerRecord(request.headers), ...(body !== undefined ? { body } : {}) },
    }
    exchanges.push(exchange)
    let response: Response
    let answered!: () => void
    const awaiting = new Promise<void>((resolve) => (answered = resolve))
    pending.add(awaiting)
    void awaiting.finally(() => pending.delete(awaiting))
    try {
      const signal = AbortSignal.any([request.signal, closeAll.signal])
      response = await inner(new Request(url, { method: request.method, headers: request.headers, body, signal, redirect: request.redirect }))
    } catch (error) {
      exchange.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      throw error
    } finally {
      answered()
    }
    const headers = headerRecord(response.headers)
    exchange.response = { status: response.status, headers }
    if (!response.body) {
      exchange.response.body = ''
      return response
    }
    const [forClient, forCapture] = response.body.tee()
    const captured = exchange.response
    const isStream = (headers['content-type'] ?? '').includes('text/event-stream')
    // GET streams may stay open for the whole run; a POST's answer (JSON or SSE) ends with the
    // request, so settle() waits for those.
    const reading = (async () => {
      const decoder = new TextDecoder()
      if (isStream) {
        captured.events = []
        captured.ended = 'open'
        const parser = createParser({ onEvent: (event) => captured.events!.push({ ...(event.event ? { event: event.event } : {}), ...(event.id ? { id: event.id } : {}), data: event.data }) })
        try {
          for await (const chunk of forCapture as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
          captured.ended = 'end'
        } catch {
          captured.ended = 'aborted'
        }
      } else {
        let text = ''
        try {
          for await (const chunk of forCapture as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true })
        } catch {
          // The client gave up on the body: keep what arrived.
        }
        captured.body = text
      }
    })()
    if (!isStream || request.method !== 'GET') {
      pending.add(reading)
      void reading.finally(() => pending.delete(reading))
    }
    return new Response(forClient, { status: response.status, statusText: response.statusText, headers: response.headers })
  }

  return {
    fetch: capturingFetch as typeof fetch,
    exchanges,
    step(label) {
      currentStep = label
    },
    async settle(timeoutMs = 1_000) {
      // A request that gets its answer adds the reading of its body: wait again until nothing is left.
      const deadline = Date.now() + timeoutMs
      while (pending.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, deadline - Date.now()).unref())])
      }
    },
    close() {
      for (const exchange of exchanges) if (exchange.response?.ended === 'open') exchange.response.ended = 'aborted'
      closeAll.abort()
    },
  }
}
