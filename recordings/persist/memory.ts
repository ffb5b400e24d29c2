import { parseCassette, serializeCassette } from '../format/serialize.ts'
import type { Persister } from './types.ts'

/**
 * A persister in memory, for tests; it round-trips through the serializer so it behaves like a file.
 * @example const persister = createMemoryPersister()
 */
export function createMemoryPersister(): Persister & { files: Map<string, string> } {
  const files = new Map<string, string>()
  return {
    files,
    load: async (id) => (files.has(id) ? parseCassette(files.get(id)!, `memory:${id}`) : undefined),
    save: async (id, cassette) => void files.set(id, serializeCassette(cassette)),
  }
}
