// KI-04: path matching. The broken variant compares `pathname === "/sse"`, so the legacy message route
// /sse/message is never routed; the reference server routes `/sse` and everything under `/sse/`.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

const VARIANTS = [
  { variant: 'broken: exact /sse match', config: 'server/variants/exact-sse-path/wrangler.jsonc', broken: true },
  { variant: 'fixed: reference server', config: REFERENCE_CONFIG, broken: false },
] as const

describe.each(VARIANTS)('$variant', ({ config, broken }) => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config })
  })
  afterAll(() => emulator?.dispose())

  test(`KI-04: a legacy SSE client ${broken ? 'opens /sse, then its initialize to /sse/message gets 404' : 'connects and calls a tool'}`, async () => {
    const attempt = connectClient(emulator.url, { transport: 'sse' }).then(async (client) => {
      const text = await client.text('add', { a: 2, b: 3 })
      await client.close()
      return text
    })
    if (broken) {
      await expect(attempt).rejects.toThrow(/HTTP 404/)
    } else {
      expect(await attempt).toBe('5')
    }
  })

  test('KI-04: the Streamable HTTP client at /mcp works either way', async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
    await client.close()
  })
})
