import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { HarnessError } from '../../core/errors.ts'
import { describeWranglerError } from './wrangler-errors.ts'

const require = createRequire(import.meta.url)

/** Environment for every wrangler call: no telemetry, no update check, nothing leaves the machine. */
export const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  NO_UPDATE_NOTIFIER: '1',
  CLOUDFLARE_API_TOKEN: '',
  CLOUDFLARE_ACCOUNT_ID: '',
}

for (const [key, value] of Object.entries(WRANGLER_ENV)) process.env[key] ??= value

export interface DurableObjectBinding {
  binding: string
  className: string
  /** Set when the class lives in another Worker. */
  scriptName?: string
  useSQLite: boolean
}

/** What the emulator needs to know about a Worker, read from its wrangler config by wrangler itself. */
export interface WorkerConfig {
  configPath: string
  name: string
  main: string
  compatibilityDate: string
  compatibilityFlags: string[]
  durableObjects: DurableObjectBinding[]
  /** Miniflare worker options derived by wrangler (bindings, KV, vars incl. `.dev.vars`, ...). */
  workerOptions: Record<string, unknown>
}

const CONFIG_NAMES = ['wrangler.jsonc', 'wrangler.json', 'wrangler.toml']

/** Finds the config file: a file path, or a folder holding one of the wrangler config names. */
export function resolveConfigPath(configPath: string): string {
  const absolute = path.resolve(configPath)
  if (!existsSync(absolute)) {
    throw new HarnessError(
      'ERR_CONFIG',
      `Failed to read wrangler config "${configPath}": no such file or folder. Pass the path of your wrangler.jsonc, wrangler.json or wrangler.toml (or the folder that holds it).`,
    )
  }
  if (!/\.(jsonc?|toml)$/.test(absolute)) {
    const found = CONFIG_NAMES.map((name) => path.join(absolute, name)).find((candidate) => existsSync(candidate))
    if (!found) {
      throw new HarnessError(
        'ERR_CONFIG',
        `Failed to read wrangler config in "${configPath}": the folder has none of ${CONFIG_NAMES.join(', ')}.`,
      )
    }
    return found
  }
  return absolute
}

type WranglerModule = typeof import('wrangler')
let wranglerModule: Promise<WranglerModule> | undefined
const loadWrangler = () => (wranglerModule ??= import('wrangler'))

/**
 * Options the emulator sets itself (it lists the Worker's modules) or that Miniflare's v4-to-v5
 * conversion refuses (`connectHandlers`, `modulesRules`).
 */
const DROPPED_WORKER_OPTION_KEYS = new Set(['connectHandlers', 'rootPath', 'modulesRules'])

/**
 * Reads a wrangler config the way wrangler does and checks what an MCP Worker needs.
 * @note `.dev.vars` (or `.env`) beside the config are merged into the bindings, like `wrangler dev`.
 */
