/**
 * Re-records every committed cassette from real clients (TS SDK, MCP Inspector CLI, mcp-remote)
 * through the recording proxy, against the reference server under the emulator.
 * Run: `npm run record:cassettes` (all) or `npm run record:cassettes -- sdk/sse inspector/tools-list`.
 */
import { spawn, execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { createEmulator, type Emulator } from '../emulator/index.ts'
import { buildCassette, createRecordingProxy, evictWhenIdle, saveCassette, type CassetteMeta, type RecordingProxy } from '../recordings/index.ts'

/** Where committed cassettes live, relative to the project root. */
export const CASSETTE_DIR = 'recordings/cassettes'
const REFERENCE_CONFIG = 'server/wrangler.jsonc'
const BIN = path.resolve('node_modules/.bin')

interface RecordingContext {
  emulator: Emulator
  proxy: RecordingProxy
}

/** One committed cassette: how its client drives the session. */
export interface CassetteScenario {
  id: string
  client: string
  transport: CassetteMeta['transport']
  notes?: string
  drive(ctx: RecordingContext): Promise<void>
}

function sdkClient(kind: 'streamable-http' | 'sse', base: URL, elicit = false) {
  const transport = kind === 'sse' ? new SSEClientTransport(new URL('/sse', base)) : new StreamableHTTPClientTransport(new URL('/mcp', base))
  const client = new Client({ name: 'mcp-harness-recorder', version: '0.1.0' }, { capabilities: elicit ? { elicitation: { form: {} } } : {} })
  if (elicit) client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }))
  return { client, transport }
}

async function closeSdk(client: Client, transport: StreamableHTTPClientTransport | SSEClientTransport): Promise<void> {
  // Streamable HTTP sessions end with DELETE, as a well-behaved client does.
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession()
  await client.close()
}

function run(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => (error ? reject(new Error(`${path.basename(file)} failed: ${error.message}\n${stderr}`)) : resolve(stdout))),
  )
}

function sessionIdOf(transport: StreamableHTTPClientTransport | SSEClientTransport): string {
  if (transport instanceof StreamableHTTPClientTransport) return transport.sessionId ?? ''
  return (transport as unknown as { _endpoint?: URL })._endpoint?.searchParams.get('sessionId') ?? ''
}

