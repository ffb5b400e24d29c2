// The container's entry: serves the mounted Worker config with the control plane, and publishes
// both on the container's interface through plain TCP relays.
//
// Why relays: the emulator and its control plane listen on loopback only (anything that can reach
// them can evict, crash and read transcripts). Inside a container loopback is private to the
// container, so the relays are the one deliberate exit; publish them on the host's loopback
// (`-p 127.0.0.1::8787`), as the tests do.
import { access, constants, cp, symlink } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { createEmulator } from '../emulator/index.ts'
import { startControlPlane } from '../emulator/control/server.ts'
import { saveEmulatorCassette } from '../recordings/capture/save-emulator-cassette.ts'
import { controlToken } from './control-token.ts'
import { SERVE_MAX_EVENTS } from '../core/transcript.ts'

const mounted = process.env.MCP_HARNESS_CONFIG ?? '/srv/mcp-harness/worker/wrangler.jsonc'
const config = await writableConfig(mounted)
const publicPort = Number(process.env.MCP_HARNESS_PORT ?? 8787)
const controlPublicPort = Number(process.env.MCP_HARNESS_CONTROL_PORT ?? 8788)

const emulator = await createEmulator({ config, transcript: { maxEvents: SERVE_MAX_EVENTS }, onProgress: (message) => console.error(`[mcp-harness] ${message}`) })
// The token never goes to the log: it comes from the environment, or is written to a file the ready line names.
const token = await controlToken(process.env)
const control = await startControlPlane(
  emulator,
  { token: token.token, cassettesDir: process.env.MCP_HARNESS_CASSETTES_DIR || '/srv/mcp-harness/cassettes' },
  { saveCassette: saveEmulatorCassette },
)

/**
 * wrangler writes `.wrangler/tmp` beside the config while bundling: a read-only mount is copied
 * (without node_modules, which is linked) under /srv/mcp-harness, where bare imports still resolve.
 */
async function writableConfig(configPath: string): Promise<string> {
  const dir = path.dirname(configPath)
  try {
    await access(dir, constants.W_OK)
    return configPath
  } catch {
    const copy = '/srv/mcp-harness/.worker-copy'
    await cp(dir, copy, { recursive: true, filter: (source) => !/\/(node_modules|\.wrangler)(\/|$)/.test(source.slice(dir.length)) })
    await symlink(path.join(dir, 'node_modules'), path.join(copy, 'node_modules')).catch(() => {})
    console.error(`[mcp-harness] ${dir} is read-only: serving a copy`)
    return path.join(copy, path.basename(configPath))
  }
}

function relay(listenPort: number, targetPort: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    socket.pipe(upstream).pipe(socket)
    const close = () => {
      socket.destroy()
      upstream.destroy()
    }
    socket.on('error', close)
    upstream.on('error', close)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(listenPort, '0.0.0.0', () => resolve(server))
  })
}

const relays = await Promise.all([relay(publicPort, Number(emulator.url.port)), relay(controlPublicPort, Number(control.url.port))])
// The same ready line as `mcp-harness serve --json --control`, with the container-side ports.
console.log(
  JSON.stringify({
    url: `http://127.0.0.1:${publicPort}/`,
    mcp: `http://127.0.0.1:${publicPort}/mcp`,
    sse: `http://127.0.0.1:${publicPort}/sse`,
    health: `http://127.0.0.1:${publicPort}/health`,
    control: { url: `http://127.0.0.1:${controlPublicPort}${control.url.pathname}`, ...(token.source === 'env' ? { tokenFrom: 'MCP_HARNESS_CONTROL_TOKEN' } : { tokenFile: token.file }) },
  }),
)

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  for (const server of relays) server.close()
  await control.close()
  await emulator.dispose()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
