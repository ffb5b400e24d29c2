// KI-32: a Durable Object that never hibernates because a timer stays pending, reported with its cause.
import { expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const NEVER_HIBERNATES_CONFIG = 'server/variants/never-hibernates/wrangler.jsonc'

test('KI-32: the emulator reports that a DO with a pending setInterval never hibernates, and why', async () => {
  const emulator = await createEmulator({ config: NEVER_HIBERNATES_CONFIG, hibernation: { idleMs: 100 }, diagnose: { hibernation: true } })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('memo')).toBe('1')
    const report = await emulator.transcript.waitFor((e) => e.layer === 'lifecycle' && e.type === 'not-hibernated' && e.name === client.objectName(), 5_000)
    const blockers = report.blockers as { cause: string; detail: string; scope: string }[]
    const timer = blockers.find((blocker) => blocker.cause === 'pending-timer')
    expect(timer?.detail).toMatch(/setInterval\(5000 ms\)/)
    // The creation site names the class that leaks the timer.
    expect(timer?.detail).toMatch(/NeverHibernatesMcp/)
    // The timer is seen in the isolate, not attributed to this one object: the report says so.
    expect(timer?.scope).toBe('isolate')
    // Production would keep it in memory: the idle policy does not evict it, and its memory stays.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'evicted', name: client.objectName() })).toHaveLength(0)
    expect(emulator.sessions().find((s) => s.name === client.objectName())?.state).toBe('active')
    expect(await client.text('memo')).toBe('2')
    // The runtime agrees: workerd itself refuses to evict the object while its interval is pending.
    await expect(emulator.evict({ session: client.sessionId() })).rejects.toThrow(/ERR_EVICT_BLOCKED[\s\S]*active references[\s\S]*setInterval/)
    expect(await client.text('memo')).toBe('3')
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
