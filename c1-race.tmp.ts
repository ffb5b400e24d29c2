import { createEmulator } from './emulator/index.ts'
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
    const s = performance.now()
    const timer = setTimeout(() => { console.log('  still waiting at 3s', JSON.stringify(emu.sessions().find(x => x.id === t.sessionId))); for (const e of emu.transcript.events.filter((e) => e.name === 'streamable-http:' + t.sessionId)) console.log('   ', e.seq, e.t, e.type, e.conn ?? e.call ?? '', e.method ?? e.mcpMethod ?? '', e.direction ?? '', e.code ?? e.status ?? '', JSON.stringify(e.methods ?? '')) }, 3000)
    const r = await emu.evict({ session: t.sessionId }).then(() => 'ok', (e) => e.message)
    clearTimeout(timer)
    console.log(i, r, Math.round(performance.now() - s))
    await c.close()
  }
} finally {
  await emu.dispose()
}
