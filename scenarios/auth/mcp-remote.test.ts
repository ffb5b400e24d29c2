// Issue 4: a real client through the flow. mcp-remote (as Claude Desktop runs it) connects to the
// OAuth reference server under the emulator, opens the authorize URL through a BROWSER hook we
// control (xdg-open honours $BROWSER without a desktop), and then serves tools over its stdio side.
// Tokens go to a temporary MCP_REMOTE_CONFIG_DIR, never the user's home.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'

const require = createRequire(import.meta.url)
const PROXY = path.join(path.dirname(require.resolve('mcp-remote/package.json')), 'dist', 'proxy.js')
const HOOK = path.resolve('scenarios/helpers/oauth-browser-hook.ts')

let emulator: Emulator
let configDir: string

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator({ provider: upstream.github({ users: [{ id: 77, login: 'remote-user', name: 'Remote User' }] }) }))
  configDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-mcp-remote-'))
})
afterAll(async () => {
  await emulator?.dispose()
  if (configDir) await rm(configDir, { recursive: true, force: true })
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const STRATEGIES = [
  { transport: 'streamable-http', path: '/mcp', strategy: 'http-only' },
  { transport: 'sse', path: '/sse', strategy: 'sse-only' },
] as const

describe.each(STRATEGIES)('mcp-remote over $transport', ({ path: apiPath, strategy }) => {
  test('completes the OAuth flow headless, lists tools and calls whoami over stdio', { timeout: 90_000 }, async () => {
    const runDir = await mkdtemp(path.join(configDir, `${strategy}-`))
    // xdg-open splits $BROWSER on ':' and runs it word-split: paths must not contain ':' or spaces.
    expect(`${process.execPath} ${HOOK}`, 'the BROWSER hook command must not contain ":" or extra spaces').not.toMatch(/:|\s\S*\s/)
    const browserLog = path.join(runDir, 'browser.log')
    const stderr: string[] = []
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [PROXY, new URL(apiPath, emulator.url).href, String(await freePort()), '--transport', strategy, '--auth-timeout', '45'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: runDir,
        MCP_REMOTE_CONFIG_DIR: runDir,
        BROWSER: `${process.execPath} ${HOOK}`,
        MCP_HARNESS_EMULATOR_URL: emulator.url.href,
        MCP_HARNESS_BROWSER_LOG: browserLog,
      },
      stderr: 'pipe',
    })
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
    const client = new Client({ name: 'mcp-harness via mcp-remote', version: '0.1.0' })
    try {
      await client.connect(transport, { timeout: 60_000 })
      const { tools } = await client.listTools()
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['add', 'counter', 'whoami']))
      const result = await client.callTool({ name: 'whoami', arguments: {} })
      const text = (result.content as { type: string; text: string }[])[0].text
      expect(JSON.parse(text)).toEqual({ userId: 'github-77', provider: 'github', login: 'remote-user', name: 'Remote User' })
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- mcp-remote stderr ---\n${stderr.join('').slice(-4000)}`)
    } finally {
      await client.close().catch(() => {})
    }
    // The hook really drove consent and the mocked upstream, and mcp-remote's callback took the code.
    const runs = (await readFile(browserLog, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { reachedClient: boolean; callbackStatus: number; steps: { url: string; consent?: boolean }[] })
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({ reachedClient: true, callbackStatus: 200 })
    expect(runs[0].steps.some((step) => step.consent)).toBe(true)
    expect(runs[0].steps.some((step) => step.url.startsWith('https://github.com/login/oauth/authorize'))).toBe(true)
    // Tokens landed in the temporary config dir.
    const stored = (await readdir(runDir, { recursive: true })).map(String)
    expect(stored.some((name) => name.endsWith('_tokens.json'))).toBe(true)
    expect(emulator.errors).toEqual([])
  })
})
