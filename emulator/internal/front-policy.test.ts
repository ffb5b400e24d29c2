import { describe, expect, test } from 'vitest'
import { ALLOWED_METHODS, answerMalformed, droppedBecause, halfCloseCancels, refuseMethod, refuseTarget } from './front-policy.ts'

describe('droppedBecause', () => {
  test.each([
    ['mf-route-override', 'miniflare-internal'],
    ['mf-original-url', 'miniflare-internal'],
    ['mf-cf-blob', 'miniflare-internal'],
    ['x-mcp-harness-hop', 'harness-internal'],
    ['x-mcp-harness-io', 'harness-internal'],
    ['host', 'host'],
    ['connection', 'hop-by-hop'],
    ['transfer-encoding', 'hop-by-hop'],
    ['cf-connecting-ip', 'set-by-cloudflare'],
    ['cf-ray', 'set-by-cloudflare'],
  ])('drops %s (%s)', (name, reason) => {
    expect(droppedBecause(name)).toBe(reason)
  })

  test('drops headers the Connection header names, and keeps ordinary and client-settable cf-* headers', () => {
    expect(droppedBecause('x-private', new Set(['x-private']))).toBe('hop-by-hop')
    for (const name of ['mcp-protocol-version', 'authorization', 'cf-access-jwt-assertion', 'cf-mcp-method', 'x-custom']) expect(droppedBecause(name)).toBeUndefined()
  })
})

describe('refuseTarget', () => {
  test('accepts origin-form targets', () => {
    for (const target of ['/', '/mcp', '/sse/message?sessionId=x', '/cdn-cgi/trace']) expect(refuseTarget('GET', target)).toBeUndefined()
  })

  test.each(['http://mcp-harness-control.invalid/crash', 'https://x/y', '//host/path', '*', '', 'mcp'])('refuses %j as not origin-form', (target) => {
    expect(refuseTarget('GET', target)).toMatch(/origin-form request targets only/)
  })

  test.each(['/cdn-cgi/mf/scheduled', '/cdn-cgi/handler/email', '/cdn-cgi/platform-proxy', '/CDN-CGI/MF/reload', '/a/../cdn-cgi/explorer/api'])('refuses Miniflare endpoint %j', (target) => {
    expect(refuseTarget('GET', target)).toMatch(/Miniflare-internal endpoint/)
  })
})

describe('refuseMethod', () => {
  test.each(['TRACE', 'trace', 'CONNECT', 'TRACK'])('refuses %s with 405 and an Allow header, as Cloudflare does', (method) => {
    expect(refuseMethod(method, '/mcp')).toMatchObject({ status: 405, headers: { allow: ALLOWED_METHODS }, message: expect.stringContaining('cannot reach a Worker') })
  })
  test.each(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND'])('lets %s through to the Worker', (method) => {
    expect(refuseMethod(method, '/mcp')).toBeUndefined()
  })
})

describe('answerMalformed', () => {
  test.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['HPE_HEADERS_TIMEOUT', 408],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_METHOD', 400],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 400],
    ['HPE_INVALID_HEADER_TOKEN', 400],
    ['HPE_SOMETHING_NEW', 400],
  ])('answers %s with %i, a message naming the code, and closes', (code, status) => {
    const answer = answerMalformed({ code, reason: 'why\r\nInjected: header' })
    expect(answer).toMatchObject({ status, headers: { connection: 'close' } })
    expect(answer!.message).toContain(code)
    // The parser's reason is kept on one line: it cannot add a header to the answer.
    expect(answer!.message).not.toMatch(/[\r\n]/)
  })
  test('answers nothing to a client that is already gone', () => {
    expect(answerMalformed({ code: 'ECONNRESET' })).toBeUndefined()
  })
})

describe('halfCloseCancels', () => {
  test('keeps a complete request whose answer has not started, cancels an incomplete one or a streaming answer', () => {
    expect(halfCloseCancels({ requestComplete: true, headersSent: false })).toBe(false)
    expect(halfCloseCancels({ requestComplete: false, headersSent: false })).toBe(true)
    expect(halfCloseCancels({ requestComplete: true, headersSent: true })).toBe(true)
  })
})
