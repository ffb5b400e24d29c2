/**
 * Issue 13 item 7: reports open in a real Chromium (playwright-core) from disk: one element per event,
 * the six lanes, mismatches highlighted, no console errors. Screenshots go to test-results/report/
 * (git-ignored; CI keeps them as artifacts).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { browserLane, launchChromium, type Browser } from '../browser/chromium.ts'
import { committedCassettes } from '../../recordings/committed.ts'
import { createMockServer } from '../../recordings/mock.ts'
import { replay } from '../../recordings/replay.ts'
import type { Cassette } from '../../recordings/format/schema.ts'
import { createEmulator } from '../../emulator/index.ts'
import { LANES, renderReport } from '../../report/index.ts'
import { countCassetteEvents } from './count.ts'

const lane = browserLane()
if (!lane.run) console.warn(`[mcp-harness] ${lane.reason}`)
const OUT = path.resolve('test-results', 'report')
const load = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Cassette

/** Writes the report, opens it from disk and collects console errors and page errors. */
async function open(browser: Browser, name: string, input: unknown): Promise<{ page: Page; errors: string[] }> {
  mkdirSync(OUT, { recursive: true })
  const file = path.join(OUT, `${name}.html`)
  writeFileSync(file, renderReport(input))
  const page = await browser.context.newPage()
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(String(error)))
  page.on('dialog', (dialog) => {
    errors.push(`dialog: ${dialog.message()}`)
    void dialog.dismiss()
  })
  await page.setViewportSize({ width: 1400, height: 900 })
  await page.goto(pathToFileURL(file).href)
  return { page, errors }
}

