import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from './index.ts'
import { REFERENCE_CONFIG } from '../scenarios/helpers/use-emulator.ts'

describe('createEmulator', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: REFERENCE_CONFIG })
  })
  afterAll(() => emulator?.dispose())

  test('serves the Worker on 127.0.0.1 and records the exchange', async () => {
    expect(emulator.url.hostname).toBe('127.0.0.1')
    const response = await emulator.fetch('/health')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ transports: { mcp: '/mcp', sse: '/sse' } })
    const events = emulator.transcript.filter({ layer: 'client' }).filter((e) => e.path === '/health' || e.type !== 'request')
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['request', 'response', 'body', 'end']))
  })
})
