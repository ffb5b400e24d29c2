import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { HarnessError } from '../../core/errors.ts'
import { assertRelativePath, resolveInside } from '../../core/paths.ts'
import { parseCassette, serializeCassette } from '../format/serialize.ts'
import type { Cassette } from '../format/schema.ts'
import type { Persister } from './types.ts'

/**
 * Writes a file atomically: temp file in the same folder, fsync, rename. A crash mid-write leaves the
 * old file (or none), never a truncated one.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const handle = await open(temp, 'w')
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true })
    throw new HarnessError('ERR_CASSETTE', `Failed to write cassette ${file}: ${(error as Error).message}`, { cause: error })
  }
}

/** Saves a cassette to a file (atomically, deterministic text). */
export async function saveCassette(file: string, cassette: Cassette): Promise<void> {
  await writeFileAtomic(file, serializeCassette(cassette))
}

/** Loads and validates a cassette file; a missing file is an `ERR_CASSETTE` naming it. */
export async function loadCassette(file: string): Promise<Cassette> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new HarnessError('ERR_CASSETTE', `Failed to load cassette ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}. Record it first (mcp-harness record --out ${file}).`)
  }
  return parseCassette(text, file)
}

/**
 * A persister over a folder: id `sdk/add` is `<root>/sdk/add.json`. Ids are relative paths inside
 * the folder: absolute ids, `..` and symbolic links leading out are refused (`ERR_PATH`).
 * @example const persister = createFsPersister('recordings/cassettes')
 */
export function createFsPersister(root: string): Persister {
  const fileOf = (id: string) => {
    const relative = assertCassetteId(id)
    return resolveInside(root, relative.endsWith('.json') ? relative : `${relative}.json`, 'cassette id')
  }
  return {
    async load(id) {
      const file = await fileOf(id)
      try {
        return parseCassette(await readFile(file, 'utf8'), file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw error
      }
    },
    save: async (id, cassette) => saveCassette(await fileOf(id), cassette),
  }
}

/**
 * Checks a cassette id (`sdk/add`): a relative path without `..`, so no persister leaves its root.
 * @example assertCassetteId('inspector/login')
 */
export function assertCassetteId(id: string): string {
  return assertRelativePath(id, 'cassette id')
}
