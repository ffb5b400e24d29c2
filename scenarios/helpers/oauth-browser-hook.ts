/**
 * A BROWSER hook for real clients (mcp-remote): xdg-open runs `$BROWSER <url>` when no desktop is
 * present, so this script plays the user: consent, upstream sign-in through the emulator's mocked
 * provider page, then a visit to the client's own callback URL.
 *
 * Environment: MCP_HARNESS_EMULATOR_URL (required), MCP_HARNESS_UPSTREAM_USER (optional),
 * MCP_HARNESS_BROWSER_LOG (optional file that receives one JSON line per run, secrets redacted).
 * @example BROWSER="<node> scenarios/helpers/oauth-browser-hook.ts" mcp-remote http://127.0.0.1:8788/mcp
 */
import { appendFileSync } from 'node:fs'
import { runBrowser } from './oauth-browser.ts'

const redact = (url: string) => url.replace(/([?&](?:code|state)=)[^&]+/g, '$1[redacted]')

async function main(): Promise<number> {
  const target = process.argv[2]
  const emulatorUrl = process.env.MCP_HARNESS_EMULATOR_URL
  const log = (entry: Record<string, unknown>) => {
    if (process.env.MCP_HARNESS_BROWSER_LOG) appendFileSync(process.env.MCP_HARNESS_BROWSER_LOG, `${JSON.stringify(entry)}\n`)
  }
  if (!target || !emulatorUrl) {
    log({ error: 'usage: oauth-browser-hook <url> with MCP_HARNESS_EMULATOR_URL set' })
    return 2
  }
  try {
    const result = await runBrowser(emulatorUrl, target, { user: process.env.MCP_HARNESS_UPSTREAM_USER || undefined })
    let callbackStatus: number | undefined
    if (result.reachedClient) {
      // The client's loopback server takes the code from here, as it would from a real browser.
      const response = await fetch(result.finalUrl, { redirect: 'manual' })
      callbackStatus = response.status
      await response.body?.cancel()
    }
    log({ reachedClient: result.reachedClient, callbackStatus, steps: result.steps.map((step) => ({ ...step, url: redact(step.url), ...(step.location ? { location: redact(step.location) } : {}) })) })
    return result.reachedClient ? 0 : 1
  } catch (error) {
    log({ error: String((error as Error).message ?? error) })
    return 1
  }
}

process.exitCode = await main()
