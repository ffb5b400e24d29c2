// KI-37: McpAgent's legacy message route (agents 0.32) throws on malformed JSON: production answers
// 500 "error code: 1101" (the emulator too; wrangler dev shows the stack). The fixed variant parses
// the body in the Worker first (400, -32700).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { initializeRequest, notification, openRawSseSession, rpc } from '../helpers/raw.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

const VARIANTS = [
  { variant: 'broken: reference server as shipped', config: REFERENCE_CONFIG, broken: true },
  { variant: 'fixed: body parsed in the Worker', config: 'server/variants/validated-sse-message/wrangler.jsonc', broken: false },
] as const

describe.each(VARIANTS)('$variant', ({ config, broken }) => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config })
  })
  afterAll(() => emulator?.dispose())

  test(`KI-37: malformed JSON on /sse/message ${broken ? 'throws: 500 "error code: 1101", the SyntaxError only in the log' : 'answers 400 with -32700 and no stack'}, and the session keeps working`, async () => {
    const sse = await openRawSseSession(emulator.url)
    expect((await sse.post(initializeRequest(0))).status).toBe(202)
    await sse.next((message) => message.id === 0)
    await sse.post(notification('notifications/initialized'))

    const reply = await sse.post('{"jsonrpc":"2.0","id":2,')
    if (broken) {
      expect(reply.status).toBe(500)
      expect(reply.text).toBe('error code: 1101')
      // The cause is the Worker's uncaught SyntaxError, in its log and the transcript.
      const thrown = await emulator.transcript.waitFor((event) => event.layer === 'harness' && event.type === 'uncaught-exception', 2_000)
      expect(thrown.name).toBe('SyntaxError')
    } else {
      expect(reply.status).toBe(400)
      expect(JSON.parse(reply.text)).toMatchObject({ error: { code: -32700 } })
      expect(reply.text).not.toMatch(/\n\s+at /)
    }
    await sse.post(rpc(3, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }))
    expect(await sse.next((message) => message.id === 3)).toMatchObject({ result: { content: [{ text: '5' }] } })
    sse.close()
  })
})
