/**
 * Writes scenarios/helpers/test-durations.json from vitest's cache of the last runs here (each test
 * file's duration, rounded to 100 ms), for the suite's slowest-first order on a fresh checkout
 * (scenarios/helpers/slowest-first.ts). Run it after a full `npm test`.
 * @example npm test && node scripts/test-durations.ts
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cacheDir = path.join(root, 'node_modules/.vite/vitest')
const durations: Record<string, number> = {}
for (const entry of await readdir(cacheDir, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue
  const results = JSON.parse(await readFile(path.join(cacheDir, entry.name, 'results.json'), 'utf8').catch(() => '{}')) as {
    projects?: Record<string, { files?: Record<string, { duration?: number }> }>
  }
  for (const project of Object.values(results.projects ?? {})) {
    for (const [file, result] of Object.entries(project.files ?? {})) {
      if (typeof result.duration === 'number') durations[file] = Math.round(result.duration / 100) * 100
    }
  }
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => a.localeCompare(b)))
const target = path.join(root, 'scenarios/helpers/test-durations.json')
await writeFile(target, `${JSON.stringify(sorted, null, 2)}\n`)
console.log(`[mcp-harness] ${Object.keys(sorted).length} test file durations written to ${path.relative(process.cwd(), target)}`)
