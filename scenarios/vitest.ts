/**
 * The vitest helper (`mcp-harness/vitest`): one emulator per test file, or one per vitest worker
 * shared by the files that worker runs, started before the file's tests and disposed for you.
 * @module
 */
import '../core/node-version.ts'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { z } from 'zod'
import type { Emulator, EmulatorOptions } from '../emulator/index.ts'
import { HarnessError } from '../core/errors.ts'
import { enableCompileCache, loadRuntime } from '../emulator/internal/runtime.ts'
import { buildCacheRoot, resolveConfigPath } from '../emulator/internal/wrangler.ts'
import { parseOptions } from '../core/zod-error.ts'
import { reportMode } from '../report/mode.ts'

// A cold start builds the Worker with wrangler and boots workerd: far beyond vitest's 10 s hook default on a busy machine.
const START_TIMEOUT_MS = 120_000

const ScopeSchema = z.enum(['file', 'worker'])

/** Options of `useEmulator`: the emulator's own options plus how long it lives. */
export type UseEmulatorOptions = Partial<EmulatorOptions> & {
  /**
   * `file` (default): a fresh emulator for this test file, disposed after it.
   * `worker`: one emulator per vitest worker process, reused by the next file that asks for the same
   * options, with its storage wiped in between (Durable Objects, KV, sessions); disposed when the
   * worker exits. It pays off when a worker runs several files (vitest `isolate: false`); with
   * vitest's default isolation each file gets its own worker and `worker` behaves like `file`.
   */
  scope?: 'file' | 'worker'
}

interface Shared {
  key: string
  emulator: Promise<Emulator>
  files: number
}

// Shared across test files of one worker process, even when vitest re-evaluates this module.
const SHARED = Symbol.for('mcp-harness.vitest.shared')
type SharedStore = Map<string, Shared>
const globalStore = globalThis as typeof globalThis & { [SHARED]?: SharedStore }

function sharedStore(): SharedStore {
  if (globalStore[SHARED]) return globalStore[SHARED]
  const store: SharedStore = new Map()
  globalStore[SHARED] = store
  const disposeAll = async () => {
    const running = [...store.values()]
    store.clear()
    await Promise.allSettled(running.map(async (shared) => (await shared.emulator).dispose()))
  }
  // The worker exits once its files ran: stop workerd with it instead of leaving it behind.
  process.once('beforeExit', () => void disposeAll())
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void disposeAll().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15))))
  }
  return store
}

/**
 * Starts loading what a start needs, once per worker process: V8's compile cache goes on first (in
 * the Worker project's cache folder) so that the emulator's modules and Miniflare load from it,
 * then both load while vitest collects the file's tests.
 */
let reportModule: Promise<typeof import('../report/on-failure.ts')> | undefined
let emulatorModule: Promise<typeof import('../emulator/emulator.ts')> | undefined
function loadEmulator(config: unknown): Promise<typeof import('../emulator/emulator.ts')> {
  if (!emulatorModule) {
    try {
      enableCompileCache(path.join(buildCacheRoot(resolveConfigPath(typeof config === 'string' ? config : process.cwd())), 'node-compile-cache'))
    } catch {
      // No wrangler config here (the harness config names one elsewhere): createEmulator enables it.
    }
    emulatorModule = import('../emulator/emulator.ts')
    loadRuntime().catch(() => {}) // a failure surfaces in createEmulator
  }
  return emulatorModule
}

function optionsKey(options: Partial<EmulatorOptions>): string {
  return JSON.stringify(options, (_key, value) => (typeof value === 'function' ? String(value) : value))
}

/**
 * Starts an emulator for the test file (in `beforeAll`) and disposes it after the file (`afterAll`).
 * Without `config` the emulator reads the harness config (`mcp-harness.config.ts`) or the wrangler
 * config of the current folder, like `npx mcp-harness serve`. The returned object is the emulator;
 * use it inside tests and hooks, not at the top level of the file.
 * @example
 * import { useEmulator } from 'mcp-harness/vitest'
 * const emulator = useEmulator()
 * test('answers on /mcp', async () => expect((await emulator.fetch('/mcp')).status).toBe(406))
 */
export function useEmulator(options: UseEmulatorOptions = {}): Emulator {
  const { scope: scopeInput, ...emulatorOptions } = options
  const scope = parseOptions(ScopeSchema, scopeInput ?? 'file', 'useEmulator option "scope"')
  let current: Emulator | undefined
  const loading = loadEmulator(emulatorOptions.config)
  loading.catch(() => {}) // awaited in beforeAll

  beforeAll(async () => {
    const { createEmulator } = await loading
    if (scope === 'file') {
      current = await createEmulator(emulatorOptions as EmulatorOptions)
      return
    }
    const store = sharedStore()
    const key = optionsKey(emulatorOptions)
    let shared = store.get(key)
    if (!shared) {
      shared = { key, emulator: createEmulator(emulatorOptions as EmulatorOptions), files: 0 }
      store.set(key, shared)
      shared.emulator.catch(() => store.delete(key))
    }
    const emulator = await shared.emulator
    // A file must not see what an earlier file left: storage, sessions, faults, transcript.
    if (shared.files++ > 0) {
      await emulator.wipeStorage()
      emulator.faults.clear()
      await emulator.settled() // the hop reports of the earlier file land before the reset, not in this file's transcript
      emulator.transcript.reset()
      emulator.errors.length = 0
    }
    current = emulator
  }, START_TIMEOUT_MS)

  // MCP_HARNESS_REPORT=on-failure (the default in CI): a failing test leaves the picture of its own traffic.
  beforeEach(async (ctx) => {
    const mode = reportMode()
    if (mode === 'off' || !current) return
    const emulator = current
    const fromSeq = emulator.transcript.nextSeq // not events.length: seq keeps counting across reset() and dropped events
    // The report code loads only where reports are on (CI), once per worker.
    const { reportOnFailure } = await (reportModule ??= import('../report/on-failure.ts'))
    const write = (label: string) => {
      const file = reportOnFailure(emulator, ctx.task.fullName ?? ctx.task.name, { fromSeq })
      const note = `[mcp-harness] ${label}: ${file}`
      const error = ctx.task.result?.errors?.[0]
      if (error && typeof error.message === 'string') error.message = `${error.message}\n${note}`
      console.error(note)
    }
    if (mode === 'always') ctx.onTestFinished(() => write('report'))
    else ctx.onTestFailed(() => write('report of the failing test'))
  })

  afterAll(async () => {
    if (scope === 'file') await current?.dispose()
    current = undefined
  })

  return new Proxy({} as Emulator, {
    get(_target, property) {
      if (!current) {
        throw new HarnessError('ERR_OPTIONS', `Failed to use the emulator: it is not running here. useEmulator() starts it in beforeAll and stops it in afterAll; read "${String(property)}" inside a test or hook.`)
      }
      const value = Reflect.get(current, property, current)
      return typeof value === 'function' ? value.bind(current) : value
    },
    has(_target, property) {
      return current !== undefined && property in current
    },
  })
}
