import { describe, expect, test } from 'vitest'
import { clientSettings, commandHelp, COMMANDS, mainHelp } from './cli.ts'
import { parsePort, UsageError } from './command.ts'
import { descendants, HAS_PROC, startCli as runCli, waitFor } from '../scenarios/helpers/child-process.ts'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('mcp-harness help and argument errors', () => {
  test('--help lists every command of the table', () => {
    const help = mainHelp()
    for (const name of Object.keys(COMMANDS)) expect(help).toContain(`  ${name}`)
  })

  test('serve --help documents every option of serve', () => {
    const help = commandHelp('serve')
    for (const name of [...Object.keys(COMMANDS.serve!.options), 'help']) expect(help).toContain(`--${name}`)
  })

  test('parsePort accepts 0..65535 and rejects anything else', () => {
    expect(parsePort('0')).toBe(0)
    expect(parsePort('65535')).toBe(65535)
    for (const bad of ['65536', '-1', '80.5', 'abc', '']) expect(() => parsePort(bad)).toThrow(UsageError)
  })

  test('the printed client settings hold a valid Claude Desktop mcpServers block', () => {
    const urls = { url: 'http://127.0.0.1:1/', mcp: 'http://127.0.0.1:1/mcp', sse: 'http://127.0.0.1:1/sse', health: 'http://127.0.0.1:1/health' }
    const text = clientSettings('my-server', urls)
    const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)
    expect(JSON.parse(json)).toEqual({ mcpServers: { 'my-server': { command: 'npx', args: ['mcp-remote', urls.mcp] } } })
    expect(text).toContain(`npx mcp-remote ${urls.mcp}`)
    expect(text).toContain(`TOKEN=$(npx mcp-harness token --url ${urls.mcp}`)
    expect(text).toContain(`npx @modelcontextprotocol/inspector --transport http --server-url ${urls.mcp}`)
  })

  test('the CLI process prints help and exits 0', async () => {
    const run = runCli(['--help'])
    expect(await run.exited).toBe(0)
    expect(run.stdout()).toContain('Usage: mcp-harness <command>')
  })

  test('an unknown flag exits 2 with a pointer to --help', async () => {
    const run = runCli(['serve', '--no-such-flag'])
    expect(await run.exited).toBe(2)
    expect(run.stderr()).toContain("Unknown option '--no-such-flag'")
    expect(run.stderr()).toContain('mcp-harness serve --help')
  })

  test('a bad --port or --host exits 2', async () => {
    const port = runCli(['serve', '--port', 'eighty'])
    const host = runCli(['serve', '--port', '0', '--host', '0.0.0.0'])
    expect(await port.exited).toBe(2)
    expect(port.stderr()).toContain('Invalid --port "eighty"')
    expect(await host.exited).toBe(2)
    expect(host.stderr()).toContain('Invalid --host "0.0.0.0"')
  })

  test('an unknown command exits 2', async () => {
    const run = runCli(['frobnicate'])
    expect(await run.exited).toBe(2)
    expect(run.stderr()).toContain('Unknown command "frobnicate"')
  })

  test('a HarnessError prints its message without a stack and exits 1', async () => {
    const run = runCli(['serve', '--config', 'no/such/wrangler.jsonc', '--port', '0'])
    expect(await run.exited).toBe(1)
    expect(run.stderr()).toContain('ERR_CONFIG: Failed to read wrangler config "no/such/wrangler.jsonc"')
    expect(run.stderr()).not.toMatch(/\n\s+at /)
  })
})

describe('mcp-harness serve', () => {
  test('--json prints one ready line, serves, and SIGTERM stops it with no workerd left behind', async () => {
    const run = runCli(['serve', '--config', 'server/wrangler.jsonc', '--port', '0', '--json'])
    try {
      const line = await waitFor(() => (run.stdout().includes('\n') ? run.stdout() : undefined), 60_000, 'the ready line')
      expect(line.trim().split('\n')).toHaveLength(1)
      const urls = JSON.parse(line) as Record<string, string>
      expect(Object.keys(urls)).toEqual(['url', 'mcp', 'sse', 'health'])
      expect(urls.mcp).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
      const health = await fetch(urls.health!)
      expect(await health.json()).toMatchObject({ name: 'mcp-harness-reference' })
      // Build progress went to stderr, not stdout.
      expect(run.stderr()).toContain('Serving mcp-harness-reference')
      const workerd = descendants(run.child.pid!).filter((p) => p.name === 'workerd')
      if (HAS_PROC) expect(workerd.length).toBeGreaterThan(0)
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
      expect(run.stderr()).toContain('Stopped.')
      expect(workerd.filter((p) => alive(p.pid))).toEqual([])
    } finally {
      run.child.kill('SIGKILL')
    }
  })

  test('prints URLs and client settings, and SIGINT stops it cleanly', async () => {
    const run = runCli(['serve', '--config', 'server', '--port', '0'])
    try {
      const out = await waitFor(() => (run.stdout().includes('Press Ctrl-C') ? run.stdout() : undefined), 60_000, 'the human output')
      const mcp = /Streamable HTTP\s+(\S+)/.exec(out)?.[1]
      expect(mcp).toMatch(/\/mcp$/)
      expect(out).toMatch(/SSE \(legacy\)\s+http:\/\/127\.0\.0\.1:\d+\/sse/)
      expect(out).toContain(`npx mcp-remote ${mcp}`)
      expect(out).toContain('"mcpServers"')
      // A workerd process existed before the signal (else "none alive after" would prove nothing) and is gone after.
      const workerd = descendants(run.child.pid!).filter((p) => p.name === 'workerd')
      if (HAS_PROC) expect(workerd.length).toBeGreaterThan(0)
      expect(workerd.every((p) => alive(p.pid))).toBe(true)
      run.child.kill('SIGINT')
      expect(await run.exited).toBe(0)
      expect(workerd.filter((p) => alive(p.pid))).toEqual([])
    } finally {
      run.child.kill('SIGKILL')
    }
  })

  test('--json keeps stdout to the one line when wrangler announces .dev.vars (a Worker that is not ours)', async () => {
    const run = runCli(['serve', '--config', 'scenarios/fixtures/kv-notes', '--port', '0', '--json'])
    try {
      await waitFor(() => (run.stdout().includes('\n') ? true : undefined), 60_000, 'the ready line')
      expect(run.stdout().trim().split('\n')).toHaveLength(1)
      // Not an MCP server and no /health: only the URL is listed (endpoints are listed when they answer).
      expect(Object.keys(JSON.parse(run.stdout()))).toEqual(['url'])
      expect(run.stderr()).toContain('.dev.vars')
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
    } finally {
      run.child.kill('SIGKILL')
    }
  })

  test('a port in use exits 1 with ERR_PORT_IN_USE', async () => {
    const { createServer } = await import('node:net')
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as import('node:net').AddressInfo).port
    try {
      const run = runCli(['serve', '--config', 'server', '--port', String(port)])
      expect(await run.exited).toBe(1)
      expect(run.stderr()).toContain(`ERR_PORT_IN_USE: Failed to listen on 127.0.0.1:${port}`)
      expect(run.stderr()).toContain('Pass --port 0 to take a free one')
      expect(run.stderr()).not.toMatch(/\n\s+at /)
    } finally {
      blocker.close()
    }
  })
})
