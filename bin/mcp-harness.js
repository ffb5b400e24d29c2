#!/usr/bin/env node
// Installed as a dependency (inside node_modules), Node will not strip TypeScript types, so the
// compiled CLI in dist/ runs. In a checkout of this repository the TypeScript source runs directly
// (Node >= 22.18 strips types), so a stale dist/ can never shadow the code being tested.
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)
const installed = here.split(/[\\/]/).includes('node_modules')
await import(new URL(installed ? '../dist/cli/cli.js' : '../cli/cli.ts', import.meta.url).href)
