import { z } from 'zod'
import { CassetteSchema } from './schema.ts'

/** Path of the committed JSON Schema, relative to the project root. */
export const CASSETTE_JSON_SCHEMA_PATH = 'recordings/format/cassette.schema.json'

/**
 * The cassette format as JSON Schema (draft 2020-12), generated from the zod schema, for other languages.
 * @example JSON.stringify(cassetteJsonSchema(), null, 2)
 */
export function cassetteJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://mcp-harness.dev/schemas/cassette-v1.json',
    title: 'mcp-harness cassette, version 1',
    ...(z.toJSONSchema(CassetteSchema, { io: 'input' }) as Record<string, unknown>),
  }
}

/** The committed file's exact text. */
export function cassetteJsonSchemaText(): string {
  return `${JSON.stringify(cassetteJsonSchema(), null, 2)}\n`
}
