import { describe, expect, test } from 'vitest'
import type { CapturedExchange } from './capture.ts'
import { firstDifference } from './compare.ts'
import { normalizeRun } from './normalize.ts'
import { sideBySide } from './report.ts'

const SESSION_A = 'a'.repeat(64)
const SESSION_B = 'b'.repeat(64)

function exchange(seq: number, over: Partial<CapturedExchange> & { status?: number; responseHeaders?: Record<string, string>; body?: string; events?: { id?: string; data: string }[] } = {}): CapturedExchange {
  return {
    seq,
    request: over.request ?? { method: 'POST', path: '/mcp', query: '', headers: { accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' },
    response: {
      status: over.status ?? 200,
      headers: over.responseHeaders ?? { 'content-type': 'application/json' },
      ...(over.events ? { events: over.events, ended: 'end' as const } : { body: over.body ?? '{"jsonrpc":"2.0","id":1,"result":{}}' }),
    },
  }
}

describe('normalizeRun', () => {
  test('turns two different session ids into the same placeholder in wire order', () => {
    const run = (session: string) =>
      normalizeRun({ outcome: 'pass', exchanges: [exchange(0, { responseHeaders: { 'content-type': 'application/json', 'mcp-session-id': session, date: 'Wed, 02 Dec 2026 12:00:00 GMT', 'x-powered-by': 'a' } })] }, 'http://127.0.0.1:1234')
    const a = run(SESSION_A)
    const b = run(SESSION_B)
    expect(a.exchanges[0]!.response!.headers).toEqual({ 'content-type': 'application/json', 'mcp-session-id': '<id-1>' })
    expect(firstDifference(a, b)).toBeUndefined()
  })

  test('replaces the target origin, event stream ids and stack frames', () => {
    const run = (origin: string, stream: string, frame: string) =>
      normalizeRun(
        {
          outcome: 'fail',
          error: `boom at ${origin}/mcp`,
          exchanges: [exchange(0, { responseHeaders: { 'content-type': 'text/event-stream', 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource"` }, events: [{ id: `${stream}:1`, data: `SyntaxError: bad\n    at ${frame}` }] })],
        },
        origin,
      )
    const a = run('http://127.0.0.1:1111', 'stream-one', 'index.js:10:5')
    const b = run('http://127.0.0.1:2222', 'stream-two', 'worker.js:99:1')
    expect(a.exchanges[0]!.response!.events).toEqual([{ id: '<stream-1>:1', data: 'SyntaxError: bad' }])
    expect(a.exchanges[0]!.response!.headers['www-authenticate']).toBe('Bearer resource_metadata="<origin>/.well-known/oauth-protected-resource"')
    expect(a.error).toBe('boom at <origin>/mcp')
    expect(firstDifference(a, b)).toBeUndefined()
  })

  test('compares the responses of a batch as a set but keeps notifications in order', () => {
    const batch = (first: number, second: number) =>
      normalizeRun({ outcome: 'pass', exchanges: [exchange(0, { responseHeaders: { 'content-type': 'text/event-stream' }, events: [{ data: '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}' }, { data: `{"jsonrpc":"2.0","id":${first},"result":{}}` }, { data: `{"jsonrpc":"2.0","id":${second},"result":{}}` }] })] }, '')
    expect(firstDifference(batch(5, 6), batch(6, 5))).toBeUndefined()
    const reordered = normalizeRun({ outcome: 'pass', exchanges: [exchange(0, { responseHeaders: { 'content-type': 'text/event-stream' }, events: [{ data: '{"jsonrpc":"2.0","id":5,"result":{}}' }, { data: '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}' }] })] }, '')
    expect(firstDifference(batch(5, 6), reordered)?.fields).toContain('events')
  })
})

describe('firstDifference', () => {
  test('names the first differing exchange and what differs there', () => {
    const ok = normalizeRun({ outcome: 'pass', exchanges: [exchange(0), exchange(1)] }, '')
    const bad = normalizeRun({ outcome: 'fail', error: 'expected 200', exchanges: [exchange(0), exchange(1, { status: 400, body: '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request"}}' })] }, '')
    expect(firstDifference(ok, bad)).toMatchObject({ exchange: '#2 POST /mcp ping', fields: ['status', 'body'], outcomes: ['pass', 'fail: expected 200'] })
  })

  test('reports a missing exchange, and an outcome-only difference as "outcome"', () => {
    const one = normalizeRun({ outcome: 'pass', exchanges: [exchange(0)] }, '')
    const two = normalizeRun({ outcome: 'pass', exchanges: [exchange(0), exchange(1)] }, '')
    expect(firstDifference(one, two)).toMatchObject({ exchange: '#2 POST /mcp ping', fields: ['missing'] })
    expect(firstDifference(one, { ...one, outcome: 'fail', error: 'x' })).toMatchObject({ exchange: 'outcome', left: 'pass', right: 'fail: x' })
  })
})

test('sideBySide marks changed, removed and added lines and folds long equal stretches', () => {
  const left = ['{', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'status: 200', '}']
  const right = ['{', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'status: 400', 'extra', '}']
  const rows = sideBySide(left, right, 1, 20)
  expect(rows[0]).toContain('…')
  expect(rows.some((row) => /status: 200\s+\| status: 400/.test(row))).toBe(true)
  expect(rows.some((row) => /> extra/.test(row))).toBe(true)
})
