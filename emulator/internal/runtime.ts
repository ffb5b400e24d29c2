import { readFileSync } from 'node:fs'
import module, { createRequire } from 'node:module'
import path from 'node:path'
import { HarnessError } from '../../core/errors.ts'

/**
 * The wrangler releases the emulator is tested with. Older ones ship a Miniflare whose options
 * differ (v4); a newer major may change the APIs the emulator reads.
 */
export const SUPPORTED_WRANGLER = { min: [4, 164, 0], belowMajor: 5, range: '>=4.164.0 <5' } as const

/** The parts of Miniflare the emulator uses, loaded from the user's wrangler installation. */
export type MiniflareModule = typeof import('miniflare')

export interface Runtime {
  miniflare: MiniflareModule
  wranglerVersion: string
  miniflareVersion: string
  /** The workerd release this Miniflare starts (the same one `wrangler dev` starts). */
  workerdVersion: string
}

let loaded: Promise<Runtime> | undefined

function parseVersion(version: string): number[] {
  return version.split(/[.-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0)
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0)
  return 0
}

function readPackageJson(file: string): { version: string } {
  return JSON.parse(readFileSync(file, 'utf8')) as { version: string }
}

/**
 * Loads the Miniflare that the project's own wrangler ships (not a copy of ours), so a Worker runs
 * on the same workerd under the harness as under `wrangler dev`.
 */
export function loadRuntime(): Promise<Runtime> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url)
    let wranglerPackage: string
    try {
      wranglerPackage = require.resolve('wrangler/package.json', { paths: [process.cwd(), path.dirname(new URL(import.meta.url).pathname)] })
    } catch (error) {
      throw new HarnessError('ERR_START', `Failed to find wrangler: mcp-harness runs your Worker with your project's wrangler (${SUPPORTED_WRANGLER.range}). Run \`npm install -D wrangler@4\` in your Worker project.`, { cause: error })
    }
    const wranglerVersion = readPackageJson(wranglerPackage).version
    const parsed = parseVersion(wranglerVersion)
    if (compare(parsed, SUPPORTED_WRANGLER.min) < 0 || (parsed[0] ?? 0) >= SUPPORTED_WRANGLER.belowMajor) {
      throw new HarnessError(
        'ERR_START',
        `Failed to start: wrangler ${wranglerVersion} is installed, but mcp-harness supports wrangler ${SUPPORTED_WRANGLER.range}. Run \`npm install -D wrangler@^4.164.0\`.`,
      )
    }
    const fromWrangler = createRequire(wranglerPackage)
    const miniflareEntry = fromWrangler.resolve('miniflare')
    const miniflarePackage = fromWrangler.resolve('miniflare/package.json')
    // require(), not import(): Miniflare is CommonJS, and import() first scans its 6 MB for export
    // names (cjs-module-lexer), which took longer than evaluating it.
    const miniflare = fromWrangler(miniflareEntry) as MiniflareModule
    const fromMiniflare = createRequire(miniflarePackage)
    const workerdVersion = readPackageJson(fromMiniflare.resolve('workerd/package.json')).version
    flushCompileCache()
    return { miniflare, wranglerVersion, miniflareVersion: readPackageJson(miniflarePackage).version, workerdVersion }
  })()
  return loaded
}

/**
 * Lets Node keep V8's compiled code of the modules it loads (wrangler and Miniflare are several MB
 * of JavaScript each) in `dir`, so the next start skips compiling them. Node checks each entry
 * against the module's source; a changed module is compiled again. A cache already enabled
 * (`NODE_COMPILE_CACHE`) is kept, and `NODE_DISABLE_COMPILE_CACHE=1` turns it off.
 */
export function enableCompileCache(dir: string): void {
  try {
    module.enableCompileCache?.(dir)
  } catch {
    // An unwritable folder only costs the speed-up.
  }
}

/** Writes what was compiled so far to the compile cache (a vitest worker may not exit normally). */
export function flushCompileCache(): void {
  try {
    module.flushCompileCache?.()
  } catch {
    // As above.
  }
}
