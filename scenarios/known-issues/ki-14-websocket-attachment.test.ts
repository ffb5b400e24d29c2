// KI-14: per-connection metadata kept in memory is lost when the object hibernates with the socket
// open; the attachment (serializeAttachment) travels with the socket. Variant: a chat room WebSocket
// on the session's Durable Object, `keep=memory` (broken) or `keep=attachment` (fixed).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const CONFIG = 'server/variants/ws-attachment/wrangler.jsonc'

let emulator: Emulator
beforeAll(async () => {
  emulator = await createEmulator({ config: CONFIG })
})
afterAll(() => emulator?.dispose())

describe.each([
  { keep: 'memory', broken: true },
  { keep: 'attachment', broken: false },
] as const)('keep=$keep', ({ keep, broken }) => {
  test(`KI-14: after hibernation with the socket open the room ${broken ? 'no longer knows who is talking' : 'still knows who is talking'} (keep=${keep})`, async () => {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect(await client.text('add', { a: 1, b: 1 })).toBe('2')
    const url = new URL(`/room?session=${client.sessionId()}&name=ada&keep=${keep}`, emulator.url)
    const upgrade = await emulator.miniflare.dispatchFetch(url, { headers: { Upgrade: 'websocket' } })
    const socket = upgrade.webSocket
    if (!socket) throw new Error(`the room upgrade answered ${upgrade.status}: ${await upgrade.text()}`)
    socket.accept()
    const replies: string[] = []
    const next = () => new Promise<string>((resolve) => socket.addEventListener('message', (event) => resolve(String(event.data)), { once: true }))

    let reply = next()
    socket.send('hello')
    replies.push(await reply)

    // Hibernation keeps the socket open (it was accepted with ctx.acceptWebSocket) and drops the instance.
    await emulator.evict({ session: client.sessionId(), webSockets: 'hibernate' })
    reply = next()
    socket.send('still here')
    replies.push(await reply)

    expect(replies).toEqual(['ada: hello', broken ? 'unknown connection: still here' : 'ada: still here'])
    socket.close()
    await client.close()
  })
})
