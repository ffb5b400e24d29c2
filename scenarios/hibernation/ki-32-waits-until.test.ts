// KI-32: a Durable Object that never hibernates because a ctx.waitUntil() promise stays pending,
// reported with its cause and the object and code that called it.
import { expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const WAITS_UNTIL_CONFIG = 'server/variants/waits-until/wrangler.jsonc'

test('KI-32: a DO with a pending ctx.waitUntil() never hibernates, and the report says where it was called', async () => {
  const emulator = await createEmulator({ config: WAITS_UNTIL_CONFIG, hibernation: { idleMs: 100 }, diagnose: { hibernation: true } })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('memo')).toBe('1')
    const report = await emulator.transcript.waitFor(
      (e) =>
        e.layer === 'lifecycle' &&
        e.type === 'not-hibernated' &&
        e.name === client.objectName() &&
        JSON.stringify(e.blockers).includes('pending-waitUntil'),
      5_000,
    )
    const blockers = report.blockers as { cause: string; detail: string; scope: string }[]
    const wait = blockers.find((blocker) => blocker.cause === 'pending-waitUntil')
    // The call site names the class and method that left the promise pending.
    expect(wait?.detail).toMatch(/WaitsUntilMcp\.startBatch/)
    // The promise is attributed to this very object (its ctx), not just to the isolate.
    expect(wait?.detail).toContain(client.objectName())
    expect(wait?.scope).toBe('object')
    // Production would keep it in memory: the idle policy does not evict it, and its memory stays.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'evicted', name: client.objectName() })).toHaveLength(0)
    expect(await client.text('memo')).toBe('2')
    // The runtime agrees: workerd itself refuses to evict the object while the promise is pending.
    await expect(emulator.evict({ session: client.sessionId() })).rejects.toThrow(
      /ERR_EVICT_BLOCKED[\s\S]*active references[\s\S]*waitUntil\(\) promise pending/,
    )
    expect(await client.text('memo')).toBe('3')
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
