// Issue 11 item 7: the robustness runs' own checks can fail, and their inputs replay with the seed.
import { expect, test } from 'vitest'
import type { TranscriptEvent } from '../../core/transcript.ts'
import { auditTranscript, cassetteRequests, fuzzInputs, prng } from './robustness.ts'

const SESSIONS = ['h:abc', 's:def']

test('the same seed generates the same fuzz inputs, another seed different ones', () => {
  const a = fuzzInputs(1, 200, SESSIONS)
  expect(fuzzInputs(1, 200, SESSIONS)).toEqual(a)
  expect(fuzzInputs(2, 200, SESSIONS)).not.toEqual(a)
  expect(new Set(a.map((input) => input.kind))).toEqual(new Set(['framing', 'json-rpc', 'sse-reconnect', 'cassette']))
})

test('cassette inputs start from the committed cassettes', () => {
  expect(cassetteRequests().filter((request) => request.body !== undefined).length).toBeGreaterThan(5)
})

test('the fault schedule replays with its seed', () => {
  const a = prng(9)
  const b = prng(9)
  const first = Array.from({ length: 5 }, a)
  expect(Array.from({ length: 5 }, b)).toEqual(first)
  expect(first.every((value) => value >= 0 && value < 1)).toBe(true)
})

function event(seq: number, fields: Partial<TranscriptEvent>): TranscriptEvent {
  return { seq, t: seq, layer: 'client', type: 'request', ...fields } as TranscriptEvent
}

test('the transcript audit counts a duplicated response and a request without one', () => {
  const events = [
    event(0, { exchange: 1, type: 'request', headers: { 'mcp-session-id': 'one' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call' } }),
    event(1, { exchange: 1, type: 'sse', data: { jsonrpc: '2.0', id: 1, result: {} } }),
    event(2, { exchange: 2, type: 'request', headers: { 'mcp-session-id': 'one' }, body: { jsonrpc: '2.0', id: 2, method: 'tools/call' } }),
    event(3, { exchange: 2, type: 'sse', data: { jsonrpc: '2.0', id: 1, result: {} } }),
    event(4, { exchange: 3, type: 'request', query: '?sessionId=two', body: { jsonrpc: '2.0', id: 1, method: 'tools/call' } }),
    event(5, { exchange: 4, type: 'sse', dataText: '/sse/message?sessionId=two' }),
    event(6, { exchange: 4, type: 'sse', data: { jsonrpc: '2.0', id: 1, result: {} } }),
  ]
  expect(auditTranscript(events, new Set())).toEqual({ requests: 3, duplicated: 1, unanswered: 1 })
  // A session whose client got an error may miss its response.
  expect(auditTranscript(events, new Set(['one'])).unanswered).toBe(0)
  expect(auditTranscript(events, new Set(), new Set(['two']))).toEqual({ requests: 1, duplicated: 0, unanswered: 0 })
})