export async function readWorkerConfig(configPath: string, environment?: string): Promise<WorkerConfig> {
  const file = resolveConfigPath(configPath)
  const wrangler = await loadWrangler()
  let config: ReturnType<WranglerModule['unstable_readConfig']>
  let miniflare: ReturnType<WranglerModule['unstable_getMiniflareWorkerOptions']>
  try {
    config = wrangler.unstable_readConfig({ config: file, env: environment })
    miniflare = wrangler.unstable_getMiniflareWorkerOptions(config, environment)
  } catch (error) {
    throw new HarnessError(
      'ERR_CONFIG',
      `Failed to read wrangler config "${file}": ${describeWranglerError(error)}. Fix the file; \`npx wrangler deploy --dry-run --config ${path.relative(process.cwd(), file)}\` shows the same check.`,
      { cause: error },
    )
  }
  if (!config.main) {
    throw new HarnessError('ERR_CONFIG', `Failed to read wrangler config "${file}": it has no "main" entry. Add "main": "src/index.ts" (the Worker's entry module).`)
  }
  if (!config.compatibility_date) {
    throw new HarnessError('ERR_CONFIG', `Failed to read wrangler config "${file}": it has no "compatibility_date". Add one, e.g. "compatibility_date": "2026-07-01" (build and run use the same date).`)
  }
  const sqliteClasses = new Set<string>()
  const kvClasses = new Set<string>()
  for (const migration of config.migrations ?? []) {
    for (const name of migration.new_sqlite_classes ?? []) sqliteClasses.add(name)
    for (const name of migration.new_classes ?? []) kvClasses.add(name)
    for (const renamed of migration.renamed_classes ?? []) {
      if (sqliteClasses.delete(renamed.from)) sqliteClasses.add(renamed.to)
      if (kvClasses.delete(renamed.from)) kvClasses.add(renamed.to)
    }
    for (const name of migration.deleted_classes ?? []) {
      sqliteClasses.delete(name)
      kvClasses.delete(name)
    }
  }
  const durableObjects: DurableObjectBinding[] = (config.durable_objects?.bindings ?? []).map((binding: { name: string; class_name: string; script_name?: string }) => ({
    binding: binding.name,
    className: binding.class_name,
    scriptName: binding.script_name,
    useSQLite: sqliteClasses.has(binding.class_name),
  }))
  for (const object of durableObjects) {
    if (object.scriptName) continue
    if (!sqliteClasses.has(object.className) && !kvClasses.has(object.className)) {
      // KI-13: production refuses to deploy this; wrangler dev silently runs it.
      throw new HarnessError(
        'ERR_CONFIG',
        `Failed to start "${config.name ?? file}": Durable Object class ${object.className} (binding ${object.binding}) has no migration defined (KI-13). Add to ${path.relative(process.cwd(), file) || file}: "migrations": [{ "tag": "v1", "new_sqlite_classes": ["${object.className}"] }].`,
      )
    }
  }
  const workerOptions: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(miniflare.workerOptions as Record<string, unknown>)) {
    if (DROPPED_WORKER_OPTION_KEYS.has(key)) continue
    // Empty binding maps are noise, and some are unknown to Miniflare 4.
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) continue
    if (Array.isArray(value) && value.length === 0) continue
    workerOptions[key] = value
  }
  return {
    configPath: file,
    name: config.name ?? path.basename(path.dirname(file)),
    main: config.main,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    durableObjects,
    workerOptions,
  }
}

export interface BuildResult {
  outdir: string
  entry: string
  /** True when an earlier build with identical inputs was reused. */
  cached: boolean
  durationMs: number
}

interface BuildManifest {
  key: string
  inputs: Record<string, string>
  entry: string
}

const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex')

async function hashInputs(root: string, inputs: string[]): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {}
  for (const input of inputs) {
    if (input.includes(':')) continue // virtual modules of wrangler's own (e.g. "wrangler:...")
    try {
      out[input] = sha1(await readFile(path.resolve(root, input)))
    } catch {
      return undefined
    }
  }
  return out
}

/**
 * The folder builds are cached in: inside the Worker's own project (never the harness's, never the
 * current folder's): its `node_modules/.cache/mcp-harness` when it has a node_modules (so a fresh
 * `npm install` starts clean), else `.mcp-harness/cache` beside its wrangler config.
 */
export function buildCacheRoot(configPath: string): string {
  if (process.env.MCP_HARNESS_CACHE_DIR) return path.resolve(process.env.MCP_HARNESS_CACHE_DIR)
  const projectDir = path.dirname(configPath)
  for (let dir = projectDir; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) {
      if (existsSync(path.join(dir, 'node_modules'))) return path.join(dir, 'node_modules', '.cache', 'mcp-harness')
      break
    }
    if (path.dirname(dir) === dir) break
  }
  return path.join(projectDir, '.mcp-harness', 'cache')
}

/**
 * Builds the Worker with wrangler's own bundler (`wrangler deploy --dry-run`), reusing the previous
 * build when no input file changed.
 */
