import type { Cassette } from '../format/schema.ts'

/** Where cassettes live; a persister never sees a Request (STYLE.md #1). Ids are paths like `sdk/add`. */
export interface Persister {
  load(id: string): Promise<Cassette | undefined>
  save(id: string, cassette: Cassette): Promise<void>
}
