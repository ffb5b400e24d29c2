// KI-31: a compressed event stream used to be buffered locally (the first event arrived only with the
// end). Measured on workerd 1.20261117, the runtime of wrangler 4.164: it is flushed per write now.
// The fixture sends one event, pauses 1.5 s, sends a second and ends. This pins what the runtime does
// today (the first event arrives before the second was even written), so a runtime that buffers again
// is noticed; the catalogue marks KI-31 as not reproducible on this runtime.
import { afterAll, beforeAll, expect, test } from 'vitest'
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

test('KI-31: through the emulator front door a gzip-encoded stream delivers its first event before the pause ends (no longer buffered)', async () => {
  const { firstEventMs, endMs, text } = await timeline(emulator.url, '/gzip')
  expect(text).toContain('"step":2')
  expect(endMs - firstEventMs).toBeGreaterThanOrEqual(PAUSE_MS - 300)
})

test('KI-31: without Content-Encoding (the fix) the first event arrives before the pause ends', async () => {
  const { firstEventMs, endMs, text } = await timeline(emulator.url, '/plain')
  expect(text).toContain('"step":2')
  expect(endMs - firstEventMs).toBeGreaterThanOrEqual(PAUSE_MS - 300)
})
