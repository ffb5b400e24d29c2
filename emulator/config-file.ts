/**
 * The harness config file, `mcp-harness.config.ts` (or `.mts`, `.js`, `.mjs`, `.json`) beside the
 * wrangler config: found the way vitest finds its own (the first of those names in the project
 * root, i.e. the current folder, unless a path is given), validated once with zod, and merged under
 * explicit options. The CLI, the JS API (`createEmulator()`), the vitest helper, the pytest plugin
 * and the container all read it through `resolveHarnessOptions()`.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseEnv } from 'node:util'
import { z } from 'zod'
import { HarnessError } from '../core/errors.ts'
import { redacted } from '../core/redact/index.ts'
import { buildCacheRoot, sha1, sourceHash } from './internal/wrangler.ts'
import type { EmulatorOptions } from './options.ts'
import { CorsOptionsSchema } from './plugins/cors.ts'
import { HibernationOptionsSchema } from './plugins/hibernation.ts'
import { HopOptionsSchema } from './plugins/hop.ts'
import { TimeoutsOptionsSchema } from './plugins/io-context.ts'
import type { ProviderOptions, UpstreamProvider, UpstreamUser } from './plugins/upstream/handlers.ts'
import type { OidcProviderOptions } from './plugins/upstream/oidc.ts'
import { UPSTREAM_PROVIDER_NAMES, type UpstreamProviderName } from './plugins/upstream/plugin.ts'

/** The file names looked for, in this order (vitest's order: TypeScript first, JSON last). */
export const HARNESS_CONFIG_FILES = ['mcp-harness.config.ts', 'mcp-harness.config.mts', 'mcp-harness.config.js', 'mcp-harness.config.mjs', 'mcp-harness.config.json'] as const

/** Options every upstream factory of the table takes; each provider may read more (e.g. `issuer`). */
export type UpstreamFactoryOptions = ProviderOptions & Partial<Omit<OidcProviderOptions, keyof ProviderOptions>>

/** Whether the config and `--upstream <name>` know a provider (its factory is in `UPSTREAM_PROVIDERS`, loaded when used). */
export const isUpstreamName = (name: string): boolean => (UPSTREAM_PROVIDER_NAMES as readonly string[]).includes(name)

const isProvider = (value: unknown): value is UpstreamProvider =>
  typeof value === 'object' && value !== null && Array.isArray((value as UpstreamProvider).handlers) && typeof (value as UpstreamProvider).authorize === 'function'

const UpstreamUserSchema = z.looseObject({ id: z.union([z.string().min(1), z.number()]) })

/** A provider named declaratively (works in JSON): its name, its users (inline or a JSON file) and its app settings. */
export const UpstreamProviderSpecSchema = z.strictObject({
  provider: z.string().refine(isUpstreamName, { message: `expected one of ${UPSTREAM_PROVIDER_NAMES.join(', ')}` }),
  /** The users who can sign in (the first is the default), or the path of a JSON file holding them. */
  users: z.union([z.array(UpstreamUserSchema).min(1), z.string().min(1)]).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  redirectUris: z.array(z.string().min(1)).optional(),
  scopes: z.array(z.string().min(1)).optional(),
  codeTtlMs: z.number().int().positive().optional(),
  tokenTtlS: z.number().int().positive().optional(),
  issuer: z.url().optional(),
  name: z.string().min(1).optional(),
  authorizePath: z.string().min(1).optional(),
  tokenPath: z.string().min(1).optional(),
  userinfoPath: z.string().min(1).optional(),
})
export type UpstreamProviderSpec = z.input<typeof UpstreamProviderSpecSchema>

const UpstreamConfigSchema = z.strictObject({
  /** `'github'`, `{ provider: 'github', users: 'users.json' }`, or a provider made by `upstream.github()`. */
  providers: z.array(z.union([z.string().min(1), UpstreamProviderSpecSchema, z.custom<UpstreamProvider>(isProvider)])).optional(),
  /** Extra msw handlers for other upstream APIs the Worker calls (JS/TS configs only). */
  handlers: z.array(z.custom<object>((value) => typeof value === 'object' && value !== null, 'expected an msw handler')).optional(),
  auditSessionOwners: z.boolean().optional(),
  subjectOf: z.custom<(token: string) => string>((value) => typeof value === 'function', 'expected a function').optional(),
})

