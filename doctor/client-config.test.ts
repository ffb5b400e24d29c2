import { describe, expect, test } from 'vitest'
import { checkClientConfig, jsonProblem, serverEntries } from './client-config.ts'

const server = { url: new URL('http://127.0.0.1:8787/'), streamable: '/mcp', sse: '/sse' }
const byId = (findings: ReturnType<typeof checkClientConfig>, id: string) => findings.filter((f) => f.id === id)

describe('KI-20: client config format', () => {
  test('names the line of a trailing comma', () => {
    const text = '{\n  "mcpServers": {\n    "demo": { "command": "npx", "args": ["mcp-remote", "http://127.0.0.1:8787/mcp"] },\n  }\n}\n'
    expect(jsonProblem(text)).toMatchObject({ line: 3, message: 'a trailing comma before "}"' })
    const [finding] = checkClientConfig({ text, file: 'claude_desktop_config.json' })
    expect(finding).toMatchObject({ id: 'KI-20', status: 'fail' })
    expect(finding!.cause).toContain('line 3')
    expect(finding!.evidence[0]).toMatch(/^claude_desktop_config\.json:3:\d+: "demo"/)
  })

  test('names the line of a comment and of other syntax errors', () => {
    expect(jsonProblem('{\n  // mine\n  "mcpServers": {}\n}')).toMatchObject({ line: 2, column: 3 })
    expect(jsonProblem('{\n  "mcpServers": {\n    "a": { "url": "x" }\n  \n')).toMatchObject({ line: expect.any(Number) })
    expect(jsonProblem('{ "a": "// not a comment, }" }')).toBeUndefined()
  })

  test('fails when the mcpServers wrapper is missing', () => {
    const findings = checkClientConfig({ text: JSON.stringify({ demo: { command: 'npx', args: ['mcp-remote', 'http://127.0.0.1:8787/mcp'] } }), file: 'mcp.json' })
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({ id: 'KI-20', status: 'fail' })
    expect(findings[0]!.cause).toContain('"mcpServers" wrapper is missing')
  })

  test('names VS Code\'s "servers" key', () => {
    const [finding] = checkClientConfig({ text: JSON.stringify({ servers: { demo: { url: 'https://x.workers.dev/mcp' } } }), file: 'mcp.json' })
    expect(finding!.cause).toContain("VS Code's key")
  })

  test('refuses "url" in Claude Desktop\'s file and a command with its arguments in one string', () => {
    const text = JSON.stringify({ mcpServers: { a: { url: 'https://x.workers.dev/mcp' }, b: { command: 'npx mcp-remote https://x.workers.dev/mcp' } } })
    const [format] = checkClientConfig({ text, file: 'claude_desktop_config.json' })
    expect(format).toMatchObject({ id: 'KI-20', status: 'fail' })
    expect(format!.evidence).toEqual([expect.stringContaining('"a" uses "url"'), expect.stringContaining('"b" puts arguments into "command"')])
    // Cursor reads "url" itself.
    expect(checkClientConfig({ text: JSON.stringify({ mcpServers: { a: { url: 'https://x.workers.dev/mcp' } } }), file: '.cursor/mcp.json' })[0]).toMatchObject({ id: 'KI-20', status: 'ok' })
  })

  test('reads mcp-remote entries with their URL and transport', () => {
    expect(serverEntries({ a: { command: 'npx', args: ['-y', 'mcp-remote@0.1.0', 'https://x.dev/sse', '--transport', 'sse-only'] }, b: { command: 'node', args: ['server.js'] } })).toEqual([
      { name: 'a', kind: 'mcp-remote', url: 'https://x.dev/sse', transport: 'sse-only' },
      { name: 'b', kind: 'command' },
    ])
  })
})

describe('KI-05 / KI-02 / KI-03: the client URL against the server', () => {
  const config = (url: string, extra: string[] = []) => JSON.stringify({ mcpServers: { demo: { command: 'npx', args: ['mcp-remote', url, ...extra] } } })

  test('accepts a URL that names the server and its Streamable endpoint', () => {
    const findings = checkClientConfig({ text: config('http://localhost:8787/mcp'), file: 'claude_desktop_config.json', server })
    expect(findings.map((f) => [f.id, f.status])).toEqual([['KI-20', 'ok'], ['KI-05', 'ok'], ['KI-02', 'ok']])
  })

  test('fails a URL on another port or host', () => {
    const [, host] = checkClientConfig({ text: config('http://localhost:8788/mcp'), file: 'c.json', server })
    expect(host).toMatchObject({ id: 'KI-05', status: 'fail', fix: expect.stringContaining('http://127.0.0.1:8787/mcp') })
    const deployed = checkClientConfig({ text: config('http://localhost:8787/mcp'), file: 'c.json', server: { ...server, url: new URL('https://demo.example.workers.dev') } })
    expect(byId(deployed, 'KI-05')[0]!.cause).toContain('still points at a local dev server')
  })

  test('without a server: warns on localhost, fails on plain http off localhost', () => {
    expect(byId(checkClientConfig({ text: config('http://localhost:8787/mcp'), file: 'c.json' }), 'KI-05')[0]!.status).toBe('warn')
    expect(byId(checkClientConfig({ text: config('http://demo.example.com/mcp'), file: 'c.json' }), 'KI-05')[0]!.status).toBe('fail')
    expect(byId(checkClientConfig({ text: config('https://demo.example.workers.dev/mcp'), file: 'c.json' }), 'KI-05')[0]!.status).toBe('ok')
  })

  test('KI-02: fails a path the server does not serve and proposes the nearest one', () => {
    for (const url of ['http://127.0.0.1:8787/', 'http://127.0.0.1:8787/mcp/']) {
      const [finding] = byId(checkClientConfig({ text: config(url), file: 'c.json', server }), 'KI-02')
      expect(finding).toMatchObject({ status: 'fail', fix: 'Use http://127.0.0.1:8787/mcp.' })
    }
  })

  test('KI-03: fails a forced transport that the path does not speak', () => {
    const [finding] = byId(checkClientConfig({ text: config('http://127.0.0.1:8787/sse', ['--transport', 'http-only']), file: 'c.json', server }), 'KI-03')
    expect(finding).toMatchObject({ status: 'fail' })
    expect(finding!.cause).toContain('Unexpected response format')
    expect(byId(checkClientConfig({ text: config('http://127.0.0.1:8787/sse'), file: 'c.json', server }), 'KI-03')).toEqual([])
  })
})
