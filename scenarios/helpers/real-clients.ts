/**
 * Real MCP clients other than the TS SDK, as scenarios drive them against a served Worker:
 * mcp-remote signing in through the headless BROWSER hook, and the official Python SDK (in
 * python/.venv) calling a tool with a bearer token or after `mcp_harness.sign_in()`.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { VENV_PYTHON } from './python-venv.ts'
import { freePort } from './targets.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const require = createRequire(import.meta.url)
const run = promisify(execFile)

/** mcp-remote's proxy entry point (what `npx mcp-remote` runs). */
export const MCP_REMOTE_PROXY = path.join(path.dirname(require.resolve('mcp-remote/package.json')), 'dist', 'proxy.js')
/** The BROWSER hook that plays the user for mcp-remote (consent, mocked upstream, callback). */
export const BROWSER_HOOK = path.join(ROOT, 'scenarios', 'helpers', 'oauth-browser-hook.ts')
const PYTHON_CALL_TOOL = path.join(ROOT, 'scenarios', 'auth', 'templates', 'python_call_tool.py')

export interface BrowserRun {
  reachedClient?: boolean
  callbackStatus?: number
  steps?: { url: string; consent?: boolean }[]
  error?: string
}

export interface McpRemoteSession {
  client: Client
  /** mcp-remote's config dir (tokens land here), removed by close(). */
  configDir: string
  /** Everything mcp-remote wrote on stderr so far. */
  stderr: () => string
  /** What the BROWSER hook logged, one entry per run (secrets redacted). */
  browserRuns: () => Promise<BrowserRun[]>
  close: () => Promise<void>
}

/**
 * Starts mcp-remote on `serverUrl` with a temporary config dir and the headless BROWSER hook, and
 * connects an MCP client to its stdio side; connect() resolves once mcp-remote has signed in.
 * A failure to connect carries the tail of mcp-remote's stderr.
 */
export async function startMcpRemote(
  serverUrl: string | URL,
  emulatorUrl: string | URL,
  options: { strategy?: 'http-only' | 'sse-only'; browserLog?: string; configDir?: string; user?: string; timeoutMs?: number } = {},
): Promise<McpRemoteSession> {
  // xdg-open splits $BROWSER on ':' and runs it word-split: paths must not contain ':' or spaces.
  const browser = `${process.execPath} ${BROWSER_HOOK}`
  if (/:|\s\S*\s/.test(browser)) throw new Error(`The BROWSER hook command must not contain ":" or extra spaces: ${browser}`)
  const configDir = options.configDir ?? (await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-mcp-remote-')))
  const browserLog = options.browserLog ?? path.join(configDir, 'browser.log')
  const timeoutMs = options.timeoutMs ?? 90_000
  const chunks: string[] = []
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE_PROXY, String(serverUrl), String(await freePort()), '--transport', options.strategy ?? 'http-only', '--auth-timeout', String(Math.round(timeoutMs / 1500))],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: configDir,
      MCP_REMOTE_CONFIG_DIR: configDir,
      BROWSER: browser,
      MCP_HARNESS_EMULATOR_URL: String(emulatorUrl),
      MCP_HARNESS_BROWSER_LOG: browserLog,
      ...(options.user ? { MCP_HARNESS_UPSTREAM_USER: options.user } : {}),
    },
    stderr: 'pipe',
  })
  transport.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  const client = new Client({ name: 'mcp-harness via mcp-remote', version: '0.1.0' })
  const stderr = () => chunks.join('')
  const browserRuns = async () =>
    (await readFile(browserLog, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as BrowserRun)
  const close = async () => {
    await client.close().catch(() => {})
    if (!options.configDir) await rm(configDir, { recursive: true, force: true })
  }
  try {
    await client.connect(transport, { timeout: timeoutMs })
  } catch (error) {
    await close()
    throw new Error(`mcp-remote did not connect: ${(error as Error).message}\n--- mcp-remote stderr ---\n${stderr().slice(-4000)}`)
  }
  return { client, configDir, stderr, browserRuns, close }
}

/** Calls a tool and returns its first text content parsed as JSON. */
export async function callToolJson(client: Client, name: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const result = await client.callTool({ name, arguments: args })
  return JSON.parse((result.content as { text: string }[])[0].text)
}

/**
 * Calls one tool with the official Python MCP SDK, authenticated either by a given bearer token or
 * by `mcp_harness.sign_in()` inside the Python process; returns the tool's first text parsed as JSON.
 */
export async function pythonCallTool(
  mcpUrl: string | URL,
  tool: string,
  auth: { token: string } | { signIn: { user?: string; scopes?: string[] } },
  args: Record<string, unknown> = {},
): Promise<unknown> {
  const argv = [PYTHON_CALL_TOOL, String(mcpUrl), tool, '--args', JSON.stringify(args)]
  if ('token' in auth) argv.push('--token', auth.token)
  else {
    argv.push('--sign-in')
    if (auth.signIn.user) argv.push('--user', auth.signIn.user)
    for (const scope of auth.signIn.scopes ?? []) argv.push('--scope', scope)
  }
  // The pytest side finds the CLI from the project root and needs Node 22 from node_modules/.bin.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` }
  delete env.MCP_HARNESS_COMMAND
  try {
    const { stdout } = await run(VENV_PYTHON, argv, { cwd: ROOT, env, timeout: 90_000 })
    return JSON.parse(stdout)
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`The Python SDK client failed: ${message}\n--- stdout ---\n${stdout ?? ''}\n--- stderr ---\n${(stderr ?? '').slice(-4000)}`)
  }
}
