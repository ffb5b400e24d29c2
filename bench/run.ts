/**
 * Runs every benchmark: each `bench/<area>.bench.ts`, one after another (never in parallel: they
 * measure time on a shared machine), then prints where the results went.
 *
 * The pattern every benchmark follows (add yours as `bench/<area>.bench.ts`):
 * 1. It is a standalone script (top-level await), runnable alone: `node bench/<area>.bench.ts`.
 * 2. It measures real traffic against real runtimes, all on 127.0.0.1; nothing reaches the network.
 * 3. It writes `bench/results/<area>.json` ({ bench, date, machine, ...numbers }) with `writeResult`
 *    from `bench/lib.ts`, and prints a markdown table (`markdownTable`) that can go into README.md.
 * 4. Comparisons (e.g. tap vs bare) are measured in the same run, interleaved, never against
 *    numbers from another day.
 * 5. It exits non-zero when a measurement could not be taken; timing claims live here, never as
 *    assertions in tests.
 * @example npm run bench            # every benchmark
 * @example npm run bench -- platform  # only bench/platform.bench.ts (extra args pass through)
 */
import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const [filter, ...rest] = process.argv.slice(2)
const files = (await readdir(here)).filter((file) => file.endsWith('.bench.ts')).sort()
const selected = filter && !filter.startsWith('-') ? files.filter((file) => file.startsWith(`${filter}.`)) : files
const passThrough = filter?.startsWith('-') ? [filter, ...rest] : rest
if (selected.length === 0) {
  console.error(`[mcp-harness] No benchmark matches "${filter}". Available: ${files.map((file) => file.replace('.bench.ts', '')).join(', ')}`)
  process.exit(1)
}
let failed = 0
for (const file of selected) {
  console.log(`\n## ${file.replace('.bench.ts', '')}\n`)
  // process.execPath is the Node that runs this script (Node 22 through npm scripts / npx).
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(here, file), ...passThrough], { stdio: 'inherit' })
    child.on('exit', (exitCode) => resolve(exitCode ?? 1))
  })
  if (code !== 0) {
    failed++
    console.error(`[mcp-harness] ${file} failed with exit code ${code}`)
  }
}
console.log(`\nResults: ${path.relative(process.cwd(), path.join(here, 'results'))}/<bench>.json`)
process.exit(failed ? 1 : 0)
