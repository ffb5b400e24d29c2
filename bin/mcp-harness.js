#!/usr/bin/env node
// Plain JavaScript that any Node can parse, so an old Node gets one clear line instead of a stack.
// Keep the version in step with core/node-version.ts.
const REQUIRED = [22, 12]
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  console.error(`mcp-harness needs Node.js >= ${REQUIRED.join('.')}.0, but this is Node.js v${process.versions.node}: install Node 22 LTS or newer (https://nodejs.org, or \`nvm install 22\`) and run again.`)
  process.exit(1)
}

// Installed (from a tarball, the registry or git) the compiled CLI in dist/ runs: Node does not strip
// TypeScript types inside node_modules. In a checkout of this repository (also when a project links
// it as a folder dependency) the TypeScript source runs directly where this Node strips types, so a
// stale dist/ never shadows the code being tested.
const { existsSync } = await import('node:fs')
const { fileURLToPath } = await import('node:url')
const here = fileURLToPath(import.meta.url)
const installed = here.split(/[\\/]/).includes('node_modules')
const source = new URL('../cli/cli.ts', import.meta.url)
const compiled = new URL('../dist/cli/cli.js', import.meta.url)
const runSource = !installed && process.features.typescript && existsSync(source)
if (!runSource && !existsSync(compiled)) {
  console.error('mcp-harness: dist/ is missing. In a checkout, run `npm run build` (a packed or git-installed package builds it in `prepare`).')
  process.exit(1)
}
// V8's compiled code of the CLI's modules (and of wrangler's and Miniflare's, loaded later) is kept
// in the Worker project's cache folder, beside its builds: a later start skips compiling them.
const { default: module } = await import('node:module')
const { join, dirname } = await import('node:path')
for (let dir = process.cwd(); ; dir = dirname(dir)) {
  if (existsSync(join(dir, 'package.json'))) {
    if (existsSync(join(dir, 'node_modules'))) {
      try {
        module.enableCompileCache?.(join(dir, 'node_modules', '.cache', 'mcp-harness', 'node-compile-cache'))
      } catch {
        // Only the speed-up is lost.
      }
    }
    break
  }
  if (dirname(dir) === dir) break
}
await import((runSource ? source : compiled).href)
