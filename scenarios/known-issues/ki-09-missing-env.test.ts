// KI-09: a variable the tool needs is not configured. The variant's `motd` tool answers MOTD; its
// wrangler config does not set it (it belongs in .dev.vars or a secret), which the emulator's `vars`
// option supplies for the fixed run.
import { expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'

const CONFIG = 'server/variants/missing-env/wrangler.jsonc'

test.each<{ variant: string; vars: Record<string, string>; expected: string }>([
  { variant: 'broken: MOTD not configured', vars: {}, expected: '' },
  { variant: 'fixed: MOTD set like .dev.vars', vars: { MOTD: 'Welcome aboard' }, expected: 'Welcome aboard' },
])('KI-09: the motd tool answers "$expected" ($variant), and no error is reported either way', async ({ vars, expected }) => {
  const emulator = await createEmulator({ config: CONFIG, vars })
  try {
    const client = await connectClient(emulator.url, { transport: 'streamable-http' })
    const result = await client.client.callTool({ name: 'motd', arguments: {} })
    // The symptom: an empty answer that is not an error.
    expect(result.isError ?? false).toBe(false)
    expect((result.content as { text: string }[])[0]?.text).toBe(expected)
    await client.close()
  } finally {
    await emulator.dispose()
  }
})
