import { describe, expect, test } from 'vitest'
import { createEmulator, type TranscriptEvent } from '../../emulator/index.ts'
import { probeSessionHeader, runMcp } from '../browser/page/run-mcp.ts'
import { CORS_CASES, PAGE_ORIGIN } from './servers.ts'

// The CORS model acting as the browser (`cors: { enforce: true }`) for the Node SDK client: it sends
// the preflight, drops refused requests as a network error and hides unexposed headers. The browser
// lane (scenarios/browser) checks the same expectations in Chromium.
const harness = (events: readonly TranscriptEvent[], type: string) => events.filter((event) => event.layer === 'harness' && event.type === type)

describe.each(CORS_CASES)('CORS model, enforced: $name', (server) => {
  test(`${server.name}: the page's SDK client ${server.connects ? 'connects and calls add' : 'fails'} and the transcript names the header`, async () => {
    const emulator = await createEmulator({ config: server.config, cors: { enforce: true } })
    try {
      const url = new URL('/mcp', emulator.url).href
      const run = await runMcp(url, { origin: PAGE_ORIGIN })
      const probe = await probeSessionHeader(url, { origin: PAGE_ORIGIN })
      const events = emulator.transcript.events
      const blocked = harness(events, 'cors:blocked')
      const hidden = harness(events, 'cors:header-hidden')
      expect(run.connected).toBe(server.connects)
      if (server.connects) {
        expect(run.sum).toBe('5')
        expect(run.tools).toContain('add')
        expect(probe.readable).toBe(true)
        expect(blocked).toEqual([])
        expect(hidden).toEqual([])
        // initialize, tools/list and tools/call each needed a preflight (JSON content type, MCP headers).
        expect(harness(events, 'cors:preflight').filter((event) => event.ok === true).length).toBeGreaterThanOrEqual(3)
      }
      if (server.blocked) {
        // A refused request fails like a browser's fetch: a network error, before the handshake completes.
        expect(run.steps).toEqual([])
        expect(run.error).toMatch(/fetch failed/)
        expect(blocked[0]).toMatchObject({ stage: server.blocked.stage, header: server.blocked.header })
        expect(String(blocked[0]?.message)).toContain(server.blocked.messageIncludes)
        if (server.blocked.stage === 'preflight') {
          // A refused preflight means the Worker never sees the request itself.
          expect(probe.error).toBeDefined()
          const reachedWorker = events.filter((event) => event.layer === 'client' && event.type === 'response' && event.exchange === blocked[0]?.exchange)
          expect(reachedWorker).toEqual([])
        }
      } else {
        expect(blocked).toEqual([])
      }
      if (server.hidden) {
        expect(hidden.map((event) => event.header)).toContain(server.hidden)
        expect(probe).toMatchObject({ status: 200, readable: false })
        // The client never learned its session id, so the request after initialize was refused (400).
        expect(run.sessionId).toBeNull()
        expect(blocked[0]?.status).toBe(400)
      }
    } finally {
      await emulator.dispose()
    }
  })
})

test('KI-07: observes without enforcing when the client sends an Origin but enforcement is off', async () => {
  const emulator = await createEmulator({ config: 'server/variants/no-options/wrangler.jsonc' })
  try {
    // A Node client is not a browser: with enforcement off it gets through, and the verdict is still recorded.
    const url = new URL('/mcp', emulator.url).href
    const preflight = await emulator.fetch('/mcp', { method: 'OPTIONS', headers: { origin: PAGE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
    expect(preflight.status).toBe(405)
    const run = await runMcp(url, { origin: PAGE_ORIGIN })
    expect(run.connected).toBe(true)
    const blocked = harness(emulator.transcript.events, 'cors:blocked')
    expect(blocked).toHaveLength(1)
    expect(blocked[0]).toMatchObject({ stage: 'preflight', reason: 'missing-allow-origin', header: 'access-control-allow-origin' })
  } finally {
    await emulator.dispose()
  }
})
