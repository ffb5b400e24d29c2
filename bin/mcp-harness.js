#!/usr/bin/env node
// Runs the compiled CLI when the package was built (installed users), else the TypeScript source
// (this repository, on Node >= 22.18 which strips types).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/emulator/cli.js', import.meta.url))
await import(existsSync(compiled) ? compiled : new URL('../emulator/cli.ts', import.meta.url).href)
