// KI-19: the local runtime differs from production. `wrangler dev` never hibernates an idle Durable
// Object, so state kept in an instance field (the reference server's `memo`) survives locally and is
// lost deployed; state kept in this.state (`counter`) survives both. Production's policy here is the
// emulator's idle eviction, scaled down to 100 ms.
import { expect, test } from 'vitest'
import { createEmulator, type EmulatorOptions } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

test.each<{ policy: string; hibernation: EmulatorOptions['hibernation']; memo: string }>([
  { policy: "wrangler dev's policy (never hibernates)", hibernation: 'off', memo: '2' },
  { policy: "production's policy (idle eviction, scaled)", hibernation: { idleMs: 100 }, memo: '1' },
])('KI-19: after an idle spell under $policy, the in-memory count reads $memo and the stored counter continues', async ({ hibernation, memo }) => {
  const emulator = await createEmulator({ config: REFERENCE_CONFIG, hibernation })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('memo')).toBe('1')
    expect(await client.text('counter')).toBe('1')
    if (hibernation === 'off') await new Promise((resolve) => setTimeout(resolve, 1_000))
    else await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'evicted' && e.name === client.objectName(), 10_000)
    expect(await client.text('memo')).toBe(memo)
    expect(await client.text('counter')).toBe('2')
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
