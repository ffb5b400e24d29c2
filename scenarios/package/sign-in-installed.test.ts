import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserLane } from '../browser/chromium.ts'
import { explain, NPX_LOCAL, packProject, ROOT, run, serveChild, type Served } from './packaging.ts'

// Issue 10, done when: "In a Worker project outside this repo with the package installed:
// `npx mcp-harness serve --upstream github` on a GitHub-OAuth McpAgent Worker, then
// `npx mcp-harness token --url <mcp>` prints a token with which the TS SDK calls a tool; the same
// for Google, Cloudflare and an OIDC/JWKS Worker." Each fixture Worker project is copied out of the
// repository and driven through the packed package's real bin, as a user would from a shell.
const FIXTURES = path.join(ROOT, 'scenarios/fixtures')
const PROJECTS = [
  { project: 'github-oauth', upstream: 'github', tool: 'whoami', user: 'octocat' },
  { project: 'google-oauth', upstream: 'google', tool: 'whoami', user: 'ada@example.com' },
  { project: 'cloudflare-stateless', upstream: 'cloudflare', tool: 'whoami', user: 'ada@example.com' },
  { project: 'oidc-jwks', upstream: 'auth0', tool: 'whoami', user: 'ada@example.com' },
] as const
// Chromium for the approval page that needs JavaScript (Debian's `chromium`; with CI=true it must be there).
const lane = browserLane()
if (!lane.run) console.log(`[sign-in-installed] ${lane.reason}`)

let work: string
const timings: Record<string, number> = {}

/** The version of `name` this repository has installed, so that the install is served from npm's cache. */
async function installedVersion(name: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
}

beforeAll(async () => {
  const started = performance.now()
  work = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-sign-in-install-'))
  const { tarball, result } = await packProject(work)
  timings.packMs = result.ms
  // The four projects share one install (their dependencies overlap; installing four times would
  // quadruple the cost): a folder with the union of their dependencies, the tarball and
  // playwright-core (the harness's optional peer for consent pages that need JavaScript), linked as
  // each project's node_modules. Each project keeps its own package.json, wrangler config and .dev.vars.
  const manifests = await Promise.all(PROJECTS.map(async ({ project }) => JSON.parse(await readFile(path.join(FIXTURES, project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }))
  const names = [...new Set(manifests.flatMap((manifest) => Object.keys(manifest.dependencies)))].sort()
  const dependencies = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await installedVersion(name)] as const)))
  const deps = path.join(work, 'deps')
  await mkdir(deps)
  await writeFile(
    path.join(deps, 'package.json'),
    `${JSON.stringify({ name: 'oauth-workers-deps', private: true, type: 'module', dependencies, devDependencies: { 'mcp-harness': `file:${tarball}`, wrangler: await installedVersion('wrangler'), 'playwright-core': await installedVersion('playwright-core') } }, null, 2)}\n`,
  )
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: deps, timeoutMs: 600_000 })
  expect(install.code, explain('npm install', install)).toBe(0)
  timings.installMs = install.ms
  // The projects import their approval-page helpers from ../../_shared, as in the repository.
  for (const project of ['_shared', ...PROJECTS.map((p) => p.project)]) {
    await cp(path.join(FIXTURES, project), path.join(work, project), { recursive: true, filter: (source) => !source.includes(`${path.sep}node_modules`) })
    if (project !== '_shared') await symlink(path.join(deps, 'node_modules'), path.join(work, project, 'node_modules'), 'dir')
  }
  timings.setupMs = performance.now() - started
}, 900_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
  console.log(`[sign-in-installed] ${Object.entries(timings).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(', ')}`)
})

describe('`npx mcp-harness serve --upstream …` then `npx mcp-harness token` in Worker projects outside the repository', () => {
  test.each(PROJECTS)('$project: serve --upstream $upstream, token prints a token alone, and the TS SDK lists tools and calls $tool with it', (project) => signInAndCall(project), 300_000)

  test.skipIf(!lane.run)('github-oauth with an approval page that needs JavaScript (--var APPROVAL_PAGE=script-form): token runs it in Chromium and prints a token', () =>
    signInAndCall({ project: 'github-oauth', upstream: 'github', tool: 'whoami', user: 'octocat', serveArgs: ['--var', 'APPROVAL_PAGE=script-form'], label: 'github-oauth-chromium' }), 300_000)
})

/** Serves `project` with the installed bin, signs in with `npx mcp-harness token`, and calls `tool` with the token. */
async function signInAndCall({ project, upstream, tool, user, serveArgs = [], label = project }: { project: string; upstream: string; tool: string; user: string; serveArgs?: string[]; label?: string }) {
  const started = performance.now()
  const cwd = path.join(work, project)
  const served: Served = await serveChild(cwd, ['--upstream', upstream, ...serveArgs])
  const context = () => `\n--- serve stdout\n${served.output().stdout.slice(-2000)}\n--- serve stderr\n${served.output().stderr.slice(-2000)}`
  try {
    const token = await run('npx', [...NPX_LOCAL, 'mcp-harness', 'token', '--url', served.ready.mcp], { cwd, timeoutMs: 180_000 })
    expect(token.code, explain('npx mcp-harness token', token) + context()).toBe(0)
    expect(token.stdout, explain('npx mcp-harness token', token)).toMatch(/^\S+\n$/)
    const client = new Client({ name: 'sign-in-installed', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(new URL(served.ready.mcp), { requestInit: { headers: { authorization: `Bearer ${token.stdout.trim()}` } } })
    try {
      await client.connect(transport)
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name)).toContain(tool)
      const result = (await client.callTool({ name: tool, arguments: {} })) as { isError?: boolean; content: { type: string; text: string }[] }
      expect(result.isError, JSON.stringify(result)).toBeFalsy()
      expect(result.content[0]?.text).toContain(user)
    } catch (error) {
      throw new Error(`${(error as Error).message}${context()}`)
    } finally {
      await client.close().catch(() => {})
    }
  } finally {
    await served.stop()
    timings[`${label}Ms`] = performance.now() - started
  }
}
