// KI-41, a fixed upstream bug caught again (cloudflare/agents#1050, fixed in agents 0.7.2): when an
// Agent's alarm is what wakes it from hibernation, Agent.alarm skipped PartyServer's initialization,
// so a scheduled callback that reads this.name throws and the scheduled work is lost. Only a
// hibernation between scheduling and the alarm shows it.
import { describe, expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const VARIANTS = [
  { version: 'agents 0.7.1 (affected)', config: 'scenarios/fixtures/alarm-wake/affected.jsonc', affected: true },
  { version: 'agents 0.7.2 (fixed)', config: 'scenarios/fixtures/alarm-wake/fixed.jsonc', affected: false },
] as const

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(VARIANTS)('$version', ({ config, affected }) => {
  test(`KI-41: a reminder scheduled before the object hibernated is ${affected ? 'lost when the alarm wakes it' : 'delivered when the alarm wakes it'}`, async () => {
    const emulator = await createEmulator({ config })
    try {
      const client = await connectClient(emulator.url, { transport: 'streamable-http' })
      // Control: without hibernation the alarm finds the object warm and delivers.
      expect(await client.text('remind', { note: 'warm', seconds: 1 })).toBe('scheduled in 1 s')
      await sleep(2_500)
      expect(JSON.parse(await client.text('deliveries'))).toEqual([`warm for ${client.objectName()}`])

      // Due in 3 to 4 s (Agent.schedule counts whole seconds): the eviction lands well before.
      expect(await client.text('remind', { note: 'cold', seconds: 4 })).toBe('scheduled in 4 s')
      await emulator.evict({ session: client.sessionId() })
      // Nothing touches the object until the alarm has fired: the alarm is what wakes it.
      await sleep(6_000)
      const deliveries = JSON.parse(await client.text('deliveries')) as string[]
      if (affected) expect(deliveries).toEqual([`warm for ${client.objectName()}`])
      else expect(deliveries).toEqual([`warm for ${client.objectName()}`, `cold for ${client.objectName()}`])
      if (affected) {
        const log = emulator.transcript.filter({ layer: 'harness', type: 'worker-log' }).map((e) => String(e.line)).join('\n')
        expect(log).toMatch(/Attempting to read \.name on ReminderMcp before it was set/)
      }
      await client.close()
    } finally {
      await emulator.dispose()
    }
  })
})
