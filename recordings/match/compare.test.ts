import { describe, expect, test } from 'vitest'
import { Bindings } from './bindings.ts'
import { Matcher } from './compare.ts'

describe('Bindings', () => {
  test('binds a placeholder on first sight and holds it to that value afterwards', () => {
    const bindings = new Bindings()
    expect(bindings.match('/sse/message?sessionId=<session-1>', '/sse/message?sessionId=abc123')).toBe(true)
    expect(bindings.substitute('<session-1>')).toBe('abc123')
    expect(bindings.match('<session-1>', 'abc123')).toBe(true)
    expect(bindings.match('<session-1>', 'other')).toBe(false)
  })

  test('a redaction matches any value and is never substituted', () => {
    const bindings = new Bindings()
    expect(bindings.match('Bearer <redacted:authorization>', 'Bearer xyz')).toBe(true)
    expect(bindings.substitute('Bearer <redacted:authorization>')).toBe('Bearer <redacted:authorization>')
  })
})

describe('Matcher', () => {
  const recorded = { result: { tools: [{ name: 'a' }, { name: 'b' }], serverInfo: { version: '1.0.0' } } }
  const live = { result: { tools: [{ name: 'b' }, { name: 'a' }], serverInfo: { version: '1.0.1' } } }

  test('names the path and the failed matcher of each difference', () => {
    const differences = new Matcher().compare(recorded, live, new Bindings())
    expect(differences).toContainEqual({ path: 'result.serverInfo.version', matcher: 'equal', expected: '1.0.0', received: '1.0.1' })
    expect(differences).toContainEqual({ path: 'result.tools.0.name', matcher: 'equal', expected: 'a', received: 'b' })
  })

  test('ignores configured paths and compares configured lists without order', () => {
    expect(new Matcher({ ignore: ['result.serverInfo.version'], unordered: ['result.tools'] }).compare(recorded, live, new Bindings())).toEqual([])
  })

  test('reports what is missing and what is extra in an unordered list', () => {
    const differences = new Matcher({ unordered: ['result.tools'] }).compare({ result: { tools: [{ name: 'a' }] } }, { result: { tools: [{ name: 'c' }] } }, new Bindings())
    expect(differences).toEqual([{ path: 'result.tools', matcher: 'unordered', expected: [{ name: 'a' }], received: [{ name: 'c' }] }])
  })

  test('tells a type change from a value change, and missing from unexpected keys', () => {
    const differences = new Matcher().compare({ id: 1, a: 1 }, { id: '1', b: 2 }, new Bindings())
    expect(differences).toEqual([
      { path: 'id', matcher: 'type', expected: 1, received: '1' },
      { path: 'a', matcher: 'missing', expected: 1, received: undefined },
      { path: 'b', matcher: 'unexpected', expected: undefined, received: 2 },
    ])
  })
})
