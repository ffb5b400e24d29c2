// KI-32: a Durable Object that never hibernates because it accepted a WebSocket with ws.accept()
// instead of ctx.acceptWebSocket(), reported with its cause; closing the socket lifts it.
import { expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const PLAIN_WEBSOCKET_CONFIG = 'server/variants/plain-websocket/wrangler.jsonc'

test('KI-32: a DO holding a WebSocket accepted with accept() never hibernates until the socket closes', async () => {
  const emulator = await createEmulator({ config: PLAIN_WEBSOCKET_CONFIG, hibernation: { idleMs: 100 }, diagnose: { hibernation: true } })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('memo')).toBe('1')
    // A viewer opens the session's live feed (the front door does not relay upgrades: go to the runtime).
    const feedUrl = new URL(`/feed?session=${client.sessionId()}`, emulator.url)
    const upgrade = await emulator.miniflare.dispatchFetch(feedUrl, { headers: { Upgrade: 'websocket' } })
    const feed = upgrade.webSocket
    if (!feed) throw new Error(`the feed upgrade answered ${upgrade.status}: ${await upgrade.text()}`)
    feed.accept()
    const echoed = new Promise<string>((resolve) => feed.addEventListener('message', (event) => resolve(String(event.data))))
    feed.send('hello')
    expect(await echoed).toBe('feed: hello')

    const report = await emulator.transcript.waitFor(
      (e) =>
        e.layer === 'lifecycle' &&
        e.type === 'not-hibernated' &&
        e.name === client.objectName() &&
        JSON.stringify(e.blockers).includes('plain-websocket'),
      5_000,
    )
    const blockers = report.blockers as { cause: string; detail: string; scope: string }[]
    const socket = blockers.find((blocker) => blocker.cause === 'plain-websocket')
    // The accept() site names the class that used the non-hibernatable API.
    expect(socket?.detail).toMatch(/PlainWebSocketMcp\.fetch/)
    expect(socket?.scope).toBe('isolate')
    expect(emulator.transcript.filter({ layer: 'lifecycle', type: 'evicted', name: client.objectName() })).toHaveLength(0)
    // The runtime agrees: workerd refuses to evict the object while the socket is open.
    await expect(emulator.evict({ session: client.sessionId() })).rejects.toThrow(
      /ERR_EVICT_BLOCKED[\s\S]*active references[\s\S]*accept\(\) instead of ctx\.acceptWebSocket\(\)/,
    )
    expect(await client.text('memo')).toBe('2')

    // Once the viewer leaves, nothing pins the object: the idle policy evicts it and memo resets.
    const closed = emulator.transcript.waitFor(
      (e) => e.layer === 'lifecycle' && e.type === 'evicted' && e.name === client.objectName(),
      5_000,
    )
    feed.close(1000, 'bye')
    await closed
    expect(await client.text('memo')).toBe('1')
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