/** Drives mcp-remote's stdio side: newline-delimited JSON-RPC in, answers out, as Claude Desktop does. */
async function driveMcpRemote(url: URL): Promise<void> {
  const configDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-remote-'))
  const child = spawn(path.join(BIN, 'mcp-remote'), [url.href, '--transport', 'http-only'], { env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const pending = new Map<number, (message: Record<string, unknown>) => void>()
  let buffer = ''
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    let newline: number
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim()
      buffer = buffer.slice(newline + 1)
      if (!line) continue
      const message = JSON.parse(line) as Record<string, unknown>
      if (typeof message.id === 'number') pending.get(message.id)?.(message)
    }
  })
  const call = (id: number, method: string, params: unknown) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mcp-remote gave no answer to ${method} in 30 s. Its stderr:\n${stderr}`)), 30_000)
      pending.set(id, (message) => {
        clearTimeout(timer)
        resolve(message)
      })
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`)
    })
  try {
    await call(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-desktop-like', version: '0.1.0' } })
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`)
    await call(1, 'tools/list', {})
    const added = await call(2, 'tools/call', { name: 'add', arguments: { a: 20, b: 22 } })
    if (!JSON.stringify(added).includes('42')) throw new Error(`mcp-remote returned ${JSON.stringify(added)}`)
  } finally {
    child.stdin.end()
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
    await rm(configDir, { recursive: true, force: true })
  }
}

/** Every committed cassette. */
export const CASSETTE_SCENARIOS: CassetteScenario[] = [
  ...(['streamable-http', 'sse'] as const).map(
    (kind): CassetteScenario => ({
      id: `sdk/${kind}`,
      client: 'mcp-typescript-sdk',
      transport: kind,
      notes: 'initialize, tools/list, add, counter twice, then close',
      async drive({ proxy }) {
        const { client, transport } = sdkClient(kind, proxy.url)
        await client.connect(transport)
        await client.listTools()
        await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
        await client.callTool({ name: 'counter', arguments: {} })
        await client.callTool({ name: 'counter', arguments: {} })
        await closeSdk(client, transport)
      },
    }),
  ),
  {
    id: 'sdk/progress-elicitation',
    client: 'mcp-typescript-sdk',
    transport: 'streamable-http',
    notes: 'slow {steps:3} with a progress token (three notifications/progress), then elicit_name answered "Ada"',
    async drive({ proxy }) {
      const { client, transport } = sdkClient('streamable-http', proxy.url, true)
      await client.connect(transport)
      await client.callTool({ name: 'slow', arguments: { steps: 3, ms: 20 } }, undefined, { onprogress: () => {} })
      const hello = await client.callTool({ name: 'elicit_name', arguments: {} })
      if (!JSON.stringify(hello).includes('Hello, Ada')) throw new Error(`elicit_name returned ${JSON.stringify(hello)}`)
      await closeSdk(client, transport)
    },
  },
  {
    id: 'sdk/hibernation',
    client: 'mcp-typescript-sdk',
    transport: 'streamable-http',
    notes: 'KI-11: counter and memo, a hibernation eviction, then counter continues (2) while memo resets (1)',
    async drive({ proxy, emulator }) {
      const { client, transport } = sdkClient('streamable-http', proxy.url)
      await client.connect(transport)
      await client.callTool({ name: 'counter', arguments: {} })
      await client.callTool({ name: 'memo', arguments: {} })
      const session = sessionIdOf(transport)
      const [name] = await evictWhenIdle(emulator, session)
      // The emulator's transcript sees the eviction; the proxy is told, so the cassette carries it.
      proxy.mark({ layer: 'lifecycle', type: 'evicted', detail: { name, session, webSockets: 'hibernate' } })
      await client.callTool({ name: 'counter', arguments: {} })
      await client.callTool({ name: 'memo', arguments: {} })
      await closeSdk(client, transport)
    },
  },
  {
    id: 'inspector/tools-list',
    client: 'mcp-inspector-cli',
    transport: 'streamable-http',
    notes: 'mcp-inspector --cli <url>/mcp --transport http --method tools/list',
    drive: async ({ proxy }) => void (await run(path.join(BIN, 'mcp-inspector'), ['--cli', new URL('/mcp', proxy.url).href, '--transport', 'http', '--method', 'tools/list'])),
  },
  {
    id: 'inspector/tools-call-add',
    client: 'mcp-inspector-cli',
    transport: 'streamable-http',
    notes: 'mcp-inspector --cli <url>/mcp --transport http --method tools/call --tool-name add --tool-arg a=2 b=3',
    drive: async ({ proxy }) =>
      void (await run(path.join(BIN, 'mcp-inspector'), ['--cli', new URL('/mcp', proxy.url).href, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', 'b=3'])),
  },
  {
    id: 'inspector/tools-call-sse',
    client: 'mcp-inspector-cli',
    transport: 'sse',
    notes: 'mcp-inspector --cli <url>/sse --transport sse --method tools/call --tool-name add --tool-arg a=1 b=1',
    drive: async ({ proxy }) =>
      void (await run(path.join(BIN, 'mcp-inspector'), ['--cli', new URL('/sse', proxy.url).href, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=1', 'b=1'])),
  },
  {
    id: 'mcp-remote/session',
    client: 'mcp-remote',
    transport: 'streamable-http',
    notes: 'mcp-remote <url>/mcp --transport http-only, stdio driven like Claude Desktop: initialize, tools/list, add',
    drive: ({ proxy }) => driveMcpRemote(new URL('/mcp', proxy.url)),
  },
]

/** Records one scenario against a running emulator and writes its cassette; returns the file. */
export async function recordScenario(emulator: Emulator, scenario: CassetteScenario, dir = CASSETTE_DIR): Promise<string> {
  const proxy = createRecordingProxy({ target: emulator.url })
  await proxy.start()
  try {
    await scenario.drive({ emulator, proxy })
    // Let the last streams the client closed reach the proxy.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const cassette = buildCassette(proxy.snapshot(), {
      client: scenario.client,
      scenario: scenario.id.split('/').slice(1).join('/'),
      transport: scenario.transport,
      recordedWith: 'proxy',
      rerecord: `npm run record:cassettes -- ${scenario.id}`,
      ...(scenario.notes ? { notes: scenario.notes } : {}),
    })
    const file = path.join(dir, `${scenario.id}.json`)
    await saveCassette(file, cassette)
    return file
  } finally {
    await proxy.stop()
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2)
  const selected = only.length ? CASSETTE_SCENARIOS.filter((s) => only.includes(s.id)) : CASSETTE_SCENARIOS
  if (only.length && selected.length !== only.length) throw new Error(`Unknown cassette id. Known: ${CASSETTE_SCENARIOS.map((s) => s.id).join(', ')}`)
  const emulator = await createEmulator({ config: REFERENCE_CONFIG, workerLog: 'silent' })
  try {
    for (const scenario of selected) {
      const started = performance.now()
      const file = await recordScenario(emulator, scenario)
      process.stdout.write(`Recorded ${file} (${Math.round(performance.now() - started)} ms)\n`)
    }
  } finally {
    await emulator.dispose()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`)
    process.exit(1)
  })
}
