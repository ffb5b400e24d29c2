import { describe, expect, test } from 'vitest'
import type { Interaction } from '../format/schema.ts'
import { parseMatchOptions, RequestMatcher, type LiveRequest } from './request.ts'

const recorded = (body: unknown, query: Record<string, string> = {}): Interaction => ({ id: 1, t: 0, request: { method: 'POST', path: '/mcp', query, headers: {}, body } })
const live = (body: unknown, query: Record<string, string> = {}): LiveRequest => ({ method: 'POST', path: '/mcp', query, headers: {}, body })
const call = (name: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args, ...extra } })

describe('request matching', () => {
  const matcher = new RequestMatcher(parseMatchOptions())

  test('ids, progress tokens and timestamps never count', () => {
    const a = recorded({ ...call('add', { a: 1, at: '2026-01-01T00:00:00Z' }, { _meta: { progressToken: 1 } }), id: 3 })
    const b = live({ ...call('add', { a: 1, at: '2026-12-02T13:00:00.123Z' }, { _meta: { progressToken: 99 } }), id: 12 })
    expect(matcher.differences(b, a)).toEqual([])
  })

  test('a differing param is named, shallow paths first', () => {
    expect(matcher.differences(live(call('whoami', {})), recorded(call('add', { a: 2, b: 3 }))).map((d) => d.field)).toEqual(['params.name', 'params.arguments.a', 'params.arguments.b'])
    expect(matcher.differences(live(call('add', { a: 4, b: 3 })), recorded(call('add', { a: 2, b: 3 })))).toEqual([{ field: 'params.arguments.a', recorded: 2, received: 4 }])
  })

  test('a redaction inside a recorded URL or form matches any value there, and only there', () => {
    const url = 'https://idp.example/authorize?client_id=c&state=%3Credacted%3Astate%3E&scope=read'
    expect(matcher.differences(live(undefined, { url: 'https://idp.example/authorize?client_id=c&state=x1y2&scope=read' }), recorded(undefined, { url }))).toEqual([])
    expect(matcher.differences(live(undefined, { url: 'https://idp.example/authorize?client_id=other&state=x1y2&scope=read' }), recorded(undefined, { url })).map((d) => d.field)).toEqual(['query.url'])
  })

  test('method, path and JSON-RPC method come before params', () => {
    const d = matcher.differences({ ...live({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), path: '/other' }, recorded(call('add', {})))
    expect(d.slice(0, 2).map((x) => x.field)).toEqual(['path', 'jsonrpc method'])
  })

  test('ignore paths, method-scoped ignores, query and custom functions are honoured', () => {
    const scoped = new RequestMatcher(parseMatchOptions({ ignore: ['tools/call:params.arguments.a'] }))
    expect(scoped.differences(live(call('add', { a: 9, b: 3 })), recorded(call('add', { a: 2, b: 3 })))).toEqual([])
    const otherMethod = new RequestMatcher(parseMatchOptions({ ignore: ['prompts/get:params.arguments.a'] }))
    expect(otherMethod.differences(live(call('add', { a: 9 })), recorded(call('add', { a: 2 })))).toHaveLength(1)
    expect(matcher.differences(live(undefined, { x: '1' }), recorded(undefined, { x: '2' }))).toEqual([{ field: 'query.x', recorded: '2', received: '1' }])
    expect(new RequestMatcher(parseMatchOptions({ query: false })).differences(live(undefined, { x: '1' }), recorded(undefined, { x: '2' }))).toEqual([])
    const custom = new RequestMatcher(parseMatchOptions({ custom: () => false }))
    expect(custom.differences(live(call('add', {})), recorded(call('add', {})))[0]!.field).toBe('(custom match function)')
  })

  test('a redacted recorded value matches anything', () => {
    expect(matcher.differences(live(undefined, { code: 'abc' }), recorded(undefined, { code: '<redacted:code>' }))).toEqual([])
  })

  test('options from the cassette and from code are merged, and validated', () => {
    expect(parseMatchOptions({ ignore: ['a'] }, { ignore: ['b'], order: 'strict' })).toMatchObject({ ignore: ['a', 'b'], order: 'strict' })
    expect(parseMatchOptions({ order: 'strict', params: false }, { ignore: ['b'] })).toMatchObject({ ignore: ['b'], order: 'strict', params: false })
    expect(() => parseMatchOptions({ headers: 'x' as unknown as string[] })).toThrow(/Invalid match options:\n {2}- "headers"/)
  })
})

describe('matches (the mock asks it for every candidate) agrees with differences', () => {
  const base = call('add', { a: 1, b: [1, 2, { c: 'x' }], at: '2026-01-01T00:00:00Z' })
  const variants: [string, unknown][] = [
    ['equal', base],
    ['other id and progress token', { ...base, id: 99, params: { ...base.params, _meta: { progressToken: 5 } } }],
    ['other timestamp', call('add', { a: 1, b: [1, 2, { c: 'x' }], at: '2027-02-02T10:00:00.5Z' })],
    ['differing leaf', call('add', { a: 2, b: [1, 2, { c: 'x' }], at: '2026-01-01T00:00:00Z' })],
    ['deep leaf', call('add', { a: 1, b: [1, 2, { c: 'y' }], at: '2026-01-01T00:00:00Z' })],
    ['shorter array', call('add', { a: 1, b: [1, 2], at: '2026-01-01T00:00:00Z' })],
    ['extra key', call('add', { a: 1, b: [1, 2, { c: 'x' }], at: '2026-01-01T00:00:00Z', seed: 4 })],
    ['missing key', call('add', { a: 1, b: [1, 2, { c: 'x' }] })],
    ['null for an object', call('add', { a: 1, b: null, at: '2026-01-01T00:00:00Z' })],
    ['other tool', call('sub', { a: 1, b: [1, 2, { c: 'x' }], at: '2026-01-01T00:00:00Z' })],
    ['other JSON-RPC method', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
    ['a batch', [base, { jsonrpc: '2.0', method: 'notifications/initialized' }]],
    ['no body', undefined],
  ]
  const matchers = {
    default: new RequestMatcher(parseMatchOptions()),
    'ignore a seed': new RequestMatcher(parseMatchOptions({ ignore: ['params.arguments.seed', 'tools/call:params.arguments.b.*.c'] })),
    'params off, a header on': new RequestMatcher(parseMatchOptions({ params: false, headers: ['X-Tenant'] })),
    custom: new RequestMatcher(parseMatchOptions({ custom: (l) => ((l.body as { params?: { arguments?: { a?: number } } })?.params?.arguments?.a === 2 ? true : undefined) })),
  }
  for (const [name, matcher] of Object.entries(matchers)) {
    test(name, () => {
      for (const [recordedName, recordedBody] of variants) {
        for (const [liveName, liveBody] of variants) {
          for (const query of [{}, { sessionId: 's' }] as Record<string, string>[]) {
            const r: Interaction = { id: 1, t: 0, request: { method: 'POST', path: '/mcp', query: {}, headers: { 'x-tenant': 'a' }, body: recordedBody } }
            const l: LiveRequest = { method: 'POST', path: '/mcp', query, headers: { 'x-tenant': liveName === 'equal' ? 'b' : 'a' }, body: liveBody }
            expect(matcher.matches(l, r), `${recordedName} vs ${liveName} ${JSON.stringify(query)}`).toBe(matcher.differences(l, r).length === 0)
          }
        }
      }
    })
  }

  test('keyOf is the key of the recorded request, computed once', () => {
    const r = recorded(call('add', {}))
    expect(RequestMatcher.keyOf(r)).toBe('POST /mcp tools/call')
    expect(RequestMatcher.keyOf(r)).toBe(RequestMatcher.key('POST', '/mcp', r.request.body))
  })
})
