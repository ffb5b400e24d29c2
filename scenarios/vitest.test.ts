import { describe, expect, test } from 'vitest'
import { isHarnessError } from '../emulator/index.ts'
import { REFERENCE_CONFIG } from './helpers/use-emulator.ts'
import { useEmulator } from './vitest.ts'

const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'vitest-helper', version: '1.0.0' } } }

describe('scope "file"', () => {
  const emulator = useEmulator({ config: REFERENCE_CONFIG })
  let early: unknown
  try {
    void emulator.url
  } catch (error) {
    early = error
  }

  test('reading the emulator before its hook ran says where to use it', () => {
    expect(String(early)).toMatch(/inside a test or hook/)
  })

  test('serves the Worker inside the tests of the file', async () => {
    expect((await emulator.fetch('/health')).status).toBe(200)
  })
})

let firstUrl: string | undefined

describe('scope "worker", first file', () => {
  const emulator = useEmulator({ config: REFERENCE_CONFIG, scope: 'worker' })

  test('opens a session', async () => {
    firstUrl = emulator.url.href
    const response = await emulator.fetch('/mcp', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(INITIALIZE) })
    await response.text()
    expect(response.headers.get('mcp-session-id')).toBeTruthy()
    expect(emulator.transcript.events.length).toBeGreaterThan(0)
  })
})

describe('scope "worker", next file with the same options', () => {
  const emulator = useEmulator({ config: REFERENCE_CONFIG, scope: 'worker' })

  test('reuses the emulator with its storage, faults and transcript wiped', () => {
    expect(emulator.url.href).toBe(firstUrl)
    expect(emulator.transcript.filter({ layer: 'client' })).toEqual([])
    expect(emulator.errors).toEqual([])
  })
})

test('an unknown scope is a clear options error', () => {
  let error: unknown
  try {
    useEmulator({ scope: 'suite' as 'file' })
  } catch (caught) {
    error = caught
  }
  expect(isHarnessError(error, 'ERR_OPTIONS')).toBe(true)
  expect(String(error)).toMatch(/scope/)
})
