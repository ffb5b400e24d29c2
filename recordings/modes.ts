import { existsSync } from 'node:fs'
import { HarnessError } from '../core/errors.ts'
import { createRecordingProxy, type RecordingProxy } from './capture/proxy.ts'
import { buildCassette, type BuildCassetteOptions } from './format/normalize.ts'
import { detectTransport } from './format/transport.ts'
import type { Cassette, CassetteMeta } from './format/schema.ts'
import { createMockServer, type MockServer } from './mock.ts'
import { saveCassette } from './persist/fs.ts'

/** How a cassette is used: serve it (`replay`, the default), record it through a proxy, or just forward. */
export type Mode = 'replay' | 'record' | 'passthrough'
export const MODES: readonly Mode[] = ['replay', 'record', 'passthrough']

/**
 * Reads the mode from a value (default: the `HARNESS_MODE` environment variable), `replay` when unset.
 * @example const mode = resolveMode() // HARNESS_MODE=record vitest run …
 */
export function resolveMode(value: string | undefined = process.env.HARNESS_MODE): Mode {
  if (value === undefined || value === '') return 'replay'
  if ((MODES as readonly string[]).includes(value)) return value as Mode
  throw new HarnessError('ERR_OPTIONS', `Invalid option "mode": expected one of ${MODES.join(', ')}, received "${value}".`)
}

function assertNever(value: never): never {
  throw new HarnessError('ERR_OPTIONS', `Invalid option "mode": ${String(value)}`)
}

export interface UseCassetteOptions extends BuildCassetteOptions {
  /** Default: `resolveMode()`. */
  mode?: Mode
  /** The real server, needed to record or pass through. */
  target?: string | URL
  /** Describes the recording (record mode). */
  meta?: Partial<CassetteMeta>
  /** In replay mode, record when the cassette is missing; false in CI so a missing cassette fails the run. */
  recordIfMissing?: boolean
}

/** A cassette in use: point the client at `url`, then `stop()` (saves in record mode). */
export interface CassetteSession {
  mode: Mode
  url: URL
  /** The mock server in replay mode. */
  mock?: MockServer
  /** The proxy in record and passthrough modes (use `mark()` to note an eviction). */
  proxy?: RecordingProxy
  stop(): Promise<Cassette | undefined>
}

/**
 * Uses a cassette file for a client under test, by mode: `replay` serves it, `record` records the
 * client's session with the target into it, `passthrough` forwards without recording.
 * @example const session = await useCassette('recordings/cassettes/sdk/add.json', { target: emulator.url })
 */
export async function useCassette(file: string, options: UseCassetteOptions = {}): Promise<CassetteSession> {
  let mode = options.mode ?? resolveMode()
  if (mode === 'replay' && !existsSync(file)) {
    const recordIfMissing = options.recordIfMissing ?? !process.env.CI
    if (!recordIfMissing || !options.target) {
      throw new HarnessError(
        'ERR_REPLAY_MISS',
        `Failed to replay ${file} (mode: replay): the cassette does not exist${process.env.CI ? ' and CI never records' : ''}. Record it: HARNESS_MODE=record with a target, or mcp-harness record --target <server> --out ${file}.`,
      )
    }
    mode = 'record'
  }
  switch (mode) {
    case 'replay': {
      const mock = await createMockServer(file)
      return { mode, url: mock.url, mock, stop: async () => void (await mock.close()) }
    }
    case 'record':
    case 'passthrough': {
      if (!options.target) throw new HarnessError('ERR_OPTIONS', `Invalid option "target": mode "${mode}" forwards to a server; pass its base URL.`)
      const proxy = createRecordingProxy({ target: options.target, record: mode === 'record' })
      await proxy.start()
      return {
        mode,
        url: proxy.url,
        proxy,
        async stop() {
          await proxy.stop()
          if (mode !== 'record') return undefined
          const cassette = buildCassette(proxy.snapshot(), { client: 'unknown', scenario: file, transport: 'other', recordedWith: 'proxy', ...options.meta }, options)
          if (!options.meta?.transport) cassette.meta.transport = detectTransport(cassette.interactions)
          await saveCassette(file, cassette)
          return cassette
        },
      }
    }
    default:
      return assertNever(mode)
  }
}
