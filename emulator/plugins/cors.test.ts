import { describe, expect, test } from 'vitest'
import { checkPreflight, corsCheck, corsVerdict, isSafelistedRequestHeader, needsPreflight, preflightRequestFor, readableResponseHeaders, unsafeRequestHeaderNames } from './cors.ts'

const origin = 'http://127.0.0.1:5173'
const url = 'http://127.0.0.1:8788/mcp'
const initialize = { method: 'POST', url, origin, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }
// What McpAgent's `corsOptions` send by default (agents 0.32).
const MCP_AGENT_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'Content-Type, Accept, Authorization, mcp-session-id, mcp-protocol-version',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-expose-headers': 'mcp-session-id',
}

describe('safelisted request headers (Fetch §2.2.2)', () => {
  test('keeps the MCP Accept header simple but not a JSON content type', () => {
    expect(isSafelistedRequestHeader('accept', 'application/json, text/event-stream')).toBe(true)
    expect(isSafelistedRequestHeader('content-type', 'application/json')).toBe(false)
    expect(isSafelistedRequestHeader('content-type', 'text/plain;charset=UTF-8')).toBe(true)
    expect(isSafelistedRequestHeader('content-type', 'text/plain; a="b"')).toBe(false)
  })

  test('lists unsafe names sorted and lower-cased, ignoring headers the browser sets', () => {
    expect(unsafeRequestHeaderNames({ 'Mcp-Session-Id': 'x', 'content-type': 'application/json', origin, 'sec-fetch-mode': 'cors', accept: '*/*' })).toEqual(['content-type', 'mcp-session-id'])
  })

  test('preflights unsafe methods and unsafe headers only', () => {
    expect(needsPreflight({ method: 'GET' })).toBe(false)
    expect(needsPreflight({ method: 'POST', headers: { 'content-type': 'text/plain' } })).toBe(false)
    expect(needsPreflight({ method: 'DELETE' })).toBe(true)
    expect(needsPreflight({ method: 'GET', headers: { 'mcp-session-id': 'abc' } })).toBe(true)
    expect(needsPreflight(initialize)).toBe(true)
  })

  test('builds the preflight a browser sends', () => {
    const preflight = preflightRequestFor({ ...initialize, headers: { ...initialize.headers, 'mcp-protocol-version': '2025-11-25' } })
    expect(preflight.method).toBe('OPTIONS')
    expect(preflight.headers.get('access-control-request-method')).toBe('POST')
    expect(preflight.headers.get('access-control-request-headers')).toBe('content-type,mcp-protocol-version')
    expect(preflight.headers.get('origin')).toBe(origin)
  })
})

describe('CORS check (Fetch §4.10) and preflight (Fetch §4.8)', () => {
  test('accepts McpAgent defaults for initialize and later session requests', () => {
    expect(checkPreflight(initialize, { status: 204, headers: MCP_AGENT_CORS })).toBeUndefined()
    const later = { method: 'DELETE', url, origin, headers: { 'mcp-session-id': 's', 'mcp-protocol-version': '2025-11-25' } }
    expect(checkPreflight(later, { status: 200, headers: MCP_AGENT_CORS })).toBeUndefined()
  })

  test('KI-07: refuses a preflight answered 405 without CORS headers and names the missing header', () => {
    const blocked = checkPreflight(initialize, { status: 405, headers: { allow: 'GET, POST' } })
    expect(blocked).toMatchObject({ stage: 'preflight', reason: 'missing-allow-origin', header: 'access-control-allow-origin' })
    expect(blocked?.message).toContain("Response to preflight request doesn't pass access control check")
  })

  test('refuses a preflight with CORS headers but a non-ok status', () => {
    expect(checkPreflight(initialize, { status: 405, headers: MCP_AGENT_CORS })).toMatchObject({ reason: 'preflight-status' })
  })

  test('refuses a request header the preflight does not allow, by name', () => {
    const blocked = checkPreflight({ ...initialize, headers: { ...initialize.headers, 'mcp-session-id': 's' } }, { status: 200, headers: { ...MCP_AGENT_CORS, 'access-control-allow-headers': 'content-type' } })
    expect(blocked).toMatchObject({ reason: 'header-not-allowed' })
    expect(blocked?.message).toContain('Request header field mcp-session-id is not allowed')
  })

  test('never lets a wildcard cover Authorization', () => {
    const request = { ...initialize, headers: { ...initialize.headers, authorization: 'Bearer t' } }
    expect(checkPreflight(request, { status: 200, headers: { ...MCP_AGENT_CORS, 'access-control-allow-headers': '*' } })).toMatchObject({ reason: 'header-not-allowed' })
    expect(checkPreflight(request, { status: 200, headers: MCP_AGENT_CORS })).toBeUndefined()
  })

  test('refuses a method the preflight does not list', () => {
    expect(checkPreflight({ method: 'PUT', url, origin }, { status: 200, headers: MCP_AGENT_CORS })).toMatchObject({ reason: 'method-not-allowed' })
  })

  test('refuses wildcard origins and missing Allow-Credentials when credentials are included', () => {
    expect(corsCheck({ ...initialize, credentials: 'include' }, { status: 200, headers: MCP_AGENT_CORS })).toMatchObject({ reason: 'wildcard-with-credentials' })
    expect(corsCheck({ ...initialize, credentials: 'include' }, { status: 200, headers: { 'access-control-allow-origin': origin } })).toMatchObject({ reason: 'missing-allow-credentials' })
    expect(corsCheck({ ...initialize, credentials: 'include' }, { status: 200, headers: { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' } })).toBeUndefined()
    expect(corsCheck(initialize, { status: 200, headers: { 'access-control-allow-origin': 'http://other.example' } })).toMatchObject({ reason: 'origin-mismatch' })
  })
})

describe('exposed response headers (Fetch §2.2.6)', () => {
  test('KI-22: hides mcp-session-id unless Access-Control-Expose-Headers lists it', () => {
    const response = { status: 200, headers: { 'content-type': 'text/event-stream', 'mcp-session-id': 's', 'access-control-allow-origin': '*' } }
    expect(readableResponseHeaders(initialize, response)).toEqual(['content-type'])
    const verdict = corsVerdict({ request: initialize, preflight: { status: 204, headers: MCP_AGENT_CORS }, response })
    expect(verdict).toMatchObject({ preflight: true, allowed: true, hidden: ['mcp-session-id'] })
    const exposed = corsVerdict({ request: initialize, preflight: { status: 204, headers: MCP_AGENT_CORS }, response: { ...response, headers: { ...response.headers, 'access-control-expose-headers': 'Mcp-Session-Id' } } })
    expect(exposed.hidden).toEqual([])
  })

  test('honours a wildcard exposure only without credentials', () => {
    const response = { status: 200, headers: { 'mcp-session-id': 's', 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': '*' } }
    expect(readableResponseHeaders({ credentials: 'omit' }, response)).toContain('mcp-session-id')
    expect(readableResponseHeaders({ credentials: 'include' }, response)).not.toContain('mcp-session-id')
  })
})
