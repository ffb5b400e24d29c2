import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual, parseEnv } from 'node:util'
import { HarnessError } from '../../core/errors.ts'
import { SUPPORTED_WRANGLER } from './runtime.ts'
import { describeWranglerError } from './wrangler-errors.ts'

const require = createRequire(import.meta.url)
export const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex')

/**
 * The SHA-1 of a module's own source, for the key of a cache that module writes: a changed harness
 * (an upgrade, a local edit) never reads an entry an older one wrote.
 */
export function sourceHash(moduleUrl: string): string {
  try {
    return sha1(readFileSync(fileURLToPath(moduleUrl)))
  } catch {
    return String(Date.now()) // Unreadable source: no reuse across processes, never a stale one.
  }
}

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
// require(): wrangler is CommonJS, and import() would first scan it for export names (see loadRuntime).
const loadWrangler = () => (wranglerModule ??= Promise.resolve().then(() => createRequire(import.meta.url)('wrangler') as WranglerModule))

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
  return (await readWithWrangler(resolveConfigPath(configPath), environment)).worker
}

/** What wrangler printed while reading (e.g. "Using secrets defined in .dev.vars"), replayed on a cache hit. */
type ConsoleLine = ['log' | 'info' | 'warn' | 'error' | 'debug', string]
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const

async function readWithWrangler(file: string, environment: string | undefined): Promise<{ worker: WorkerConfig; printed: ConsoleLine[] }> {
  const wrangler = await loadWrangler()
  let config: ReturnType<WranglerModule['unstable_readConfig']>
  let miniflare: ReturnType<WranglerModule['unstable_getMiniflareWorkerOptions']>
  // Both calls are synchronous: nothing else writes to the console while they run.
  const printed: ConsoleLine[] = []
  const originals = CONSOLE_METHODS.map((method) => [method, console[method]] as const)
  for (const [method, original] of originals) {
    console[method] = (...args: unknown[]) => {
      printed.push([method, args.map(String).join(' ')])
      original.apply(console, args)
    }
  }
  try {
    config = wrangler.unstable_readConfig({ config: file, env: environment })
    miniflare = wrangler.unstable_getMiniflareWorkerOptions(config, environment)
  } catch (error) {
    throw new HarnessError(
      'ERR_CONFIG',
      `Failed to read wrangler config "${file}": ${describeWranglerError(error)}. Fix the file; \`npx wrangler deploy --dry-run --config ${path.relative(process.cwd(), file)}\` shows the same check.`,
      { cause: error },
    )
  } finally {
    for (const [method, original] of originals) console[method] = original
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
    if (DROPPED_WORKER_OPTION_KEYS.has(key) || value === undefined) continue
    // Empty binding maps are noise, and some are unknown to Miniflare 4.
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) continue
    if (Array.isArray(value) && value.length === 0) continue
    workerOptions[key] = value
  }
  const worker: WorkerConfig = {
    configPath: file,
    name: config.name ?? path.basename(path.dirname(file)),
    main: config.main,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    durableObjects,
    workerOptions,
  }
  return { worker, printed }
}

/** Bumped when what is cached changes shape; the source of this module is part of the key as well. */
const CONFIG_CACHE_VERSION = 1
const OWN_SOURCE = sourceHash(import.meta.url)

/** Dotenv files wrangler may read beside the config (`.dev.vars`, `.dev.vars.<env>`, `.env`, `.env.<env>`, ...). */
const ENV_FILE = /^\.(dev\.vars|env)(\..+)?$/
const HARNESS_CONFIG = /^mcp-harness\.config\.(ts|mts|js|mjs|json)$/

interface ConfigCacheEntry {
  version: number
  key: string
  /** The Worker as wrangler read it, with every binding whose value came from a dotenv file left out. */
  worker: WorkerConfig
  /** Binding name -> the dotenv file (beside the config) whose entry of that name is its value. */
  fromEnvFiles: Record<string, string>
  printed: ConsoleLine[]
}

