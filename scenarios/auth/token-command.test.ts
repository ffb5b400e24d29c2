// Issue 10 item 3: `mcp-harness token --url <mcp>` runs the whole client flow against a served
// Worker (here the GitHub OAuth template fixture with a mocked GitHub) and prints the access token
// alone; the TS SDK and the Python SDK then use the token as real clients do (mcp-remote, which signs
// in itself, is driven in templates/real-clients.test.ts).
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, upstream, type Emulator } from '../../emulator/index.ts'
import { runCli as cli } from '../helpers/cli.ts'
import { connectClient } from '../helpers/clients.ts'
import { VENV_PYTHON } from '../helpers/python-venv.ts'
import { pythonCallTool } from '../helpers/real-clients.ts'

const run = promisify(execFile)
const ROOT = path.resolve(import.meta.dirname, '../..')
const CLI = path.join(ROOT, 'cli', 'cli.ts')
const USERS = [{ id: 1001, login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' }, { id: 1002, login: 'grace', name: 'Grace Hopper' }]

let emulator: Emulator
let mcpUrl: string
beforeAll(async () => {
  emulator = await createEmulator({ config: 'scenarios/fixtures/github-oauth', workerLog: 'silent', upstream: { providers: [upstream.github({ users: USERS })] } })
  mcpUrl = new URL('/mcp', emulator.url).href
})
afterAll(() => emulator?.dispose())

describe('mcp-harness token', () => {
  test('prints the access token alone, and the TS SDK calls a tool with it', { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await cli(['token', '--url', mcpUrl, '--user', 'grace'])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toMatch(/^\S+\n$/)
    const client = await connectClient(emulator.url, { transport: 'streamable-http', headers: { authorization: `Bearer ${stdout.trim()}` } })
    expect(JSON.parse(await client.text('whoami'))).toMatchObject({ login: 'grace' })
    await client.close()
  })

  test('as a process: stdout carries only the token (usable in $(…)), exit 0', { timeout: 90_000 }, async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'token', '--url', mcpUrl], { cwd: ROOT })
    expect(stdout.trim().split('\n')).toHaveLength(1)
    expect(stderr).toBe('')
  })

  test('a failure is one line on stderr naming the step and what the server answered, exit 1', { timeout: 60_000 }, async () => {
    const unknownUser = await cli(['token', '--url', mcpUrl, '--user', 'nobody'])
    expect(unknownUser.code).toBe(1)
    expect(unknownUser.stdout).toBe('')
    expect(unknownUser.stderr.trim().split('\n')).toHaveLength(1)
    expect(unknownUser.stderr).toMatch(/step "upstream".*No user "nobody"/)
    const notMcp = await cli(['token', '--url', new URL('/nowhere', emulator.url).href])
    expect(notMcp.code).toBe(1)
    expect(notMcp.stderr).toMatch(/step "resource-metadata"/)
  })

  test('usage errors exit 2', async () => {
    expect((await cli(['token'])).code).toBe(2)
    expect((await cli(['token', '--url', 'not a url'])).code).toBe(2)
  })
})

describe('other clients of the GitHub OAuth template', () => {
  test('the Python SDK calls a tool with the token `mcp-harness token` printed', { timeout: 90_000 }, async () => {
    const { stdout: token } = await cli(['token', '--url', mcpUrl, '--user', 'ada'])
    expect(await pythonCallTool(mcpUrl, 'whoami', { token: token.trim() })).toEqual({ login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' })
  })

  test('the pytest side: mcp_harness.sign_in() returns a token, and a failure names the step', { timeout: 120_000 }, async () => {
    const { stdout, stderr } = await run(VENV_PYTHON, ['-m', 'pytest', '-q', 'tests/test_sign_in.py'], {
      cwd: path.join(ROOT, 'python'),
      env: { ...process.env, MCP_HARNESS_SIGN_IN_URL: mcpUrl },
      timeout: 110_000,
    }).catch((error: { stdout: string; stderr: string }) => ({ stdout: error.stdout, stderr: error.stderr }))
    expect(stdout, stderr).toMatch(/2 passed/)
  })
})
