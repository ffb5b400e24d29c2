import { parseCassette, serializeCassette } from '../format/serialize.ts'
import type { Persister } from './types.ts'
import { assertRelativePath } from '../../core/paths.ts'

/**
 * A persister in memory, for tests; it round-trips through the serializer so it behaves like a file.
 * @example const persister = createMemoryPersister()
 */
export function createMemoryPersister(): Persister & { files: Map<string, string> } {
  const files = new Map<string, string>()
  return {
    files,
    // The same ids as the file persister accepts, so a test with this one catches a bad id too.
    load: async (id) => {
      const key = assertRelativePath(id, 'cassette id')
      return files.has(key) ? parseCassette(files.get(key)!, `memory:${key}`) : undefined
    },
    save: async (id, cassette) => void files.set(assertRelativePath(id, 'cassette id'), serializeCassette(cassette)),
  }
}