describe.skipIf(!lane.run)('reports in Chromium (issue 13, item 7)', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium((lane as { executable: string }).executable)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
  })

  test.each(committedCassettes())('the report of %s draws one element per cassette event on six lanes, without console errors', async (file) => {
    const cassette = load(file)
    const name = file.replace(/^recordings\/cassettes\//, '').replace(/\.json$/, '').replace(/\//g, '-')
    const { page, errors } = await open(browser, name, cassette)
    try {
      expect(await page.locator('.ev[data-seq][data-layer]').count()).toBe(countCassetteEvents(cassette))
      expect(await page.locator('.lanes .lane').evaluateAll((els) => els.map((el) => el.getAttribute('data-lane')))).toEqual([...LANES])
      // Clicking an arrow shows its headers and body.
      await page.locator('.ev[data-layer="client"][data-type="request"]').first().click()
      await expect.poll(() => page.locator('#detail').isVisible()).toBe(true)
      expect(await page.locator('#detail-body').textContent()).toContain('"headers"')
      await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false })
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })

  test('KI-11: the hibernation cassette shows its eviction on the Durable Object lane, and the layer filter hides the client layer', async () => {
    const { page, errors } = await open(browser, 'filter-hibernation', load('recordings/cassettes/sdk/hibernation.json'))
    try {
      await expect.poll(() => page.locator('.ev.k-eviction[data-layer="lifecycle"]').count()).toBe(1)
      const total = await page.locator('.ev:visible').count()
      await page.locator('input[name=layer][value=client]').uncheck()
      expect(await page.locator('.ev:visible').count()).toBe(1)
      await page.locator('input[name=layer][value=client]').check()
      expect(await page.locator('.ev:visible').count()).toBe(total)
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })

  test('a replay mismatch is highlighted with the recorded and the received value side by side', async () => {
    // A real replay of a committed cassette against a mock whose answer to `add` was changed.
    const cassette = load('recordings/cassettes/sdk/streamable-http.json')
    const changed = structuredClone(cassette)
    const answer = changed.interactions.find((i) => (i.request.body as { params?: { name?: string } })?.params?.name === 'add')!.response!.sse![0]!
    ;(answer.data as { result: { content: { text: string }[] } }).result.content[0]!.text = '6'
    const mock = await createMockServer(changed)
    const result = await replay(cassette, { target: mock.url, throwOnMismatch: false, waitMs: 5_000 }).finally(() => mock.close())
    expect(result.mismatches.length).toBeGreaterThan(0)
    const { page, errors } = await open(browser, 'replay-mismatch', { cassette, mismatches: result.mismatches })
    try {
      const highlighted = page.locator('.ev.k-mismatch')
      expect(await highlighted.count()).toBe(result.mismatches.length)
      const pair = page.locator('.pair').first()
      expect(await pair.isVisible()).toBe(true)
      expect(await pair.locator('pre.recorded').textContent()).toContain('5')
      expect(await pair.locator('pre.received').textContent()).toContain('6')
      expect(await highlighted.first().evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe('rgba(0, 0, 0, 0)')
      await pair.scrollIntoViewIfNeeded()
      await page.screenshot({ path: path.join(OUT, 'replay-mismatch.png') })
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  }, 60_000)

  test('the transcript of a live emulator session (calls, an eviction, a wake) draws one element per transcript event', async () => {
    const emulator = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent' })
    try {
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', emulator.url))
      const client = new Client({ name: 'report-test', version: '0.1.0' })
      await client.connect(transport)
      await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
      await emulator.evict({ session: transport.sessionId! })
      await client.callTool({ name: 'counter', arguments: {} })
      await transport.terminateSession()
      await client.close()
      await new Promise((resolve) => setTimeout(resolve, 300))
      // The hop tap's last reports are pulled now, not on its timer while the page draws.
      await emulator.settled()
      const events = emulator.transcript.events
      expect(events.some((e) => e.layer === 'hop')).toBe(true)
      const { page, errors } = await open(browser, 'live-transcript', events)
      try {
        expect(await page.locator('.ev[data-seq][data-layer]').count()).toBe(events.length)
        expect(await page.locator('.ev.k-eviction').count()).toBeGreaterThan(0)
        expect(await page.locator('.ev[data-layer="hop"]').count()).toBe(events.filter((e) => e.layer === 'hop').length)
        await page.screenshot({ path: path.join(OUT, 'live-transcript.png') })
        expect(errors).toEqual([])
      } finally {
        await page.close()
      }
    } finally {
      await emulator.dispose()
    }
  }, 180_000)

  test('serve --ui: the live view on the control plane shows new events as they happen, one element per transcript event', async () => {
    // The real command, as a person runs it; its ready line names the live view.
    const child = spawn(process.execPath, ['cli/cli.ts', 'serve', '--config', 'server/wrangler.jsonc', '--port', '0', '--json', '--ui'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderrText = ''
    child.stderr.on('data', (chunk) => (stderrText += chunk))
    const stopped = new Promise((resolve) => child.once('exit', resolve))
    const page = await browser.context.newPage()
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    page.on('pageerror', (error) => errors.push(String(error)))
    try {
      const ready = await new Promise<{ mcp: string; ui: string; control: { url: string; token: string } }>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (chunk) => {
          out += chunk
          if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!))
        })
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderrText}`)))
      })
      const control = (route: string, init: RequestInit = {}) => fetch(new URL(route, ready.control.url), { ...init, headers: { authorization: `Bearer ${ready.control.token}`, 'content-type': 'application/json' } }).then((r) => r.json())
      expect(ready.ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ui\?token=/)
      expect((await fetch(new URL('/ui?token=wrong', ready.ui))).status).toBe(401)
      await page.setViewportSize({ width: 1400, height: 900 })
      await page.goto(ready.ui)
      const before = await page.locator('.ev').count()
      const transport = new StreamableHTTPClientTransport(new URL(ready.mcp))
      const client = new Client({ name: 'live-view-test', version: '0.1.0' })
      await client.connect(transport)
      await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
      await control('evict', { method: 'POST', body: JSON.stringify({ session: transport.sessionId, transport: 'streamable-http' }) })
      await client.callTool({ name: 'counter', arguments: {} })
      await transport.terminateSession()
      await client.close()
      await new Promise((resolve) => setTimeout(resolve, 300))
      const transcript = (await control('transcript')) as { events: { seq: number; layer: string }[] }
      const total = transcript.events.length
      expect(total).toBeGreaterThan(before)
      await expect.poll(() => page.locator('.ev[data-seq][data-layer]').count(), { timeout: 15_000 }).toBe(total)
      expect(await page.locator('.ev.k-eviction').count()).toBeGreaterThan(0)
      // The rows arrived in transcript order, each once.
      const seqs = await page.locator('.ev').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))))
      expect(seqs).toEqual(transcript.events.map((e) => e.seq))
      await page.locator('.ev.k-eviction').first().click()
      expect(await page.locator('#detail-body').textContent()).toContain('evicted')
      mkdirSync(OUT, { recursive: true })
      await page.screenshot({ path: path.join(OUT, 'live-ui.png') })
      expect(errors).toEqual([])
    } finally {
      await page.close()
      child.kill('SIGTERM')
      await stopped
    }
  }, 180_000)
})
