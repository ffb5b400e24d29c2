// KI-30: the MCP SDK's default JSON-schema validator (AJV) compiles code, which Workers forbid. The
// broken variant builds its McpServer without a validator; the reference server passes the cfworker one.
import { describe, expect, test } from 'vitest'
import { createEmulator } from '../../emulator/index.ts'
import { connectClient } from '../helpers/clients.ts'
import { REFERENCE_CONFIG } from '../helpers/use-emulator.ts'

const VARIANTS = [
  { variant: 'broken: default validator', config: 'server/variants/default-validator/wrangler.jsonc', broken: true },
  { variant: 'fixed: CfWorkerJsonSchemaValidator', config: REFERENCE_CONFIG, broken: false },
] as const

describe.each(VARIANTS)('$variant', ({ config, broken }) => {
  test(`KI-30: an elicitation answered by the client ${broken ? 'fails with "Code generation from strings disallowed"' : 'reaches the tool'}`, async () => {
    const emulator = await createEmulator({ config })
    try {
      const client = await connectClient(emulator.url, { transport: 'streamable-http', onElicit: () => ({ action: 'accept', content: { name: 'Ada' } }) })
      const outcome = await client.client.callTool({ name: 'elicit_name', arguments: {} }).then(
        (result) => JSON.stringify(result.content),
        (error: Error) => error.message,
      )
      if (broken) expect(outcome).toMatch(/Code generation from strings disallowed/)
      else expect(outcome).toContain('Hello, Ada')
      await client.close()
    } finally {
      await emulator.dispose()
    }
  })
})
