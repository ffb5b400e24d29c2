// KI-10: McpAgent vs McpServer confusion. The broken variant gives McpAgent an McpServer from the v2
// package `@modelcontextprotocol/server`; the reference server uses the v1 McpServer McpAgent serves.
import { expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

test("KI-10: with the v2 McpServer inside McpAgent the client's initialize fails, and the Worker log names the McpAgent TypeError", async () => {
  const emulator = await createEmulator({ config: 'server/variants/sdk-v2-server/wrangler.jsonc' })
  try {
    const error = await connectClient(emulator.url, { transport: 'streamable-http' }).then(() => undefined, (e: Error) => e)
    // What the client reports: the initialize POST fails (the Worker throws: production's 1101, or the
    // Durable Object's TypeError where it is passed through).
    expect(error?.message).toMatch(/Error POSTing to endpoint: (error code: 1101|TypeError: McpAgent uses MCP SDK v1)/)
    const logged = emulator.transcript.filter({ layer: 'harness', type: 'worker-log' }).map((e) => String(e.line)).join('\n')
    expect(logged).toMatch(/cannot serve McpServer from \\?"@modelcontextprotocol\/server\\?"/)
  } finally {
    await emulator.dispose()
  }
})

test('KI-10: with the v1 McpServer (reference server) the same client initializes and lists tools', async () => {
  const emulator = await createEmulator({ config: REFERENCE_CONFIG })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    expect((await client.client.listTools()).tools.length).toBeGreaterThan(0)
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
