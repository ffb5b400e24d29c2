import { readdirSync } from 'node:fs'
import path from 'node:path'

/** Folder of the committed cassettes, relative to the project root. */
export const COMMITTED_CASSETTE_DIR = 'recordings/cassettes'

/** Every committed cassette, as `recordings/cassettes/<client>/<scenario>.json` paths, sorted. */
export function committedCassettes(root = COMMITTED_CASSETTE_DIR): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((dir) => readdirSync(path.join(root, dir.name)).filter((f) => f.endsWith('.json')).map((f) => path.join(root, dir.name, f)))
    .sort()
}
