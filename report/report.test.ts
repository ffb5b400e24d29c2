import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { committedCassettes } from '../recordings/committed.ts'
import { cassetteEvents, cassetteModel, createLiveView, parityModel, renderReport, reportMode, toModel, transcriptModel } from './index.ts'
import { Transcript } from '../core/transcript.ts'
import type { TranscriptEvent } from '../core/transcript.ts'
import type { Cassette } from '../recordings/format/schema.ts'
import { countCassetteEvents } from '../scenarios/report/count.ts'

const drawn = (html: string) => html.match(/<div class="ev [^"]*" tabindex="0" data-seq="\d+" data-layer="[a-z]+"/g) ?? []

const load = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Cassette

describe('report model', () => {
  test('a committed cassette draws one element per request, response, SSE event, end and platform event', () => {
    for (const file of committedCassettes()) {
      const cassette = load(file)
      const html = renderReport(cassette)
      expect(drawn(html), file).toHaveLength(countCassetteEvents(cassette))
      expect(html).toContain(`data-events="${countCassetteEvents(cassette)}"`)
    }
  })

  test('KI-11: the hibernation cassette marks the eviction on the Durable Object lane', () => {
    const model = cassetteModel(load('recordings/cassettes/sdk/hibernation.json'))
    const eviction = model.events.find((e) => e.type === 'evicted')
    expect(eviction).toMatchObject({ kind: 'eviction', from: 'do', layer: 'lifecycle' })
    expect(model.sessions).toEqual(['<session-1>'])
  })

  test('cassette events come out in time order with sequence numbers from 0', () => {
    const events = cassetteEvents(load('recordings/cassettes/sdk/progress-elicitation.json'))
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i))
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t)
  })

  test('a transcript maps each layer to its lanes: client arrows, hop arrows, marks for faults, timeouts and CORS verdicts', () => {
    const events: TranscriptEvent[] = [
      { seq: 0, t: 0, layer: 'client', type: 'request', exchange: 1, method: 'POST', path: '/mcp', headers: { 'mcp-session-id': 's1' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call' } },
      { seq: 1, t: 1, layer: 'hop', type: 'frame', exchange: 1, session: 's1', direction: 'worker->do', methods: ['tools/call'] },
      { seq: 2, t: 2, layer: 'hop', type: 'fault', session: 's1', fault: 'f1', action: 'drop' },
      { seq: 3, t: 3, layer: 'upstream', type: 'request', exchange: 7, method: 'POST', url: 'https://idp.example/token' },
      { seq: 4, t: 4, layer: 'harness', type: 'timeout:inactivity', exchange: 1 },
      { seq: 5, t: 5, layer: 'harness', type: 'cors:preflight', exchange: 1, ok: false },
      { seq: 6, t: 6, layer: 'lifecycle', type: 'crashed', sessions: [] },
      { seq: 7, t: 7, layer: 'client', type: 'response', exchange: 1, status: 500, headers: {} },
    ]
    const model = transcriptModel(events)
    expect(model.events.map((e) => [e.from, e.to ?? null, e.kind])).toEqual([
      ['client', 'front', 'message'],
      ['worker', 'do', 'message'],
      ['hop', null, 'fault'],
      ['worker', 'upstream', 'message'],
      ['worker', null, 'timeout'],
      ['front', null, 'cors'],
      ['do', null, 'crash'],
      ['front', 'client', 'error'],
    ])
    expect(model.events[7]!.session).toBe('s1')
  })

  test('headers and bodies are redacted before they reach the page', () => {
    const html = renderReport([
      { seq: 0, t: 0, layer: 'client', type: 'request', exchange: 1, method: 'POST', path: '/token', headers: { authorization: 'Bearer sk-live-123', 'x-api-key': 'k-999' }, body: { refresh_token: 'rt-secret-1', password: 'hunter2' } },
    ])
    for (const secret of ['sk-live-123', 'k-999', 'rt-secret-1', 'hunter2']) expect(html).not.toContain(secret)
    expect(html).toContain('Bearer \\u003credacted:authorization\\u003e')
  })

  test('markup in bodies, labels and session ids is escaped, never injected', () => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'
    const html = renderReport([
      { seq: 0, t: 0, layer: 'client', type: 'request', exchange: 1, method: 'POST', path: `/${evil}`, headers: { 'mcp-session-id': `"${evil}` }, body: { jsonrpc: '2.0', id: 1, method: evil } },
    ])
    expect(html).not.toContain('<script>alert')
    expect(html).not.toContain('<img src=x')
    expect(html.match(/<script/g)).toHaveLength(2)
  })

  test('replay mismatches are marked on the answer and carry recorded and received values', () => {
    const cassette = load('recordings/cassettes/sdk/streamable-http.json')
    const model = toModel({ cassette, mismatches: [{ interaction: 5, request: 'tools/call (id 2)', where: 'sse event 1', difference: { path: 'result.content.0.text', matcher: 'equal', expected: '5', received: '6' } }] })
    const marked = model.events.filter((e) => e.mismatch)
    expect(marked).toHaveLength(1)
    expect(marked[0]).toMatchObject({ kind: 'mismatch', type: 'sse', mismatch: { recorded: '5', received: '6' } })
    const html = renderReport({ cassette, mismatches: [{ interaction: 3, where: 'status', difference: { path: '(message)', matcher: 'equal', expected: 200, received: 500 } }] })
    expect(html).toContain('data-mismatches="1"')
    expect(html).toMatch(/<pre class="recorded">200<\/pre>.*<pre class="received">500<\/pre>/s)
  })

  test('a parity result draws one highlighted element per difference, reference left and target right', () => {
    const model = parityModel({
      reference: 'emulator',
      targets: [{ name: 'emulator', status: 'ran' }, { name: 'wrangler-dev', status: 'ran' }],
      scenarios: [
        { id: 'protocol/empty-header', cells: { emulator: { state: 'pass' }, 'wrangler-dev': { state: 'differs', difference: { exchange: '#2 POST', fields: ['status'], left: { status: 400 }, right: { status: 200 }, outcomes: ['pass', 'pass'] } } } },
        { id: 'lifecycle/init', cells: { emulator: { state: 'pass' }, 'wrangler-dev': { state: 'equal' } } },
      ],
    })
    expect(model.events).toHaveLength(1)
    expect(model.events[0]!.mismatch).toMatchObject({ recorded: { status: 400 }, received: { status: 200 } })
  })

  test('input that is none of the known shapes is refused with a clear error', () => {
    expect(() => renderReport({ hello: 1 })).toThrow(/Cannot draw a report from this input/)
    expect(() => renderReport([{ nope: true }])).toThrow(/transcript event 0 lacks/)
    expect(() => renderReport({ version: 99, interactions: [] })).toThrow(/format version 99/)
  })

  test('MCP_HARNESS_REPORT defaults to on-failure in CI and off elsewhere; a wrong value is an error', () => {
    expect(reportMode({ CI: 'true' })).toBe('on-failure')
    expect(reportMode({})).toBe('off')
    expect(reportMode({ CI: 'true', MCP_HARNESS_REPORT: 'off' })).toBe('off')
    expect(() => reportMode({ MCP_HARNESS_REPORT: 'sometimes' })).toThrow(/MCP_HARNESS_REPORT/)
  })

  test('the live view sends only the rows after "since", asks the page to start over after a reset, and refuses a bad position', () => {
    const transcript = new Transcript()
    const view = createLiveView({ transcript: { get events() { return transcript.events } } })
    transcript.record({ layer: 'lifecycle', type: 'evicted', session: 's1', why: 'manual' })
    const page = view('/ui', new URLSearchParams())
    expect(page.status).toBe(200)
    expect(page.body).toContain('data-next="1"')
    transcript.record({ layer: 'lifecycle', type: 'woke', session: 's1' })
    const update = JSON.parse(view('/ui/events', new URLSearchParams('since=1')).body) as { html: string; events: { seq: number }[]; next: number }
    expect(update.events.map((e) => e.seq)).toEqual([1])
    expect(update.html).toContain('data-kind="wake"')
    expect(update.next).toBe(2)
    transcript.reset()
    expect(JSON.parse(view('/ui/events', new URLSearchParams('since=2')).body)).toMatchObject({ reset: true, next: 0 })
    expect(view('/ui/events', new URLSearchParams('since=-1')).status).toBe(400)
    expect(view('/ui/other', new URLSearchParams()).status).toBe(404)
  })
})

describe('reportOnFailure', () => {
  test('keeps the failing test\'s own exchanges: a late event of an exchange an earlier test started stays out', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const os = await import('node:os')
    const path = await import('node:path')
    const { reportOnFailure } = await import('./on-failure.ts')
    const transcript = new Transcript()
    transcript.record({ layer: 'client', type: 'request', exchange: 1, method: 'GET', url: '/earlier' })
    const fromSeq = transcript.nextSeq
    transcript.record({ layer: 'client', type: 'end', exchange: 1 }) // the earlier test's exchange ends late
    transcript.record({ layer: 'client', type: 'request', exchange: 2, method: 'GET', url: '/health' })
    transcript.record({ layer: 'client', type: 'end', exchange: 2 })
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-report-unit-'))
    try {
      const html = readFileSync(reportOnFailure({ transcript }, 'late events', { dir, fromSeq }), 'utf8')
      expect(drawn(html).map((div) => div.replace(/.*data-seq="(\d+)".*/, '$1'))).toEqual(['2', '3'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