const port = z.number().int().min(0).max(65535)

/** What `mcp-harness.config.ts` may hold; relative paths are relative to the file's folder. */
export const HarnessConfigSchema = z.strictObject({
  /** The wrangler config (or its folder); default: the folder of this file. */
  config: z.string().min(1).optional(),
  /** The wrangler environment (`--env`). */
  environment: z.string().min(1).optional(),
  /** Plain-text bindings on top of wrangler's `vars` and `.dev.vars`; shown by `--print-config` unless named like a secret. */
  vars: z.record(z.string(), z.string()).optional(),
  /** Secret bindings on top of `.dev.vars`; always masked by `--print-config`. */
  secrets: z.record(z.string(), z.string()).optional(),
  /** A dotenv file whose entries become bindings (after `.dev.vars`, before `vars`/`secrets`); always masked. */
  envFile: z.string().min(1).optional(),
  /** Mocked upstream providers and their users. */
  upstream: UpstreamConfigSchema.optional(),
  hibernation: HibernationOptionsSchema.unwrap().optional(),
  timeouts: TimeoutsOptionsSchema.strict().optional(),
  cors: CorsOptionsSchema.strict().optional(),
  hop: HopOptionsSchema.strict().optional(),
  host: z.enum(['127.0.0.1', 'localhost', '::1']).optional(),
  /** Port of the front door (`serve` defaults to 8788, the JS API to 0 = a free one). */
  port: port.optional(),
  /** Port of the control plane (`serve --control`); 0 takes a free one. */
  controlPort: port.optional(),
  /** Folder for Durable Object / KV storage (default: a temporary one). */
  persistDir: z.string().min(1).optional(),
  /** Folder holding cassettes (recordings). */
  cassettes: z.string().min(1).optional(),
})

export type HarnessConfig = z.input<typeof HarnessConfigSchema>

/**
 * Types a harness config; returns it unchanged.
 * @example export default defineConfig({ vars: { GREETING: 'hi' }, upstream: { providers: ['github'] } })
 */
export function defineConfig(config: HarnessConfig): HarnessConfig {
  return config
}

/** The first harness config file in `dir` (vitest's lookup: that folder only, no walking up). */
export function findHarnessConfig(dir: string = process.cwd()): string | undefined {
  for (const name of HARNESS_CONFIG_FILES) {
    const candidate = path.resolve(dir, name)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/** A loaded harness config: the file, its validated contents, and how long loading took. */
export interface LoadedHarnessConfig {
  file: string
  config: z.output<typeof HarnessConfigSchema>
  loadMs: number
}

/** Loads and validates a harness config file (TypeScript is bundled with esbuild first; see `importTypeScript`). */
export async function loadHarnessConfig(file: string): Promise<LoadedHarnessConfig> {
  const started = performance.now()
  const absolute = path.resolve(file)
  const shown = displayPath(absolute)
  if (!existsSync(absolute)) throw new HarnessError('ERR_CONFIG', `Failed to read harness config "${file}": no such file. Create it (\`npx mcp-harness init\` writes one) or drop --harness-config.`)
  let raw: unknown
  const ext = path.extname(absolute)
  if (ext === '.json') {
    const text = await readFile(absolute, 'utf8')
    try {
      raw = JSON.parse(text)
    } catch (error) {
      throw new HarnessError('ERR_CONFIG', `Failed to read harness config ${shown}: ${describeJsonError(text, error as Error)}.`)
    }
  } else if (ext === '.ts' || ext === '.mts' || ext === '.js' || ext === '.mjs') {
    let module: { default?: unknown }
    try {
      module = ext === '.ts' || ext === '.mts' ? await importTypeScript(absolute) : await import(`${pathToFileURL(absolute).href}?t=${Date.now()}`)
    } catch (error) {
      if (error instanceof HarnessError) throw error
      throw new HarnessError('ERR_CONFIG', `Failed to load harness config ${shown}: ${(error as Error).message}`, { cause: error })
    }
    raw = module.default
    if (typeof raw === 'function') raw = await (raw as () => unknown)()
    if (raw === undefined) throw new HarnessError('ERR_CONFIG', `Failed to read harness config ${shown}: it has no default export. Write \`export default defineConfig({ ... })\`.`)
  } else {
    throw new HarnessError('ERR_CONFIG', `Failed to read harness config "${file}": unsupported extension "${ext}". Use one of ${HARNESS_CONFIG_FILES.join(', ')}.`)
  }
  return { file: absolute, config: validate(raw, shown), loadMs: performance.now() - started }
}

function validate(raw: unknown, shown: string): z.output<typeof HarnessConfigSchema> {
  const result = HarnessConfigSchema.safeParse(raw)
  if (result.success) return result.data
  const lines = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(HarnessConfigSchema, issue.path)
      return issue.keys.map((key) => `  - unknown key "${[...issue.path, key].join('.')}"${known.length ? ` (known keys here: ${known.join(', ')})` : ''}`)
    }
    return [`  - "${issue.path.length ? issue.path.join('.') : '(root)'}": ${issue.message}`]
  })
  throw new HarnessError('ERR_CONFIG', `Invalid harness config ${shown}:\n${lines.join('\n')}`)
}

