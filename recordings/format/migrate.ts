import { HarnessError } from '../../core/errors.ts'
import { CASSETTE_VERSION } from './schema.ts'

/**
 * Upgrades from version N to N+1, keyed by N. Empty while version 1 is the only format: when the
 * format changes, bump CASSETTE_VERSION and add the step here, never coerce in the loader.
 */
export const MIGRATIONS: Record<number, (cassette: Record<string, unknown>) => Record<string, unknown>> = {}

/**
 * Brings a parsed cassette to the current version, or fails with a pointer to this file.
 * @example migrate(JSON.parse(text), 'recordings/cassettes/sdk/add.json')
 */
export function migrate(raw: unknown, source: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HarnessError('ERR_CASSETTE', `Failed to load cassette ${source}: expected a JSON object with "version", received ${Array.isArray(raw) ? 'an array' : typeof raw}.`)
  }
  let cassette = raw as Record<string, unknown>
  const version = cassette.version
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new HarnessError(
      'ERR_CASSETTE',
      `Failed to load cassette ${source}: unknown format version ${JSON.stringify(version)} (this mcp-harness reads version ${CASSETTE_VERSION}). Cassettes are never guessed at: see recordings/format/migrate.ts for the migrations, or re-record the cassette.`,
    )
  }
  if (version > CASSETTE_VERSION) {
    throw new HarnessError(
      'ERR_CASSETTE',
      `Failed to load cassette ${source}: format version ${version} is newer than this mcp-harness reads (${CASSETTE_VERSION}). Upgrade mcp-harness; recordings/format/migrate.ts lists the versions it knows.`,
    )
  }
  for (let from = version; from < CASSETTE_VERSION; from++) {
    const step = MIGRATIONS[from]
    if (!step) {
      throw new HarnessError('ERR_CASSETTE', `Failed to migrate cassette ${source} from version ${from}: recordings/format/migrate.ts has no step ${from} → ${from + 1}. Re-record the cassette.`)
    }
    cassette = step(cassette)
  }
  return cassette
}
