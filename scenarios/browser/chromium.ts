import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type BrowserContext } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser; `CHROMIUM_PATH` overrides. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser']

/** The browser lane's flags: headless, no network side-channels, nothing that phones home. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** The Chromium executable, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_CANDIDATES
  return candidates.find((candidate) => existsSync(candidate))
}

/**
 * Decides whether the browser lane runs: with `CI=true` it must (a missing Chromium is an error);
 * elsewhere it skips with a one-line hint.
 */
export function browserLane(): { run: true; executable: string } | { run: false; reason: string } {
  const executable = findChromium()
  if (executable) return { run: true, executable }
  const hint = 'Chromium not found: the browser lane is skipped. Enable it with `apt-get install chromium` (or set CHROMIUM_PATH).'
  if (process.env.CI === 'true') throw new Error(`[mcp-harness] ${hint.replace('the browser lane is skipped', 'the browser lane must run in CI')}`)
  return { run: false, reason: hint }
}

const PAGE_ENTRY = fileURLToPath(new URL('./page/entry.ts', import.meta.url))

/** A page on its own loopback origin that carries the bundled TypeScript SDK client. */
export interface PageServer {
  origin: string
  close(): Promise<void>
}

/** Bundles the page's SDK client with esbuild and serves it from 127.0.0.1 on a free port (a different origin from the emulator). */
export async function servePage(): Promise<PageServer> {
  const bundle = await build({ entryPoints: [PAGE_ENTRY], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', write: false, logLevel: 'silent' })
  const script = bundle.outputFiles[0]!.text
  const html = '<!doctype html><meta charset="utf-8"><title>mcp-harness browser client</title><script src="/client.js"></script>'
  const server = http.createServer((req, res) => {
    if (req.url === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else if (req.url === '/' || req.url === '/index.html') res.writeHead(200, { 'content-type': 'text/html' }).end(html)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A headless Chromium with a fresh profile, removed on close. */
export interface Browser {
  context: BrowserContext
  close(): Promise<void>
}

/** Launches Chromium through playwright-core with a fresh `--user-data-dir`. */
export async function launchChromium(executable: string): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: executable, headless: true, args: CHROMIUM_ARGS })
  return {
    context,
    async close() {
      await context.close().catch(() => {})
      await rm(profile, { recursive: true, force: true })
    },
  }
}
