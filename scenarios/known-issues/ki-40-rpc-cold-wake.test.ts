// KI-40, a fixed upstream bug caught again (cloudflare/agents#1282, fixed by #1286 in agents 0.10.1):
// an McpAgent served over the RPC transport crashes on its first message after hibernation, because
// handleMcpMessage is a native RPC entry point that skipped the name hydration. Only an eviction
// between two calls of a host that keeps its stub shows it.
import { describe, expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'

const VARIANTS = [
  { version: 'agents 0.10.0 (affected)', config: 'scenarios/fixtures/rpc-cold-wake/affected.jsonc', affected: true },
  { version: 'agents 0.10.1 (fixed)', config: 'scenarios/fixtures/rpc-cold-wake/fixed.jsonc', affected: false },
] as const

async function call(emulator: { fetch(path: string): Promise<Response> }, a: number, b: number) {
  const response = await emulator.fetch(`/call?a=${a}&b=${b}`)
  return (await response.json()) as { ok: boolean; text?: string; error?: string }
}

describe.each(VARIANTS)('$version', ({ config, affected }) => {
  test(`KI-40: a tool call over the RPC transport after the MCP Durable Object hibernated ${affected ? 'fails with "Attempting to read .name"' : 'succeeds'}`, async () => {
    const emulator = await createEmulator({ config })
    try {
      expect(await call(emulator, 2, 3)).toEqual({ ok: true, text: '5' })
      expect(await call(emulator, 4, 5)).toEqual({ ok: true, text: '9' })
      // The MCP object is reached from another Durable Object (not the Worker's handler), so it is named by class.
      await emulator.evict({ object: { className: 'CounterMcp', name: 'rpc:counter' } })
      const after = await call(emulator, 6, 7)
      if (affected) {
        expect(after.ok).toBe(false)
        expect(after.error).toMatch(/Attempting to read \.name on CounterMcp before it was set/)
      } else {
        expect(after).toEqual({ ok: true, text: '13' })
      }
    } finally {
      await emulator.dispose()
    }
  })
})
