import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { isHarnessError } from '../../core/errors.ts'
import { committedCassettes } from '../committed.ts'
import { createFsPersister, loadCassette, writeFileAtomic } from '../persist/fs.ts'
import { createMemoryPersister } from '../persist/memory.ts'
import type { Persister } from '../persist/types.ts'
import { CASSETTE_JSON_SCHEMA_PATH, cassetteJsonSchemaText } from './json-schema.ts'
import { parseCassette, serializeCassette } from './serialize.ts'

const failure = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

describe('cassette format v1', () => {
  test('the committed JSON Schema is generated from the zod schema and up to date', async () => {
    // Regenerate: npx tsx -e "…cassetteJsonSchemaText()" > recordings/format/cassette.schema.json
    expect(await readFile(CASSETTE_JSON_SCHEMA_PATH, 'utf8')).toBe(cassetteJsonSchemaText())
  })

  test.each(committedCassettes())('%s is in canonical form (stable key order, re-serializes byte for byte)', async (file) => {
    const text = await readFile(file, 'utf8')
    expect(serializeCassette(parseCassette(text, file))).toBe(text)
  })

  test('an unknown version fails with a pointer to the migration, never a guess', () => {
    const error = failure(() => parseCassette(JSON.stringify({ version: 0, meta: {}, interactions: [] }), 'old.json'))
    expect(isHarnessError(error, 'ERR_CASSETTE')).toBe(true)
    expect(error.message).toContain('Failed to load cassette old.json: unknown format version 0')
    expect(error.message).toContain('recordings/format/migrate.ts')
    expect(failure(() => parseCassette('{"version":"1"}', 'x.json')).message).toContain('unknown format version "1"')
    expect(failure(() => parseCassette('{"version":2,"interactions":[]}', 'new.json')).message).toContain('format version 2 is newer than this mcp-harness reads (1)')
  })

  test('corrupt JSON fails with an error naming the file', () => {
    const error = failure(() => parseCassette('{"version": 1, "interactions": [', 'recordings/cassettes/broken.json'))
    expect(isHarnessError(error, 'ERR_CASSETTE')).toBe(true)
    expect(error.message).toMatch(/Failed to load cassette recordings\/cassettes\/broken\.json: the file is not valid JSON/)
  })

  test('a schema violation names the field', () => {
    const error = failure(() => parseCassette(JSON.stringify({ version: 1, meta: { client: 'x', scenario: 'y', transport: 'z', recordedWith: 'proxy' }, interactions: [] }), 'bad.json'))
    expect(error.message).toContain('"meta.transport"')
  })
})

const CASSETTE = parseCassette(
  JSON.stringify({ version: 1, meta: { client: 'test', scenario: 'contract', transport: 'streamable-http', recordedWith: 'proxy' }, interactions: [{ id: 1, t: 0, request: { method: 'GET', path: '/health', headers: {} } }] }),
)

/** The contract every persister meets (STYLE.md #12). */
function persisterContract(name: string, make: () => Promise<Persister>) {
  describe(`${name} persister`, () => {
    test('loads what it saved, equal after the round trip', async () => {
      const persister = await make()
      await persister.save('sdk/one', CASSETTE)
      expect(await persister.load('sdk/one')).toEqual(CASSETTE)
    })
    test('returns undefined for a cassette it never saved', async () => {
      expect(await (await make()).load('nothing/here')).toBeUndefined()
    })
    test.each(['../x', 'sdk/../../x', '/tmp/x', ''])('refuses the id %j on save and load (ERR_PATH)', async (id) => {
      const persister = await make()
      await expect(persister.save(id, CASSETTE)).rejects.toMatchObject({ code: 'ERR_PATH' })
      await expect(persister.load(id)).rejects.toMatchObject({ code: 'ERR_PATH' })
    })
  })
}
persisterContract('memory', async () => createMemoryPersister())
persisterContract('fs', async () => createFsPersister(await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-persist-'))))

describe('atomic writes', () => {
  test('a failed write leaves the previous file intact and no temp file behind', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-atomic-'))
    try {
      const file = path.join(dir, 'c.json')
      await writeFileAtomic(file, serializeCassette(CASSETTE))
      // A directory where the temp file must go makes the write fail half way.
      const blocker = path.join(dir, 'blocked.json')
      await mkdir(blocker)
      await expect(writeFileAtomic(blocker, 'x')).rejects.toThrow(/ERR_CASSETTE: Failed to write cassette/)
      expect((await readdir(dir)).sort()).toEqual(['blocked.json', 'c.json'])
      expect(await loadCassette(file)).toEqual(CASSETTE)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a missing cassette file fails with the command that records it', async () => {
    await expect(loadCassette('recordings/cassettes/none/missing.json')).rejects.toThrow(/no such file\. Record it first \(mcp-harness record --out recordings\/cassettes\/none\/missing\.json\)/)
  })

  test('a truncated file is reported as corrupt, not half-read', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-trunc-'))
    const file = path.join(dir, 't.json')
    await writeFile(file, serializeCassette(CASSETTE).slice(0, 60))
    await expect(loadCassette(file)).rejects.toThrow(/not valid JSON/)
    await rm(dir, { recursive: true, force: true })
  })
})
