import { HarnessError } from '../../core/errors.ts'
import { migrate } from './migrate.ts'
import { CassetteSchema, type Cassette } from './schema.ts'

// Keys a reader looks for first; everything else follows alphabetically, so the file is stable.
const KEY_ORDER = [
  'version', 'meta', 'client', 'scenario', 'transport', 'recordedWith', 'rerecord', 'notes', 'match',
  'interactions', 'events',
  'id', 't', 'layer', 'type', 'request', 'response',
  'method', 'path', 'query', 'status', 'headers', 'body', 'bodyText', 'event', 'retry', 'data', 'dataText', 'sse', 'ws', 'from', 'binary', 'close', 'end', 'reason',
]
const RANK = new Map(KEY_ORDER.map((key, index) => [key, index]))

// Recorded payloads (messages, headers) are sorted alphabetically only: a field named `version` inside
// a message is data, not the cassette's version.
const PAYLOAD_KEYS = new Set(['body', 'data', 'detail', 'headers', 'query'])

function orderKeys(value: unknown, payload = false): unknown {
  if (Array.isArray(value)) return value.map((item) => orderKeys(item, payload))
  if (value === null || typeof value !== 'object') return value
  const keys = Object.keys(value).sort((a, b) => {
    const ra = payload ? 0 : (RANK.get(a) ?? Infinity)
    const rb = payload ? 0 : (RANK.get(b) ?? Infinity)
    return ra === rb ? (a < b ? -1 : a > b ? 1 : 0) : ra - rb
  })
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key]
    if (item !== undefined) out[key] = orderKeys(item, payload || PAYLOAD_KEYS.has(key))
  }
  return out
}

/**
 * Serializes a cassette deterministically: fixed key order, 2-space indent, trailing newline.
 * @example await writeFile(file, serializeCassette(cassette))
 */
export function serializeCassette(cassette: Cassette): string {
  return `${JSON.stringify(orderKeys(CassetteSchema.parse(cassette)), null, 2)}\n`
}

/**
 * Parses and validates cassette text; corrupt JSON, an unknown version or a schema violation is an
 * `ERR_CASSETTE` that names the file.
 * @example const cassette = parseCassette(await readFile(file, 'utf8'), file)
 */
export function parseCassette(text: string, source = '<inline cassette>'): Cassette {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new HarnessError(
      'ERR_CASSETTE',
      `Failed to load cassette ${source}: the file is not valid JSON (${(error as Error).message}). Re-record it, or restore it from version control.`,
    )
  }
  const migrated = migrate(raw, source)
  const parsed = CassetteSchema.safeParse(migrated)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new HarnessError(
      'ERR_CASSETTE',
      `Failed to load cassette ${source}: "${issue.path.join('.') || '(root)'}" ${issue.message}. The file does not match the version 1 schema (recordings/format/cassette.schema.json); re-record it.`,
    )
  }
  return parsed.data
}
