import { describe, expect, test } from 'vitest'
import { droppedBecause, refuseTarget } from './front-policy.ts'

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
