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
    // A viewer opens the session's live feed, straight at the runtime.
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
    // Evictions before the feed opened are the idle policy doing its job (the memo call and the feed's
    // upgrade are separate requests; on a loaded machine more than idleMs can pass between them):
    // from the report on, the open socket must keep the object in memory.
    const from = report.seq
    const blockers = report.blockers as { cause: string; detail: string; scope: string }[]
    const socket = blockers.find((blocker) => blocker.cause === 'plain-websocket')
    // The accept() site names the class that used the non-hibernatable API.
    expect(socket?.detail).toMatch(/PlainWebSocketMcp\.fetch/)
    expect(socket?.scope).toBe('isolate')
    const evictedSince = () => emulator.transcript.since(from).filter((e) => e.layer === 'lifecycle' && e.type === 'evicted' && e.name === client.objectName())
    expect(evictedSince()).toHaveLength(0)
    const memo = Number(await client.text('memo'))
    // The runtime agrees: workerd refuses to evict the object while the socket is open.
    await expect(emulator.evict({ session: client.sessionId() })).rejects.toThrow(
      /ERR_EVICT_BLOCKED[\s\S]*active references[\s\S]*accept\(\) instead of ctx\.acceptWebSocket\(\)/,
    )
    // The same instance still answers: the refused eviction lost nothing.
    expect(await client.text('memo')).toBe(String(memo + 1))
    expect(evictedSince()).toHaveLength(0)

    // Once the viewer leaves, nothing pins the object: the idle policy evicts it and memo resets.
    const closing = emulator.transcript.nextSeq
    const closed = emulator.transcript.waitFor(
      (e) => e.seq >= closing && e.layer === 'lifecycle' && e.type === 'evicted' && e.name === client.objectName(),
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
