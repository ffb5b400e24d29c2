import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { HarnessError } from '../core/errors.ts'
import { HARNESS_CONFIG_FILES } from '../emulator/config-file.ts'
import { UsageError, type CliCommand } from './command.ts'
import { harnessConfigTemplate, scenarioTestTemplate, vitestConfigTemplate, type Detected } from './init-templates.ts'

const WRANGLER_CONFIGS = ['wrangler.jsonc', 'wrangler.json', 'wrangler.toml']
const VITEST_CONFIGS = ['vitest.config.ts', 'vitest.config.mts', 'vitest.config.cts', 'vitest.config.js', 'vitest.config.mjs', 'vitest.config.cjs', 'vite.config.ts', 'vite.config.mts', 'vite.config.js', 'vite.config.mjs']
const TEST_FILE = 'test/mcp-harness.test.ts'
const SEPARATE_VITEST_CONFIG = 'vitest.mcp-harness.config.ts'
const MAX_SCANNED = 200
const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.js', '.mjs', '.jsx']

/** Reads the Worker's source: the entry and every relative import it reaches (bare imports are packages). */
async function readSources(root: string, main: string): Promise<Map<string, string>> {
  const sources = new Map<string, string>()
  const queue = [path.resolve(root, main)]
  while (queue.length && sources.size < MAX_SCANNED) {
    const file = queue.shift()!
    if (sources.has(file)) continue
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue
    }
    sources.set(file, text)
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), match[1]!)
      const base = target.replace(/\.(js|mjs|jsx)$/, '')
      const candidates = [target, ...SOURCE_EXTENSIONS.map((ext) => base + ext), ...SOURCE_EXTENSIONS.map((ext) => path.join(target, `index${ext}`))]
      const found = candidates.find((candidate) => existsSync(candidate) && /\.[cm]?[jt]sx?$/.test(candidate))
      if (found && !sources.has(found)) queue.push(found)
    }
  }
  return sources
}

