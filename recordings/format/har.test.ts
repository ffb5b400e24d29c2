import { describe, expect, test } from 'vitest'
import { findSecrets } from '../../core/redact/scan.ts'
import { isHarnessError } from '../../core/errors.ts'
import { committedCassettes } from '../committed.ts'
import { loadCassette } from '../persist/fs.ts'
import { cassetteToHar, harToCassette } from './har.ts'
import { serializeCassette } from './serialize.ts'

describe('HAR in and out', () => {
  test.each(committedCassettes())('%s survives a round trip through HAR unchanged', async (file) => {
    const cassette = await loadCassette(file)
    const har = JSON.parse(JSON.stringify(cassetteToHar(cassette)))
    expect(serializeCassette(harToCassette(har))).toBe(serializeCassette(cassette))
  })

  test('exports standard HAR fields a viewer reads, with SSE events in _sseEvents', async () => {
    const cassette = await loadCassette('recordings/cassettes/sdk/streamable-http.json')
    const har = cassetteToHar(cassette, { origin: 'http://127.0.0.1:8788' }) as { log: { version: string; entries: Record<string, any>[] } }
    expect(har.log.version).toBe('1.2')
    const call = har.log.entries.find((e) => e.request.postData?.text.includes('"add"'))!
    expect(call.request.url).toBe('http://127.0.0.1:8788/mcp')
    expect(call.response.content.mimeType).toBe('text/event-stream')
    expect(call.response.content.text).toMatch(/^id: <event-\d+>\ndata: \{.*"text":"5"/)
    expect(call._sseEvents).toHaveLength(1)
    expect(JSON.parse(call._sseEvents[0].data).result.content[0].text).toBe('5')
    expect(typeof call.timings.wait).toBe('number')
  })

  test('imports a browser HAR: redacted, session ids as placeholders, SSE parsed from the stream text', () => {
    const session = '0123456789abcdef0123456789abcdef'
    const token = ['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIiOiJ1c2VyLTEyMyJ9', 'c2lnbmF0dXJlLXNpZ25hdHVyZQ'].join('.')
    const har = {
      log: {
        version: '1.2',
        creator: { name: 'WebInspector', version: '537.36' },
        entries: [
          {
            startedDateTime: '2026-12-01T10:00:00.000Z',
            time: 12,
            request: { method: 'POST', url: 'http://localhost:8788/mcp', headers: [{ name: 'Authorization', value: `Bearer ${token}` }, { name: 'Content-Type', value: 'application/json' }], postData: { mimeType: 'application/json', text: '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}' } },
            response: { status: 200, headers: [{ name: 'Content-Type', value: 'text/event-stream' }, { name: 'mcp-session-id', value: session }, { name: 'set-cookie', value: 'sid=abc' }], content: { mimeType: 'text/event-stream', text: 'event: message\ndata: {"jsonrpc":"2.0","id":0,"result":{"serverInfo":{"name":"x"}}}\n\n' } },
            timings: { wait: 10 },
          },
        ],
      },
    }
    const cassette = harToCassette(har, { meta: { client: 'chrome', scenario: 'browser' } })
    expect(cassette.meta).toMatchObject({ client: 'chrome', scenario: 'browser', recordedWith: 'har', transport: 'streamable-http' })
    const [first] = cassette.interactions
    expect(first!.request.headers.authorization).toBe('Bearer <redacted:authorization>')
    expect(first!.response!.headers['mcp-session-id']).toBe('<session-1>')
    expect(first!.response!.sse![0]!.data).toMatchObject({ result: { serverInfo: { name: 'x' } } })
    expect(findSecrets(cassette)).toEqual([])
  })

  test('a file that is not HAR fails with a clear error', () => {
    let error: unknown
    try {
      harToCassette({ entries: [] }, { source: 'x.har' })
    } catch (e) {
      error = e
    }
    expect(isHarnessError(error, 'ERR_CASSETTE')).toBe(true)
    expect((error as Error).message).toContain('Failed to import x.har: "log" ')
  })
})
