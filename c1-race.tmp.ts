import { createEmulator } from './emulator/index.ts'
import { hopTapFor } from './emulator/plugins/hop.ts'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
const emu = await createEmulator({ config: 'server/wrangler.jsonc', workerLog: 'silent', hop: { tap: process.env.TAP !== '0' } })
try {
  {
    const t = new StreamableHTTPClientTransport(new URL('/mcp', emu.url))
    const c = new Client({ name: 'x', version: '1' })
    await c.connect(t)
    for (let i = 0; i < Number(process.env.WARM ?? 200); i++) await c.callTool({ name: 'add', arguments: { a: 1, b: 2 } })
    await c.close()
  }
  for (let i = 0; i < 12; i++) {
    const t = new StreamableHTTPClientTransport(new URL('/mcp', emu.url))
    const c = new Client({ name: 'x', version: '1' })
    await c.connect(t)
    if (process.env.CALL) await c.callTool({ name: 'counter', arguments: {} })
    if (process.env.SETTLE) await new Promise((r) => setTimeout(r, Number(process.env.SETTLE)))
    const s = performance.now()
    const timer = setTimeout(() => { console.log('  still waiting at 3s', ''); for (const e of emu.transcript.events.filter((e) => e.name === 'streamable-http:' + t.sessionId)) console.log('   ', e.seq, e.t, e.type, e.conn ?? e.call ?? '', e.method ?? e.mcpMethod ?? '', e.direction ?? '', e.code ?? e.status ?? '', JSON.stringify(e.methods ?? '')) }, 3000)
    const r = await (process.env.MF === '1' ? emu.miniflare.unsafeEvictDurableObject(emu.worker.name, 'ReferenceMcp', { name: 'streamable-http:' + t.sessionId, webSockets: 'hibernate' }) : emu.evict({ session: 'streamable-http:' + t.sessionId })).then(() => 'ok', (e) => e.message)
    clearTimeout(timer)
    console.log(i, String(r).slice(-60), Math.round(performance.now() - s))
    if (r !== 'ok') { await c.callTool({ name: 'counter', arguments: {} }); const s2 = performance.now(); const r2 = await emu.evict({ session: 'streamable-http:' + t.sessionId }).then(() => 'ok', (e) => String(e.message).slice(-60)); console.log('   retry after a call:', r2, Math.round(performance.now() - s2)); await c.close(); await new Promise((r) => setTimeout(r, 300)); const r3 = await emu.evict({ session: 'streamable-http:' + t.sessionId }).then(() => 'ok', (e) => String(e.message).slice(-60)); console.log('   retry after closing the client (GET stream):', r3) }
    await c.close()
  }
} finally {
  await emu.dispose()
}
