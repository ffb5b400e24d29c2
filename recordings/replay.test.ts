import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, test } from 'vitest'
import { loadCassette } from './persist/fs.ts'
import { replay } from './replay.ts'

test('a server that never answers fails the replay, naming the first request left unanswered', async () => {
  const server = http.createServer(() => {
    // Never answers.
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  try {
    const cassette = await loadCassette('recordings/cassettes/sdk/streamable-http.json')
    const result = await replay(cassette, { target: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, waitMs: 200, throwOnMismatch: false })
    expect(result.ok).toBe(false)
    expect(result.mismatches[0]).toMatchObject({ interaction: 1, request: 'initialize (id 0)' })
    expect(result.mismatches.every((m) => m.where === 'connection' && m.difference.matcher === 'answered')).toBe(true)
    expect(result.report).toContain('failed matcher answered at (response) (recorded 200 ≠ received "no answer within 200 ms")')
  } finally {
    server.closeAllConnections()
    server.close()
  }
})