/** The keys an object schema accepts at `at` (through optional, default, array and union wrappers). */
function knownKeysAt(schema: z.ZodType, at: PropertyKey[]): string[] {
  const objects = (s: z.ZodType): z.ZodObject[] => {
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; options?: z.ZodType[] } } })._zod.def
    if (s instanceof z.ZodObject) return [s]
    if (def.innerType) return objects(def.innerType)
    if (def.options) return def.options.flatMap(objects)
    return []
  }
  let current: z.ZodType[] = [schema]
  for (const segment of at) {
    current = current.flatMap((s) => {
      const def = (s as unknown as { _zod: { def: { type: string; element?: z.ZodType; innerType?: z.ZodType } } })._zod.def
      if (typeof segment === 'number') {
        const unwrap = (x: z.ZodType): z.ZodType | undefined => {
          const d = (x as unknown as { _zod: { def: { element?: z.ZodType; innerType?: z.ZodType } } })._zod.def
          return d.element ?? (d.innerType ? unwrap(d.innerType) : undefined)
        }
        const element = def.element ?? unwrap(s)
        return element ? [element] : []
      }
      return objects(s).flatMap((o) => (o.shape[String(segment)] ? [o.shape[String(segment)] as z.ZodType] : []))
    })
  }
  return [...new Set(current.flatMap(objects).flatMap((o) => Object.keys(o.shape)))]
}

/** JSON.parse's message with the line and column of the offending position. */
export function describeJsonError(text: string, error: Error): string {
  const message = error.message
  if (/line \d+ column \d+/.test(message)) return message
  const position = /position (\d+)/.exec(message)
  if (!position) return message
  const before = text.slice(0, Number(position[1]))
  const line = before.split('\n').length
  const column = before.length - before.lastIndexOf('\n')
  return `${message} (line ${line} column ${column})`
}

/**
 * Imports a TypeScript config without relying on Node's type stripping (which Node < 22.18 lacks):
 * esbuild, the bundler wrangler itself ships, bundles it to a temporary `.mjs` beside the file (so
 * bare imports resolve from the user's project), which is imported and removed. `mcp-harness`
 * imports point at the running harness, so providers made in the config are the CLI's own.
 */
async function importTypeScript(file: string): Promise<{ default?: unknown }> {
  const self = new URL(`./index${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url)
  const dir = path.dirname(file)
  const key = sha1(JSON.stringify([CONFIG_BUNDLE_CACHE_VERSION, OWN_SOURCE, self.href, file, sha1(await readFile(file))]))
  const cacheFile = path.join(buildCacheRoot(file), 'harness-config', `${key.slice(0, 16)}.json`)
  let code = await readBundleCache(cacheFile, key)
  if (code === undefined) {
    const esbuild = await loadEsbuild()
    const result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: dir,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      packages: 'external',
      logLevel: 'silent',
      plugins: [
        {
          name: 'mcp-harness-self',
          setup(build) {
            build.onResolve({ filter: /^mcp-harness$/ }, () => ({ path: self.href, external: true }))
          },
        },
      ],
    })
    code = result.outputFiles[0]!.text
    await writeBundleCache(cacheFile, key, code, Object.keys(result.metafile.inputs).map((input) => path.resolve(dir, input)))
  }
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${Date.now()}.mjs`)
  await writeFile(temp, code)
  try {
    return (await import(pathToFileURL(temp).href)) as { default?: unknown }
  } finally {
    await rm(temp, { force: true })
  }
}