export interface LoadWorkerConfigOptions {
  /** The harness config file in use (its contents are part of the cache key). */
  harnessConfigFile?: string
  /** The wrangler version the key names (default: the installed one; tests pass another). */
  wranglerVersion?: string
}

/** The installed wrangler that `import('wrangler')` loads: its version and where it is. */
export function installedWrangler(): { version: string; dir: string } {
  let file: string
  try {
    file = require.resolve('wrangler/package.json')
  } catch (error) {
    throw new HarnessError('ERR_START', `Failed to find wrangler: mcp-harness reads and runs your Worker with your project's wrangler (${SUPPORTED_WRANGLER.range}). Run \`npm install -D wrangler@4\` in your Worker project.`, { cause: error })
  }
  return { version: (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version, dir: path.dirname(file) }
}

/**
 * Reads a Worker's config like `readWorkerConfig`, from a cache when nothing wrangler reads has
 * changed, so that a warm start does not load wrangler at all (loading it is most of the read).
 * The cache lives in the Worker's project (`buildCacheRoot`), keyed by the wrangler config, the
 * environment, every `.dev.vars*`/`.env*` file beside it, the harness config, wrangler's version,
 * the `CLOUDFLARE_*`/`WRANGLER_*` environment variables and this module's own source. Values that
 * come from dotenv files (secrets) are never written to it: they are read from those files again.
 */
export async function loadWorkerConfig(configPath: string, environment?: string, options: LoadWorkerConfigOptions = {}): Promise<{ worker: WorkerConfig; cached: boolean }> {
  const file = resolveConfigPath(configPath)
  // With this, wrangler adds the whole process environment to the bindings: nothing can be keyed on it.
  if (/^(true|1)$/i.test(process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV ?? '')) return { worker: (await readWithWrangler(file, environment)).worker, cached: false }
  const dir = path.dirname(file)
  const names = (await readdir(dir)).sort()
  const envFiles: Record<string, string> = {}
  const keyParts: unknown[] = [CONFIG_CACHE_VERSION, OWN_SOURCE, options.wranglerVersion ?? installedWrangler().version, file, environment ?? '', sha1(await readFile(file))]
  for (const name of names) {
    if (!ENV_FILE.test(name) && !HARNESS_CONFIG.test(name)) continue
    const contents = await readFile(path.join(dir, name), 'utf8').catch(() => undefined)
    if (contents === undefined) continue // a folder, or gone
    if (ENV_FILE.test(name)) envFiles[name] = contents
    keyParts.push(name, sha1(contents))
  }
  if (options.harnessConfigFile && path.dirname(path.resolve(options.harnessConfigFile)) !== dir) {
    keyParts.push(path.resolve(options.harnessConfigFile), sha1(await readFile(options.harnessConfigFile).catch(() => '')))
  }
  const wranglerEnv = Object.entries(process.env).filter(([name]) => /^(CLOUDFLARE|WRANGLER)_/.test(name)).sort(([a], [b]) => a.localeCompare(b))
  keyParts.push(sha1(JSON.stringify(wranglerEnv)))
  const key = sha1(JSON.stringify(keyParts))
  const cacheFile = path.join(buildCacheRoot(file), 'config', `${key.slice(0, 16)}.json`)

  try {
    const entry = JSON.parse(await readFile(cacheFile, 'utf8')) as ConfigCacheEntry
    if (entry.version === CONFIG_CACHE_VERSION && entry.key === key) {
      const worker = restoreEnvFileValues(entry, envFiles)
      if (worker) {
        for (const [method, line] of entry.printed) console[method](line)
        return { worker, cached: true }
      }
    }
  } catch {
    // No usable cache entry: read with wrangler.
  }

  const { worker, printed } = await readWithWrangler(file, environment)
  const entry = cacheEntry(key, worker, printed, envFiles, wranglerEnv.map(([, value]) => value ?? ''))
  if (entry) {
    await mkdir(path.dirname(cacheFile), { recursive: true })
    const tmp = `${cacheFile}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(entry))
    await rename(tmp, cacheFile)
  }
  return { worker, cached: false }
}

/**
 * The cache entry for a read, or undefined when it cannot be cached safely: a binding value that a
 * dotenv file names but that is not that file's value as Node parses it (expansion, another dotenv
 * dialect), a value of a `CLOUDFLARE_*` variable found in the options, or options that do not
 * survive JSON.
 */
function cacheEntry(key: string, worker: WorkerConfig, printed: ConsoleLine[], envFiles: Record<string, string>, envValues: string[]): ConfigCacheEntry | undefined {
  // Templates (`.dev.vars.example`) are in the key but are never read by wrangler: not a source.
  const parsed = Object.entries(envFiles)
    .filter(([name]) => !/\.(example|sample|template)$/.test(name))
    .map(([name, contents]) => [name, parseEnv(contents)] as const)
  const bindings = { ...(worker.workerOptions.bindings as Record<string, unknown> | undefined) }
  const fromEnvFiles: Record<string, string> = {}
  for (const [binding, value] of Object.entries(bindings)) {
    const named = parsed.filter(([, entries]) => binding in entries)
    if (named.length === 0) continue
    const source = named.find(([, entries]) => entries[binding] === value)
    if (!source) return undefined
    fromEnvFiles[binding] = source[0]
    delete bindings[binding]
  }
  const stored: WorkerConfig = { ...worker, workerOptions: { ...worker.workerOptions, ...(worker.workerOptions.bindings ? { bindings } : {}) } }
  const json = JSON.stringify(stored)
  if (!isDeepStrictEqual(JSON.parse(json), withoutUndefined(stored))) return undefined
  if (envValues.some((value) => value.length >= 8 && json.includes(value))) return undefined
  return { version: CONFIG_CACHE_VERSION, key, worker: stored, fromEnvFiles, printed }
}

/** Plain data with `undefined` properties left out (what JSON keeps); anything else is returned as is. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined)
  if (value && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined).map(([key, item]) => [key, withoutUndefined(item)]))
  }
  return value
}

/** The cached Worker with its dotenv-file bindings read again, in wrangler's binding order; undefined if one is missing. */
function restoreEnvFileValues(entry: ConfigCacheEntry, envFiles: Record<string, string>): WorkerConfig | undefined {
  if (Object.keys(entry.fromEnvFiles).length === 0) return entry.worker
  const parsed = new Map<string, Record<string, string | undefined>>()
  const bindings = { ...(entry.worker.workerOptions.bindings as Record<string, unknown> | undefined) }
  for (const [binding, name] of Object.entries(entry.fromEnvFiles)) {
    if (envFiles[name] === undefined) return undefined
    if (!parsed.has(name)) parsed.set(name, parseEnv(envFiles[name]))
    const value = parsed.get(name)![binding]
    if (value === undefined) return undefined
    bindings[binding] = value
  }
  return { ...entry.worker, workerOptions: { ...entry.worker.workerOptions, bindings } }
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

async function hashInputs(root: string, inputs: string[]): Promise<Record<string, string> | undefined> {
  // A bundle has hundreds of inputs (its node_modules): read them a batch at a time, not one by one.
  const files = inputs.filter((input) => !input.includes(':')) // not wrangler's virtual modules ("wrangler:...")
  const hashes: string[] = []
  try {
    for (let i = 0; i < files.length; i += 64) {
      hashes.push(...(await Promise.all(files.slice(i, i + 64).map(async (input) => sha1(await readFile(path.resolve(root, input)))))))
    }
  } catch {
    return undefined
  }
  return Object.fromEntries(files.map((input, index) => [input, hashes[index]!]))
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
