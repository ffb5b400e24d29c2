// KI-18: transport endpoints conflict. The broken variant's first route is a catch-all Streamable HTTP
// handler, so /sse never reaches serveSSE; the reference server checks each path exactly.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

const VARIANTS = [
  { variant: 'broken: catch-all /mcp route first', config: 'server/variants/catch-all-mcp/wrangler.jsonc', broken: true },
  { variant: 'fixed: reference server', config: REFERENCE_CONFIG, broken: false },
] as const

describe.each(VARIANTS)('$variant', ({ config, broken }) => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config })
  })
  afterAll(() => emulator?.dispose())

  test(`KI-18: a legacy SSE client at /sse ${broken ? 'is refused by the Streamable HTTP handler' : 'connects and calls a tool'}`, async () => {
    const attempt = connectClient(emulator.url, { transport: 'sse' }).then(async (client) => {
      const text = await client.text('add', { a: 2, b: 3 })
      await client.close()
      return text
    })
    if (broken) await expect(attempt).rejects.toThrow(/Non-200 status code \(4\d\d\)/)
    else expect(await attempt).toBe('5')
  })

  test('KI-18: the Streamable HTTP client at /mcp works either way', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
    await client.close()
  })
})
