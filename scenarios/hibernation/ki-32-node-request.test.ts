// KI-32: when workerd refuses to evict a DO and nothing the harness sees explains it (here a
// WebSocket opened from Node through a stub, past the Worker and its hop tap), the report says the
// cause is inferred, not observed.
import { expect, test } from 'vitest'
import { createEmulator, type HibernationBlocker } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const PLAIN_WEBSOCKET_CONFIG = 'server/variants/plain-websocket/wrangler.jsonc'

test('KI-32: an eviction blocked by a Node request through a stub reports an inferred cause', async () => {
  // With the hop tap on, the binding is wrapped and Node cannot take a stub by its name.
  const emulator = await createEmulator({ config: PLAIN_WEBSOCKET_CONFIG, hop: { tap: false } })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('memo')).toBe('1')
    const namespace = await emulator.miniflare.getDurableObjectNamespace('MCP_OBJECT')
    const stub = namespace.get(namespace.idFromName(client.objectName()))
    const upgrade = await stub.fetch('http://do/feed', { headers: { Upgrade: 'websocket' } })
    const feed = upgrade.webSocket
    if (!feed) throw new Error(`the feed upgrade answered ${upgrade.status}`)
    feed.accept()

    const refused = await emulator.evict({ session: client.objectName() }).then(
      () => undefined,
      (error: Error) => error,
    )
    expect(refused?.message).toMatch(/ERR_EVICT_BLOCKED[\s\S]*active references[\s\S]*request from Node through a stub/)
    const report = emulator.transcript.filter({ layer: 'lifecycle', type: 'not-hibernated', name: client.objectName() }).at(-1)
    const blockers = report?.blockers as HibernationBlocker[]
    expect(blockers.find((b) => b.cause === 'active-reference')?.scope).toBe('observed')
    expect(blockers.find((b) => b.cause === 'node-request')?.scope).toBe('inferred')
    expect(await client.text('memo')).toBe('2')

    feed.close(1000, 'bye')
    await new Promise((resolve) => setTimeout(resolve, 100))
    await emulator.evict({ session: client.objectName() })
    expect(await client.text('memo')).toBe('1')
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
