import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type TranscriptEvent } from '../../emulator/index.ts'
import { CORS_CASES } from '../cors/servers.ts'
import type { McpRun } from './page/run-mcp.ts'
import { browserLane, launchChromium, servePage, type Browser, type PageServer } from './chromium.ts'

// The browser lane: a real Chromium page on its own origin runs the bundled TypeScript SDK client
// against the emulator, and the CORS model (observing the same traffic) must reach the same verdict:
// what Chromium blocks, with the same message, and which header the page could not read.
const lane = browserLane()
if (!lane.run) console.log(lane.reason)

interface PageResult {
  run: McpRun
  probe: { status?: number; readable: boolean; error?: string }
  console: string[]
}

let browser: Browser
let page: PageServer
beforeAll(async () => {
  if (!lane.run) return
  page = await servePage()
  browser = await launchChromium(lane.executable)
})
afterAll(async () => {
  await browser?.close()
  await page?.close()
})

const harness = (events: readonly TranscriptEvent[], type: string) => events.filter((event) => event.layer === 'harness' && event.type === type)

describe.skipIf(!lane.run).each(CORS_CASES)('Chromium and the CORS model agree: $name', (server) => {
  test(`${server.name}: Chromium and the model give the same verdict`, async () => {
    const emulator = await createEmulator({ config: server.config })
    const tab = await browser.context.newPage()
    try {
      const messages: string[] = []
      tab.on('console', (message) => messages.push(message.text()))
      await tab.goto(`${page.origin}/`)
      const url = new URL('/mcp', emulator.url).href
      const result: PageResult = await tab.evaluate(async (target) => {
        const api = (globalThis as unknown as { mcpHarness: { runMcp: (url: string) => Promise<McpRun>; probeSessionHeader: (url: string) => Promise<PageResult['probe']> } }).mcpHarness
        const run = await api.runMcp(target)
        const probe = await api.probeSessionHeader(target)
        return { run, probe, console: [] }
      }, url)
      // Console messages arrive asynchronously; give Chromium a moment to flush them.
      await tab.waitForTimeout(200)
      result.console = messages.filter((text) => text.includes('CORS policy'))
      const events = emulator.transcript.events
      const blocked = harness(events, 'cors:blocked')
      const hidden = harness(events, 'cors:header-hidden')
      const verdicts = {
        server: server.name,
        chromium: { connected: result.run.connected, steps: result.run.steps, sum: result.run.sum, error: result.run.error, sessionIdReadable: result.probe.readable, console: result.console },
        model: { blocked: blocked.map((event) => ({ stage: event.stage, header: event.header, status: event.status, message: event.message })), hidden: hidden.map((event) => event.header), preflights: harness(events, 'cors:preflight').map((event) => `${event.method} ${event.status} ${event.ok ? 'ok' : 'refused'}`) },
      }
      console.log(JSON.stringify(verdicts, null, 2))

      // Chromium's outcome matches the expectation the Node model scenario checks.
      expect(result.run.connected).toBe(server.connects)
      if (server.connects) expect(result.run.sum).toBe('5')
      // Blocked: Chromium blocks exactly what the model blocks, with the model's words.
      expect(blocked.length > 0).toBe(result.console.length > 0)
      expect(blocked.length > 0).toBe(Boolean(server.blocked))
      for (const event of blocked) expect(result.console.some((text) => text.includes(String(event.message)))).toBe(true)
      if (server.blocked) {
        expect(blocked[0]).toMatchObject({ stage: server.blocked.stage, header: server.blocked.header })
        expect(result.console.join('\n')).toContain(server.blocked.messageIncludes)
      }
      // Hidden: the page could not read mcp-session-id exactly when the model says it is hidden.
      expect(hidden.map((event) => event.header).includes('mcp-session-id')).toBe(!result.probe.readable && result.probe.status === 200)
      if (server.hidden) expect(hidden.map((event) => event.header)).toContain(server.hidden)
      // Every preflight Chromium sent was judged; the reference server passed them all.
      expect(harness(events, 'cors:preflight').length).toBeGreaterThan(0)
    } finally {
      await tab.close()
      await emulator.dispose()
    }
  })
})
