/**
 * The live view (`mcp-harness serve --ui`): the report of the running emulator's transcript, served by
 * the control plane under `/ui`, with new events appended as they happen (the page polls `/ui/events`).
 */
import type { TranscriptEvent } from '../core/transcript.ts'
import { transcriptModel } from './model.ts'
import { renderModel, renderRows } from './render.ts'

export interface LiveViewResponse {
  status: number
  type: string
  body: string
}

/**
 * Answers `GET /ui` (the page) and `GET /ui/events?since=<seq>` (rows drawn after `since`, as JSON);
 * the control plane checks the token before it calls this.
 * @example startControlPlane(emulator, {}, { ui: createLiveView(emulator) })
 */
export function createLiveView(source: { transcript: { events: readonly TranscriptEvent[] } }, title = 'live session'): (pathname: string, query: URLSearchParams) => LiveViewResponse {
  return (pathname, query) => {
    // Sessions are known from the whole transcript (a response names the session its request opened).
    const all = source.transcript.events
    const model = transcriptModel(all, title)
    model.summary = ['the running emulator\'s transcript; new events are appended as they happen']
    if (pathname === '/ui' || pathname === '/ui/') return { status: 200, type: 'text/html; charset=utf-8', body: renderModel(model, { live: { next: all.length } }) }
    if (pathname === '/ui/events') {
      const since = Number(query.get('since') ?? 0)
      if (!Number.isInteger(since) || since < 0) return { status: 400, type: 'application/json', body: JSON.stringify({ error: { code: 'ERR_CONTROL', message: `[mcp-harness] ERR_CONTROL: "since" must be a transcript position (an integer >= 0), got "${query.get('since')}".` } }) }
      // After a transcript reset positions restart: the page reloads to start over.
      if (since > all.length) return { status: 200, type: 'application/json', body: JSON.stringify({ reset: true, html: '', events: [], next: 0 }) }
      const rows = renderRows(model.events.filter((event) => event.seq >= since))
      return { status: 200, type: 'application/json', body: JSON.stringify({ ...rows, next: all.length }) }
    }
    return { status: 404, type: 'application/json', body: JSON.stringify({ error: { code: 'ERR_CONTROL', message: `[mcp-harness] ERR_CONTROL: no page ${pathname}; the live view is /ui.` } }) }
  }
}
