// KI-33: `agents/mcp` imports the MCP SDK v2 package `@modelcontextprotocol/server` as an optional peer;
// a project that does not install it cannot be bundled. The scenario builds a small McpAgent project in
// a temporary folder whose node_modules mirrors this one (the same packages, linked) except for that
// peer, then installs it (links it) and builds again. `agents` itself is copied, not linked: a link
// would resolve its imports from the real folder, where the peer is installed.
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { isHarnessError } from '../../core/errors.ts'
import { connectClient } from '../helpers/clients.ts'

const PEER = '@modelcontextprotocol/server'
const ROOT_MODULES = path.resolve('node_modules')
let project: string

const WORKER = `import { McpAgent } from 'agents/mcp'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'

export class PeerMcp extends McpAgent {
  server = new McpServer({ name: 'peer', version: '0.1.0' })
  async init() {
    this.server.registerTool('ping', {}, async () => ({ content: [{ type: 'text', text: 'pong' }] }))
  }
}

export default PeerMcp.serve('/mcp', { binding: 'MCP_OBJECT' })
`

const CONFIG = {
  name: 'ki-33-project',
  main: 'src/index.ts',
  compatibility_date: '2026-07-01',
  compatibility_flags: ['nodejs_compat'],
  durable_objects: { bindings: [{ name: 'MCP_OBJECT', class_name: 'PeerMcp' }] },
  migrations: [{ tag: 'v1', new_sqlite_classes: ['PeerMcp'] }],
}

beforeAll(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-ki-33-'))
  await mkdir(path.join(project, 'src'))
  await writeFile(path.join(project, 'src/index.ts'), WORKER)
  await writeFile(path.join(project, 'wrangler.json'), JSON.stringify(CONFIG, null, 2))
  const modules = path.join(project, 'node_modules')
  await mkdir(path.join(modules, '@modelcontextprotocol'), { recursive: true })
  for (const entry of await readdir(ROOT_MODULES)) {
    if (entry.startsWith('.') || entry === 'agents' || entry === '@modelcontextprotocol') continue
    await symlink(path.join(ROOT_MODULES, entry), path.join(modules, entry))
  }
  for (const entry of await readdir(path.join(ROOT_MODULES, '@modelcontextprotocol'))) {
    if (`@modelcontextprotocol/${entry}` === PEER) continue
    await symlink(path.join(ROOT_MODULES, '@modelcontextprotocol', entry), path.join(modules, '@modelcontextprotocol', entry))
  }
  await cp(path.join(ROOT_MODULES, 'agents'), path.join(modules, 'agents'), { recursive: true })
})
afterAll(() => (project ? rm(project, { recursive: true, force: true }) : undefined))

test(`KI-33: without ${PEER} installed the build fails with "Could not resolve" and the harness names the install command`, async () => {
  const error = await createEmulator({ config: path.join(project, 'wrangler.json') }).then(
    async (emulator) => {
      await emulator.dispose()
      return undefined
    },
    (caught: unknown) => caught,
  )
  expect(isHarnessError(error, 'ERR_BUILD')).toBe(true)
  expect((error as Error).message).toContain(`Could not resolve "${PEER}"`)
  expect((error as Error).message).toContain(`npm install ${PEER}`)
  expect((error as Error).message).toContain('docs/known-issues.md#ki-33')
})

test(`KI-33: with ${PEER} installed (the fix) the same project builds and serves MCP`, async () => {
  await symlink(path.join(ROOT_MODULES, PEER), path.join(project, 'node_modules', PEER))
  const emulator = await createEmulator({ config: path.join(project, 'wrangler.json') })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('ping')).toBe('pong')
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
