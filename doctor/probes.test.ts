import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { checkServer } from './probes.ts'

let server: Server | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

/** A loopback HTTP server answering with `handle`; resolves to its base URL. */
interface Answer {
  status: number
  headers?: Record<string, string>
  body?: string
}

async function serve(handle: (method: string, path: string, headers: Record<string, string | string[] | undefined>) => Answer): Promise<URL> {
  server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      const answer = handle(request.method ?? 'GET', request.url ?? '/', request.headers)
      response.writeHead(answer.status, answer.headers ?? {})
      response.end(answer.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return new URL(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`)
}

test('a 502 the Worker passes on from an unmocked upstream (x-mcp-harness-error) is the missing mock, not CORS', async () => {
  const unmocked = 'The Worker fetched GET https://api.example.com/verify, which no upstream mock handles. Add a handler for it.'
  const base = await serve((method, path, headers): Answer => {
    if (path !== '/mcp') return { status: 404 }
    if (method === 'OPTIONS') return { status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, authorization, mcp-protocol-version, mcp-session-id' } }
    if (!headers.authorization) return { status: 401, headers: { 'www-authenticate': 'Bearer', 'access-control-allow-origin': '*' } }
    return { status: 502, headers: { 'content-type': 'text/plain', 'x-mcp-harness-error': 'ERR_UNHANDLED_UPSTREAM' }, body: unmocked }
  })
  const { findings } = await checkServer({ base, origin: 'http://localhost:6274', timeoutMs: 2_000, headers: { authorization: 'Bearer t' } })
  const byId = (id: string) => findings.filter((item) => item.id === id)
  expect(findings.filter((item) => item.status === 'fail')).toEqual([])
  expect(byId('KI-02')[0]).toMatchObject({ status: 'skipped', cause: expect.stringContaining('the Worker called GET https://api.example.com/verify, which no upstream mock answers') })
  expect(byId('upstream')[0]).toMatchObject({ status: 'warn', cause: expect.stringContaining('GET https://api.example.com/verify') })
  // The 401 a client without a token gets does carry CORS headers: nothing to blame there.
  expect(byId('KI-22')[0]).toMatchObject({ status: 'ok', cause: expect.stringContaining('the 401 challenge') })
  expect(byId('KI-24')[0]!.status).toBe('skipped')
})

test('a /sse that answers 401 is not reported as a legacy SSE endpoint', async () => {
  const base = await serve((method, path): Answer => {
    if (method === 'OPTIONS') return { status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, authorization, mcp-protocol-version, mcp-session-id' } }
    if (path === '/mcp' || path === '/sse') return { status: 401, headers: { 'www-authenticate': 'Bearer', 'access-control-allow-origin': '*' } }
    return { status: 404 }
  })
  const { findings, endpoints } = await checkServer({ base, origin: 'http://localhost:6274', timeoutMs: 2_000 })
  expect(endpoints.sse).toBeUndefined()
  expect(findings.find((item) => item.id === 'KI-02')).toMatchObject({ status: 'skipped', cause: expect.stringContaining('/mcp and /sse answer 401') })
  expect(JSON.stringify(findings)).not.toContain('legacy SSE at /sse')
})

test('--header: a server that answers only with its API key header is probed with it, and the value never shows', async () => {
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, x-api-key, mcp-protocol-version' }
  const base = await serve((method, path, headers): Answer => {
    if (path !== '/mcp') return { status: 404 }
    if (method === 'OPTIONS') return { status: 204, headers: cors }
    if (headers['x-api-key'] !== 'key-value-123') return { status: 404, headers: cors }
    if (method !== 'POST') return { status: 405, headers: cors }
    return { status: 200, headers: { ...cors, 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 0, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 't', version: '1' } } }) }
  })
  const { findings } = await checkServer({ base, origin: 'http://localhost:6274', timeoutMs: 2_000, headers: { 'X-Api-Key': 'key-value-123' } })
  expect(findings.filter((item) => item.status === 'fail')).toEqual([])
  expect(findings.find((item) => item.id === 'KI-02')).toMatchObject({ status: 'ok', cause: expect.stringContaining('Streamable HTTP at /mcp (stateless') })
  expect(findings.find((item) => item.id === 'KI-07')!.evidence[0]).toContain('for POST with content-type,mcp-protocol-version,x-api-key')
  expect(JSON.stringify(findings)).not.toContain('key-value-123')
})

test("KI-10: wrangler dev passing McpAgent's TypeError through a 500 is named KI-10 from the answer alone; a 404 everywhere stays KI-02", async () => {
  const typeError = 'TypeError: McpAgent uses MCP SDK v1 and cannot serve McpServer from "@modelcontextprotocol/server"'
  let base = await serve((_method, path): Answer => (path === '/mcp' || path === '/sse' ? { status: 500, headers: { 'content-type': 'text/plain' }, body: typeError } : { status: 404 }))
  let { findings } = await checkServer({ base, origin: 'http://localhost:6274', timeoutMs: 2_000 })
  expect(findings.filter((item) => item.status === 'fail').map((item) => item.id)).toEqual(['KI-10'])
  expect(findings.find((item) => item.id === 'KI-02')?.status).toBe('skipped')
  await new Promise<void>((resolve) => server!.close(() => resolve()))
  base = await serve((): Answer => ({ status: 404, body: 'Not found' }))
  ;({ findings } = await checkServer({ base, origin: 'http://localhost:6274', timeoutMs: 2_000 }))
  expect(findings.find((item) => item.id === 'KI-02')?.status).toBe('fail')
  expect(findings.some((item) => item.id === 'KI-10' || item.id === 'worker')).toBe(false)
})

test('a crash at every MCP path with an unknown cause is a "worker" finding carrying the Worker log, not KI-02', async () => {
  const base = await serve((_method, path): Answer => (path === '/mcp' || path === '/sse' ? { status: 500, headers: { 'content-type': 'text/plain' }, body: 'error code: 1101' } : { status: 404 }))
  const { findings } = await checkServer({ base, origin: 'http://localhost:6274', timeoutMs: 2_000, workerErrors: () => ['ReferenceError: WEATHER is not defined'] })
  expect(findings.find((item) => item.id === 'worker')).toMatchObject({ status: 'fail', cause: expect.stringContaining('ReferenceError: WEATHER is not defined'), evidence: expect.arrayContaining(['Worker log: ReferenceError: WEATHER is not defined']) })
  expect(findings.find((item) => item.id === 'KI-02')?.status).toBe('skipped')
})
