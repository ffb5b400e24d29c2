/**
 * Builds `dist/` for users who install the package: Node refuses to strip TypeScript types inside
 * node_modules, so the published entry points are compiled, with declarations for their types.
 * It runs as `prepare`, not `prepack`: `npm pack` and `npm publish` run `prepare` too, and for a
 * git dependency npm (pacote) installs the dev dependencies and then runs `prepare` only. Files read at run time beside the code
 * (the workerd modules, JSON Schemas, the OpenAPI document) are copied next to the compiled modules.
 * @example npm run build
 */
import { spawnSync } from 'node:child_process'
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const SOURCE_DIRS = ['core', 'emulator', 'recordings', 'report', 'doctor', 'cli']
// Data that stays in the repository: cassettes are fixtures of this project's own tests.
const SKIP_DIRS = new Set(['cassettes', 'node_modules'])
const RUNTIME_ASSET = /\.(js|mjs|json)$/

await rm(dist, { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
if (result.status !== 0) process.exit(result.status ?? 1)

let copied = 0
async function copyAssets(dir: string): Promise<void> {
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await copyAssets(relative)
    } else if (RUNTIME_ASSET.test(entry.name)) {
      await cp(path.join(root, relative), path.join(dist, relative))
      copied++
    }
  }
}
for (const dir of SOURCE_DIRS) await copyAssets(dir)

// tsc rewrites `.ts` import specifiers in the JavaScript it emits but not in declarations: a user's
// tsc (without allowImportingTsExtensions) must see `.js` there too.
let declarations = 0
async function rewriteDeclarations(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) await rewriteDeclarations(file)
    else if (entry.name.endsWith('.d.ts')) {
      const text = await readFile(file, 'utf8')
      const rewritten = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1$2.js$3')
      if (rewritten !== text) await writeFile(file, rewritten)
      declarations++
    }
  }
}
await rewriteDeclarations(dist)
console.log(`[mcp-harness] built dist/ (${declarations} declaration files, ${copied} runtime assets copied)`)