export async function buildWorker(worker: WorkerConfig, environment?: string, onLog?: (line: string) => void): Promise<BuildResult> {
  const started = performance.now()
  const key = sha1(JSON.stringify([worker.configPath, environment ?? '', await readFile(worker.configPath, 'utf8')]))
  const dir = path.join(buildCacheRoot(worker.configPath), 'builds', key.slice(0, 16))
  const manifestPath = path.join(dir, 'manifest.json')
  const cwd = path.dirname(worker.configPath)
  try {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BuildManifest
    const current = await hashInputs(cwd, Object.keys(manifest.inputs))
    if (manifest.key === key && current && JSON.stringify(current) === JSON.stringify(manifest.inputs) && existsSync(manifest.entry)) {
      return { outdir: path.dirname(manifest.entry), entry: manifest.entry, cached: true, durationMs: performance.now() - started }
    }
  } catch {
    // No usable cache: build.
  }
  const outdir = path.join(dir, `out-${process.pid}-${Date.now()}`)
  await mkdir(outdir, { recursive: true })
  const metafile = path.join(outdir, 'bundle-meta.json')
  // wrangler's package exports do not list its bin; find it beside package.json.
  const wranglerBin = path.join(path.dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js')
  const args = [wranglerBin, 'deploy', '--dry-run', '--outdir', outdir, '--metafile', metafile, '--config', worker.configPath]
  if (environment) args.push('--env', environment)
  const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    const collect = (chunk: Buffer) => {
      text += chunk.toString()
      if (onLog) for (const line of chunk.toString().split('\n')) if (line.trim()) onLog(line)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('close', (code) => resolve({ code, text }))
    child.on('error', (error) => resolve({ code: -1, text: String(error) }))
  })
  if (output.code !== 0) {
    await rm(outdir, { recursive: true, force: true })
    const missingPeer = /Could not resolve "(@modelcontextprotocol\/[^"]+)"/.exec(output.text)
    const notExported = /Durable Objects, which are not exported in your entrypoint file: ([\w, ]+)/.exec(stripAnsi(output.text))
    const hint = missingPeer
      ? `The package ${missingPeer[1]} is not installed: \`agents/mcp\` imports it as an optional peer (KI-33). Run \`npm install ${missingPeer[1]}\`.`
      : notExported
        ? `The Worker module does not export the Durable Object class ${notExported[1]!.trim()} (KI-01). Add \`export\` before \`class ${notExported[1]!.split(',')[0]!.trim()}\` in ${path.relative(process.cwd(), worker.main) || worker.main} (or re-export it there).`
        : 'Fix the error above; `npx wrangler deploy --dry-run` reproduces it.'
    throw new HarnessError('ERR_BUILD', `Failed to build the Worker of "${worker.configPath}" with wrangler:\n${trimBuildLog(output.text)}\n${hint}`)
  }
  const meta = JSON.parse(await readFile(metafile, 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, { entryPoint?: string }> }
  const entryOutput = Object.entries(meta.outputs).find(([, value]) => value.entryPoint)?.[0]
  const entry = path.resolve(cwd, entryOutput ?? path.join(outdir, 'index.js'))
  const inputs = (await hashInputs(cwd, Object.keys(meta.inputs))) ?? {}
  const manifest: BuildManifest = { key, inputs, entry }
  const tmp = `${manifestPath}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(manifest))
  await rename(tmp, manifestPath)
  return { outdir, entry, cached: false, durationMs: performance.now() - started }
}

// wrangler colours its errors even with FORCE_COLOR=0.
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '')

function trimBuildLog(text: string): string {
  return stripAnsi(text)
    .split('\n')
    // "Logs were written to <home>/..." points at wrangler's log, not at the cause.
    .filter((line) => line.trim() && !/telemetry|wrangler \d|────|Cloudflare collects|Logs were written to/i.test(line))
    .slice(0, 30)
    .map((line) => `  ${line}`)
    .join('\n')
}