/**
 * The bundled config is cached in the Worker project's cache folder (beside the wrangler config
 * cache), keyed by the file's contents and this module's source (as the wrangler config cache is),
 * and used while every file the bundle was made of is unchanged: a warm start does not load esbuild.
 * It is still imported from beside the config file, as a fresh bundle is.
 */
const CONFIG_BUNDLE_CACHE_VERSION = 1
const OWN_SOURCE = sourceHash(import.meta.url)

interface BundleCacheEntry {
  version: number
  key: string
  /** Every file the bundle was made of (absolute), with its SHA-1. */
  inputs: Record<string, string>
  code: string
}

async function readBundleCache(cacheFile: string, key: string): Promise<string | undefined> {
  try {
    const entry = JSON.parse(await readFile(cacheFile, 'utf8')) as BundleCacheEntry
    if (entry.version !== CONFIG_BUNDLE_CACHE_VERSION || entry.key !== key) return undefined
    for (const [input, hash] of Object.entries(entry.inputs)) if (sha1(await readFile(input)) !== hash) return undefined
    return entry.code
  } catch {
    return undefined // no entry, or an input is gone: bundle again
  }
}

async function writeBundleCache(cacheFile: string, key: string, code: string, inputs: string[]): Promise<void> {
  try {
    const hashes = await Promise.all(inputs.map(async (input) => [input, sha1(await readFile(input))] as const))
    const entry: BundleCacheEntry = { version: CONFIG_BUNDLE_CACHE_VERSION, key, inputs: Object.fromEntries(hashes), code }
    await mkdir(path.dirname(cacheFile), { recursive: true })
    const tmp = `${cacheFile}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(entry))
    await rename(tmp, cacheFile)
  } catch {
    // An unwritable cache folder only costs the next start a bundle.
  }
}

type Esbuild = typeof import('esbuild')
/** esbuild from wrangler's installation (wrangler is a peer dependency and depends on it), else the project's own. */
async function loadEsbuild(): Promise<Esbuild> {
  const require = createRequire(import.meta.url)
  try {
    const fromWrangler = createRequire(require.resolve('wrangler/package.json'))
    return (await import(pathToFileURL(fromWrangler.resolve('esbuild')).href)) as Esbuild
  } catch {
    try {
      return (await import('esbuild')) as Esbuild
    } catch (error) {
      throw new HarnessError('ERR_CONFIG', 'Failed to load a TypeScript harness config: esbuild (a dependency of wrangler) was not found. Install wrangler in the project, or write mcp-harness.config.js / .json.', { cause: error })
    }
  }
}

const displayPath = (file: string) => path.relative(process.cwd(), file) || file

/** Reads a dotenv file into bindings (Node's own parser: the syntax of `.dev.vars`). */
export async function readEnvFile(file: string): Promise<Record<string, string>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new HarnessError('ERR_CONFIG', `Failed to read env file "${displayPath(file)}": no such file. Fix the path (--env-file / "envFile"), relative to ${'the folder it was given in'}.`)
  }
  return parseEnv(text) as Record<string, string>
}

/** Reads the users of a provider from a JSON file: an array of users, or an object of provider options. */
async function readUsersFile(file: string): Promise<Partial<UpstreamFactoryOptions>> {
  let parsed: unknown
  try {
    const text = await readFile(file, 'utf8')
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new HarnessError('ERR_CONFIG', `Failed to read upstream users file ${displayPath(file)}: ${describeJsonError(text, error as Error)}.`)
    }
  } catch (error) {
    if (error instanceof HarnessError) throw error
    throw new HarnessError('ERR_CONFIG', `Failed to read upstream users file "${displayPath(file)}": no such file.`)
  }
  if (Array.isArray(parsed)) parsed = { users: parsed }
  const result = UpstreamProviderSpecSchema.omit({ provider: true }).extend({ users: z.array(UpstreamUserSchema).min(1).optional() }).safeParse(parsed)
  if (!result.success) {
    throw new HarnessError('ERR_CONFIG', `Invalid upstream users file ${displayPath(file)}: expected an array of users ([{"id": 1, "login": "alice"}]) or provider options ({"issuer": "...", "users": [...]}): ${result.error.issues.map((issue) => `"${issue.path.join('.') || '(root)'}": ${issue.message}`).join('; ')}`)
  }
  return result.data as Partial<UpstreamFactoryOptions>
}

/**
 * Parses `--upstream` values: `github`, `github=users.json` (users, or provider options, in JSON).
 * @example parseUpstreamFlag('oidc=oidc.json') // { provider: 'oidc', users: 'oidc.json' }
 */
export function parseUpstreamFlag(value: string): UpstreamProviderSpec {
  const [name, file] = value.split(/=(.*)/s) as [string, string | undefined]
  if (!isUpstreamName(name)) throw new HarnessError('ERR_OPTIONS', `Invalid --upstream "${value}": expected one of ${UPSTREAM_PROVIDER_NAMES.join(', ')}, optionally =users.json.`)
  if (file === '') throw new HarnessError('ERR_OPTIONS', `Invalid --upstream "${value}": give the users file after "=", e.g. ${name}=users.json.`)
  return file === undefined ? { provider: name } : { provider: name, users: file }
}

/** Builds the provider objects of a config's `upstream.providers` (or of `--upstream` flags), reading users files relative to `baseDir`. */
export async function providersFromSpecs(entries: NonNullable<z.output<typeof UpstreamConfigSchema>['providers']>, baseDir: string): Promise<UpstreamProvider[]> {
  const out: UpstreamProvider[] = []
  for (const entry of entries) {
    if (isProvider(entry)) {
      out.push(entry)
      continue
    }
    const spec: UpstreamProviderSpec = typeof entry === 'string' ? parseUpstreamFlag(entry) : entry
    const { provider, users, ...rest } = spec
    const fromFile = typeof users === 'string' ? await readUsersFile(path.resolve(baseDir, users)) : { users }
    const options = { ...rest, ...fromFile } as UpstreamFactoryOptions
    if (options.users === undefined) delete options.users
    // The factories (and msw) load only for a config that names a provider.
    const { UPSTREAM_PROVIDERS } = await import('./plugins/upstream/index.ts')
    out.push(UPSTREAM_PROVIDERS[provider as UpstreamProviderName](options as Record<string, unknown>))
  }
  return out
}

/** The input of `createEmulator()`: it names the harness config, an env file and secrets too. */
export type HarnessInput = EmulatorOptions

/** Where each binding override came from, for masking and for `--print-config`. */
export interface HarnessResolution {
  /** The emulator options: file first, explicit options on top; `envFile` and `secrets` folded into `vars`. */
  options: EmulatorOptions
  /** The harness config file read, if any. */
  file?: string
  /** Milliseconds spent loading the file (bundling included). */
  loadMs?: number
  controlPort?: number
  /** Absolute folder of cassettes, when configured. */
  cassettes?: string
  /** Names of bindings whose values must never be shown (secrets, env-file entries, secret-like names). */
  secretNames: Set<string>
  /** The env files read, in order. */
  envFiles: string[]
}

/** Binding names treated as secrets wherever they come from. */
export const SECRET_NAME = /SECRET|TOKEN|KEY|PASSWORD|PASSWD|CREDENTIAL|PRIVATE/i

/**
 * Resolves the options of an emulator: reads the harness config (when `config` is not given, or
 * `harnessConfig` names one), puts explicit options on top, folds env files and secrets into `vars`
 * and defaults `config` to the harness config's folder (else the current folder).
 * @example const { options } = await resolveHarnessOptions({ vars: { DEBUG: '1' } })
 */
export async function resolveHarnessOptions(input: HarnessInput = {}): Promise<HarnessResolution> {
  const { harnessConfig, envFile, secrets, ...explicit } = input
  const secretNames = new Set<string>()
  const envFiles: string[] = []
  const readsFile = harnessConfig !== false && (harnessConfig !== undefined || explicit.config === undefined)
  const file = readsFile ? (harnessConfig ? path.resolve(harnessConfig) : findHarnessConfig()) : undefined
  const loaded = file ? await loadHarnessConfig(file) : undefined
  const fromFile: EmulatorOptions = {}
  let vars: Record<string, string> = {}
  const addVars = async (baseDir: string, source: { envFile?: string; secrets?: Record<string, string>; vars?: Record<string, string> }) => {
    if (source.envFile) {
      const envPath = path.resolve(baseDir, source.envFile)
      const entries = await readEnvFile(envPath)
      envFiles.push(envPath)
      for (const name of Object.keys(entries)) secretNames.add(name)
      vars = { ...vars, ...entries }
    }
    for (const name of Object.keys(source.secrets ?? {})) secretNames.add(name)
    vars = { ...vars, ...source.secrets, ...source.vars }
  }
  if (loaded) {
    const { config: wrangler, envFile: fileEnv, secrets: fileSecrets, vars: fileVars, upstream, cassettes: _cassettes, controlPort: _controlPort, persistDir, ...rest } = loaded.config
    const baseDir = path.dirname(loaded.file)
    Object.assign(fromFile, rest)
    fromFile.config = path.resolve(baseDir, wrangler ?? '.')
    if (persistDir) fromFile.persistDir = path.resolve(baseDir, persistDir)
    if (upstream) {
      const { providers, ...upstreamRest } = upstream
      fromFile.upstream = { ...upstreamRest, providers: await providersFromSpecs(providers ?? [], baseDir) } as EmulatorOptions['upstream']
    }
    // Flags replace the file's env file ("flags override the file").
    await addVars(baseDir, { envFile: envFile === undefined ? fileEnv : undefined, secrets: fileSecrets, vars: fileVars })
  }
  await addVars(process.cwd(), { envFile, secrets, vars: explicit.vars })
  for (const name of Object.keys(vars)) if (SECRET_NAME.test(name)) secretNames.add(name)
  const options: EmulatorOptions = { ...fromFile, ...definedOnly(explicit), vars }
  options.config ??= '.'
  return {
    options,
    file: loaded?.file,
    loadMs: loaded?.loadMs,
    controlPort: loaded?.config.controlPort,
    cassettes: loaded?.config.cassettes ? path.resolve(path.dirname(loaded.file), loaded.config.cassettes) : undefined,
    secretNames,
    envFiles,
  }
}

const definedOnly = <T extends object>(value: T): Partial<T> => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>

/**
 * The options `createEmulator()` runs with: its one call into the harness config.
 * @example createEmulator() // mcp-harness.config.ts in the current folder, else wrangler.jsonc there
 */
export async function withHarnessConfig(input: HarnessInput = {}): Promise<EmulatorOptions> {
  return (await resolveHarnessOptions(input)).options
}

/**
 * The merged options as JSON for `serve --print-config`: every binding from `.dev.vars`, an env file
 * or `secrets`, and every binding named like a secret, is masked.
 */
export function printableConfig(resolution: HarnessResolution, extra: { devVars?: { file: string; names: string[] }; controlPort?: number } = {}): Record<string, unknown> {
  const { options } = resolution
  const secretNames = new Set(resolution.secretNames)
  for (const name of extra.devVars?.names ?? []) secretNames.add(name)
  const mask = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).map(([name, value]) => [name, secretNames.has(name) ? redacted(name) : value]))
  const upstream = options.upstream
  return {
    harnessConfig: resolution.file ? displayPath(resolution.file) : null,
    config: typeof options.config === 'string' ? path.relative(process.cwd(), path.resolve(options.config)) || '.' : options.config,
    ...(options.environment ? { environment: options.environment } : {}),
    host: options.host,
    port: options.port,
    ...(extra.controlPort !== undefined || resolution.controlPort !== undefined ? { controlPort: extra.controlPort ?? resolution.controlPort } : {}),
    ...(options.persistDir ? { persistDir: displayPath(path.resolve(options.persistDir)) } : {}),
    ...(resolution.cassettes ? { cassettes: displayPath(resolution.cassettes) } : {}),
    vars: mask(options.vars ?? {}),
    ...(extra.devVars ? { devVars: { file: displayPath(extra.devVars.file), names: Object.fromEntries(extra.devVars.names.map((name) => [name, redacted(name)])) } } : {}),
    ...(resolution.envFiles.length ? { envFiles: resolution.envFiles.map(displayPath) } : {}),
    ...(upstream
      ? {
          upstream: {
            providers: (upstream.providers ?? []).map((provider) => ({ provider: provider.name, users: (provider.users ?? []).map((user: UpstreamUser) => user.login ?? user.id) })),
            ...(upstream.handlers?.length ? { handlers: upstream.handlers.length } : {}),
          },
        }
      : {}),
    ...(options.hibernation !== undefined ? { hibernation: options.hibernation } : {}),
    ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
    ...(options.cors !== undefined ? { cors: options.cors } : {}),
    ...(options.hop !== undefined ? { hop: options.hop } : {}),
  }
}
