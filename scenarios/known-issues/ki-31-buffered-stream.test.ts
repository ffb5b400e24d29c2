// KI-31: a compressed event stream is buffered locally. The fixture sends one event, pauses 1.5 s,
// sends a second and ends; with Content-Encoding: gzip the first event only arrives with the end.
// Only lower bounds on time are asserted (the machine may be slow, never fast).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'

const CONFIG = 'scenarios/fixtures/compressed-stream/wrangler.jsonc'
const PAUSE_MS = 1_500

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: CONFIG })
})
afterAll(() => emulator?.dispose())

/** Reads the stream; returns when the first event arrived and when the stream ended (ms from the request). */
async function timeline(base: URL | string, path: string) {
  const started = performance.now()
  const response = await fetch(new URL(path, base), { headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip' } })
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  let firstEventMs: number | undefined
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    text += value
    if (firstEventMs === undefined && text.includes('"step":1')) firstEventMs = performance.now() - started
  }
  return { firstEventMs: firstEventMs ?? Infinity, endMs: performance.now() - started, text, encoding: response.headers.get('content-encoding') }
}

describe.each([
  { where: "workerd's own socket (wrangler dev)", base: () => emulator.miniflare.ready },
  { where: 'the emulator front door', base: async () => emulator.url },
])('$where', ({ base }) => {
  test('KI-31: with Content-Encoding: gzip the first event arrives only when the stream ends', async () => {
    const { firstEventMs, text } = await timeline(await base(), '/gzip')
    expect(text).toContain('"step":2')
    expect(firstEventMs).toBeGreaterThanOrEqual(PAUSE_MS - 100)
  })

  test('KI-31: without it (the fix) the first event arrives before the pause ends', async () => {
    const { firstEventMs, endMs, text } = await timeline(await base(), '/plain')
    expect(text).toContain('"step":2')
    expect(endMs - firstEventMs).toBeGreaterThanOrEqual(PAUSE_MS - 300)
  })
})