/** The string a route argument names: a literal, or a constant declared with a literal in the sources. */
function routeValue(argument: string, all: string): string | undefined {
  const literal = /^\s*['"`]([^'"`]+)['"`]/.exec(argument)
  if (literal) return literal[1]
  const identifier = /^\s*([A-Za-z_$][\w$]*)\s*$/.exec(argument)?.[1]
  if (!identifier) return undefined
  return new RegExp(`(?:const|let|var)\\s+${identifier.replace(/\$/g, '\\$')}\\s*(?::\\s*[\\w<>]+\\s*)?=\\s*['"\`]([^'"\`]+)['"\`]`).exec(all)?.[1]
}

/**
 * Finds the MCP routes, the auth kind and the tools in the Worker's source, the way a reader would:
 * `X.serve('/mcp')`, `X.serveSSE('/sse')` (and the older `X.mount('/sse')`), `createMcpHandler(…,
 * { route })` (stateless; default `/mcp`), Hono's `app.mount('/path', X.serve…)`; OAuthProvider and
 * the upstream's URLs; a hand-written `Bearer` check; `registerTool('name'` / `.tool('name'`.
 */
export function detectFromSources(sources: Map<string, string>): Omit<Detected, 'wranglerConfig' | 'main' | 'scanned'> {
  const all = [...sources.values()].join('\n')
  const code = all.replace(/^\s*\/\/.*$/gm, '')
  const streamable = new Map<string, boolean>()
  const sse = new Set<string>()
  for (const match of code.matchAll(/\.serve\(\s*([^,)]+)/g)) {
    const route = routeValue(match[1]!, code)
    if (route?.startsWith('/')) streamable.set(route, false)
  }
  for (const match of code.matchAll(/\.(?:serveSSE|mount)\(\s*([^,)]+)\s*(,|\))/g)) {
    const route = routeValue(match[1]!, code)
    // Hono's app.mount('/x', handler) has a second argument; McpAgent.mount('/sse') (old serveSSE) has none.
    if (!route?.startsWith('/')) continue
    if (match[0].startsWith('.serveSSE') || match[2] === ')') sse.add(route)
  }
  for (const match of code.matchAll(/\.mount\(\s*([^,)]+),\s*([^\n]*)/g)) {
    const route = routeValue(match[1]!, code)
    if (!route?.startsWith('/')) continue
    if (/serveSSE\(/.test(match[2]!)) sse.add(route)
    else if (/\.serve\(|createMcpHandler\(/.test(match[2]!)) streamable.set(route, /createMcpHandler\(/.test(match[2]!))
  }
  for (const match of code.matchAll(/createMcpHandler\(([\s\S]{0,400}?)\)\s*(?:;|\n|$)/g)) {
    const route = /route\s*:\s*([^,}\n]+)/.exec(match[1]!)?.[1]
    const value = route ? routeValue(route, code) : '/mcp'
    if (value?.startsWith('/') && !streamable.has(value)) streamable.set(value, true)
  }
  let auth: Detected['auth'] = { kind: 'none' }
  if (/@cloudflare\/workers-oauth-provider|new\s+OAuthProvider\b/.test(code)) {
    const upstream = /github\.com\/login\/oauth/.test(code)
      ? 'github'
      : /accounts\.google\.com|oauth2\.googleapis\.com/.test(code)
        ? 'google'
        : /dash\.cloudflare\.com\/oauth2/.test(code)
          ? 'cloudflare'
          : /\.well-known\/openid-configuration|openid/.test(code)
            ? 'oidc'
            : undefined
    auth = { kind: 'oauth', ...(upstream ? { upstream } : {}) }
  } else if (/['"`]Bearer\s|\/\^Bearer|bearer\\s/i.test(code) && /authorization/i.test(code)) {
    auth = { kind: 'bearer' }
  }
  const tools = [...new Set([...code.matchAll(/\.(?:registerTool|tool)\(\s*['"`]([\w.-]+)['"`]/g)].map((match) => match[1]!))]
  return {
    streamable: [...streamable].map(([route, stateless]) => ({ path: route, stateless })),
    sse: [...sse],
    auth,
    tools,
  }
}

/** Detects everything `init` writes from: the wrangler config, its entry and what the sources show. */
export async function detectProject(root: string): Promise<Detected> {
  const wranglerConfig = WRANGLER_CONFIGS.find((name) => existsSync(path.join(root, name)))
  if (!wranglerConfig) {
    throw new HarnessError('ERR_CONFIG', `Failed to set up mcp-harness in ${root}: no ${WRANGLER_CONFIGS.join(', ')} here. Run \`npx mcp-harness init\` in the folder of your Worker's wrangler config.`)
  }
  const { describeWranglerError } = await import('../emulator/internal/wrangler-errors.ts')
  const wrangler = await import('wrangler')
  let main: string | undefined
  try {
    main = wrangler.unstable_readConfig({ config: path.join(root, wranglerConfig) }).main
  } catch (error) {
    throw new HarnessError('ERR_CONFIG', `Failed to read ${wranglerConfig}: ${describeWranglerError(error)}.`, { cause: error })
  }
  if (!main) throw new HarnessError('ERR_CONFIG', `Failed to set up mcp-harness: ${wranglerConfig} has no "main" (the Worker's entry module). Add "main": "src/index.ts".`)
  const sources = await readSources(root, main)
  return {
    wranglerConfig,
    main: path.relative(root, path.resolve(root, main)),
    scanned: [...sources.keys()].map((file) => path.relative(root, file)),
    ...detectFromSources(sources),
  }
}

/** One file `init` writes, and what became of it. */
interface Planned {
  file: string
  text: string
  state?: 'created' | 'unchanged' | 'overwritten'
}

/** Adds `script` to package.json when the name is free; returns what it did. */
async function addScript(root: string, name: string, command: string): Promise<string | undefined> {
  const file = path.join(root, 'package.json')
  if (!existsSync(file)) return undefined
  const text = await readFile(file, 'utf8')
  const pkg = JSON.parse(text) as { scripts?: Record<string, string> }
  if (pkg.scripts?.[name] === command) return undefined
  if (pkg.scripts?.[name]) return `kept the "${name}" script of package.json (it runs: ${pkg.scripts[name]})`
  pkg.scripts = { ...pkg.scripts, [name]: command }
  const indent = /^\s+/m.exec(text)?.[0] ?? '  '
  await writeFile(file, `${JSON.stringify(pkg, null, indent)}\n`)
  return `added the "${name}" script to package.json: ${command}`
}

export const initCommand: CliCommand = {
  summary: 'Set up mcp-harness in a Worker project: harness config, a first test over its transports, vitest wiring',
  usage: '[--dir path] [--force] [--dry-run]',
  options: {
    dir: { type: 'string', value: 'path', description: 'the Worker project (the folder of its wrangler config)', default: '.' },
    force: { type: 'boolean', description: 'overwrite files init wrote before and you changed since' },
    'dry-run': { type: 'boolean', description: 'print what would be written, write nothing' },
  },
  details: [
    'Detects the wrangler config, the MCP routes (McpAgent.serve/serveSSE, createMcpHandler, Hono app.mount) and the auth kind',
    '(none, bearer, OAuthProvider and its upstream) from the source, then writes mcp-harness.config.ts, test/mcp-harness.test.ts',
    '(lists and calls the tools over each transport found) and a vitest config when the project has none.',
    'Running it again changes nothing; it refuses to replace a file whose content differs unless --force is given.',
  ].join('\n'),
  async run({ values, stdout }) {
    const root = path.resolve(String(values.dir ?? '.'))
    if (!existsSync(root)) throw new UsageError(`Invalid --dir "${String(values.dir)}": no such folder.`)
    const detected = await detectProject(root)
    const existingHarness = HARNESS_CONFIG_FILES.find((name) => name !== 'mcp-harness.config.ts' && existsSync(path.join(root, name)))
    if (existingHarness) throw new HarnessError('ERR_EXISTS', `Failed to set up mcp-harness: ${existingHarness} exists already, and mcp-harness.config.ts would take its place. Keep yours (nothing to do) or remove it and run init again.`)
    const existingVitest = VITEST_CONFIGS.find((name) => existsSync(path.join(root, name)))
    const existingVitestText = existingVitest ? await readFile(path.join(root, existingVitest), 'utf8') : ''
    // A Workers-pool config runs tests inside workerd; mcp-harness tests run in Node beside it.
    const workersPool = /vitest-pool-workers|defineWorkersConfig|defineWorkersProject|cloudflareTest/.test(existingVitestText)
    const planned: Planned[] = [
      { file: 'mcp-harness.config.ts', text: harnessConfigTemplate(detected) },
      { file: TEST_FILE, text: scenarioTestTemplate(detected) },
    ]
    // A project that is not `"type": "module"` would load a .ts config as CommonJS: .mts says ESM either way.
    const esm = existsSync(path.join(root, 'package.json')) && /"type"\s*:\s*"module"/.test(await readFile(path.join(root, 'package.json'), 'utf8'))
    // The config an earlier init wrote is ours to keep as it is (idempotence), not the user's.
    const ours = existingVitest !== undefined && existingVitestText === vitestConfigTemplate()
    if (!existingVitest || ours) planned.push({ file: existingVitest ?? (esm ? 'vitest.config.ts' : 'vitest.config.mts'), text: vitestConfigTemplate() })
    else if (workersPool) planned.push({ file: SEPARATE_VITEST_CONFIG, text: vitestConfigTemplate([TEST_FILE]) })
    const conflicts: string[] = []
    for (const item of planned) {
      const target = path.join(root, item.file)
      if (!existsSync(target)) item.state = 'created'
      else if ((await readFile(target, 'utf8')) === item.text) item.state = 'unchanged'
      else if (values.force) item.state = 'overwritten'
      else conflicts.push(item.file)
    }
    if (conflicts.length) {
      throw new HarnessError('ERR_EXISTS', `Failed to set up mcp-harness: ${conflicts.join(', ')} exist${conflicts.length === 1 ? 's' : ''} with other content (changed since init wrote it?). Nothing was written. Pass --force to replace ${conflicts.length === 1 ? 'it' : 'them'}.`)
    }
    const routes = [...detected.streamable.map((e) => `${e.path} (Streamable HTTP${e.stateless ? ', stateless' : ''})`), ...detected.sse.map((p) => `${p} (SSE)`)]
    const auth = detected.auth.kind === 'oauth' ? `OAuthProvider${detected.auth.upstream ? ` with ${detected.auth.upstream}` : ' (upstream not recognised)'}` : detected.auth.kind
    const report = [
      `Worker: ${detected.wranglerConfig} → ${detected.main} (${detected.scanned.length} source file${detected.scanned.length === 1 ? '' : 's'} read)`,
      `MCP routes: ${routes.join(', ') || 'none found'}`,
      `Auth: ${auth}`,
      `Tools: ${detected.tools.length ? `${detected.tools.slice(0, 10).join(', ')}${detected.tools.length > 10 ? `, … (${detected.tools.length})` : ''}` : 'none found in the source'}`,
      '',
    ]
    const dryRun = values['dry-run'] === true
    for (const item of planned) {
      if (item.state === 'unchanged') continue
      if (dryRun) continue
      await mkdir(path.dirname(path.join(root, item.file)), { recursive: true })
      await writeFile(path.join(root, item.file), item.text)
    }
    for (const item of planned) report.push(`${dryRun && item.state !== 'unchanged' ? `would be ${item.state}` : item.state}: ${item.file}`)
    let next = `npx vitest run ${TEST_FILE}`
    if (existingVitest && !ours && !workersPool) report.push(`kept: ${existingVitest} (it runs ${TEST_FILE} unless its "include" says otherwise)`)
    if (workersPool) {
      next = `npx vitest run --config ${SEPARATE_VITEST_CONFIG}`
      const script = dryRun ? undefined : await addScript(root, 'test:mcp-harness', `vitest run --config ${SEPARATE_VITEST_CONFIG}`)
      if (script) {
        report.push(script)
        next = 'npm run test:mcp-harness'
      }
      report.push(`kept: ${existingVitest} (it runs tests inside workerd; exclude ${TEST_FILE} from it: mcp-harness tests run in Node)`)
    } else if (!dryRun) {
      const script = await addScript(root, 'test', 'vitest run')
      if (script) report.push(script)
    }
    report.push('', `Next: ${next}`, 'Then: npx mcp-harness serve   (serves the Worker with the harness config and prints client settings)')
    stdout.write(`${report.join('\n')}\n`)
    return 0
  },
}
