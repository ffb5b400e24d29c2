// KI-42, a fixed upstream bug caught again (cloudflare/agents#1052, fixed in agents 0.7.2):
// scheduleEvery() called where it belongs, at start, added one more interval schedule at every wake
// from hibernation, until each tick ran many times. Only evictions between calls show it.
import { describe, expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const VARIANTS = [
  { version: 'agents 0.7.1 (affected)', config: 'scenarios/fixtures/schedule-every-wake/affected.jsonc', affected: true },
  { version: 'agents 0.7.2 (fixed)', config: 'scenarios/fixtures/schedule-every-wake/fixed.jsonc', affected: false },
] as const

describe.each(VARIANTS)('$version', ({ config, affected }) => {
  test(`KI-42: after two wakes from hibernation the heartbeat is scheduled ${affected ? 'three times' : 'once'}`, async () => {
    const emulator = await createEmulator({ config })
    try {
      const client = await connectClient(emulator.url, { transport: 'streamable-http' })
      expect(await client.text('heartbeats')).toBe('1')
      // Without hibernation, more calls start nothing new.
      expect(await client.text('heartbeats')).toBe('1')
      for (const wake of [2, 3]) {
        await emulator.evict({ session: client.sessionId() })
        expect(await client.text('heartbeats')).toBe(affected ? String(wake) : '1')
      }
      await client.close()
    } finally {
      await emulator.dispose()
    }
  })
})
