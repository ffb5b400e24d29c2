// Issue 4: a real client through the flow. mcp-remote (as Claude Desktop runs it) connects to the
// OAuth reference server under the emulator, opens the authorize URL through a BROWSER hook we
// control (xdg-open honours $BROWSER without a desktop), and then serves tools over its stdio side.
// Tokens go to a temporary MCP_REMOTE_CONFIG_DIR, never the user's home.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { startMcpRemote } from '../helpers/real-clients.ts'

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

const STRATEGIES = [
  { transport: 'streamable-http', path: '/mcp', strategy: 'http-only' },
  { transport: 'sse', path: '/sse', strategy: 'sse-only' },
] as const

describe.each(STRATEGIES)('mcp-remote over $transport', ({ path: apiPath, strategy }) => {
  test('completes the OAuth flow headless, lists tools and calls whoami over stdio', { timeout: 90_000 }, async () => {
    const runDir = await mkdtemp(path.join(configDir, `${strategy}-`))
    const browserLog = path.join(runDir, 'browser.log')
    const remote = await startMcpRemote(new URL(apiPath, emulator.url), emulator.url, { strategy, configDir: runDir, browserLog, timeoutMs: 60_000 })
    try {
      const { tools } = await remote.client.listTools()
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['add', 'counter', 'whoami']))
      const result = await remote.client.callTool({ name: 'whoami', arguments: {} })
      const text = (result.content as { type: string; text: string }[])[0].text
      expect(JSON.parse(text)).toEqual({ userId: 'github-77', provider: 'github', login: 'remote-user', name: 'Remote User' })
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- mcp-remote stderr ---\n${remote.stderr().slice(-4000)}`)
    } finally {
      await remote.close()
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
