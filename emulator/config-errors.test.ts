import net from 'node:net'
import { describe, expect, test } from 'vitest'
import { createEmulator, isHarnessError, type HarnessErrorCode } from './index.ts'

// Issue 2, build item 3: a bad config is a HarnessError naming the file and the fix, never a stack
// trace from deep inside. Fixtures: scenarios/fixtures/broken-*.
const FIXTURES = 'scenarios/fixtures'

async function startFailure(config: string, port?: number) {
  try {
    const emulator = await createEmulator({ config, port, workerLog: 'silent' })
    await emulator.dispose()
  } catch (error) {
    if (isHarnessError(error)) return error
    throw error
  }
  throw new Error(`createEmulator(${config}) started, but it should have failed`)
}

function expectError(error: { code: HarnessErrorCode; message: string }, code: HarnessErrorCode, ...parts: (string | RegExp)[]) {
  expect(error.code).toBe(code)
  for (const part of parts) expect(error.message).toMatch(part)
}

describe('config errors', () => {
  test('a missing config file names the path and what to pass', async () => {
    const error = await startFailure(`${FIXTURES}/no-such-worker/wrangler.jsonc`)
    expectError(error, 'ERR_CONFIG', `"${FIXTURES}/no-such-worker/wrangler.jsonc": no such file or folder`, 'Pass the path of your wrangler.jsonc')
  })

  test('a folder without a wrangler config names the folder and the file names it looked for', async () => {
    const error = await startFailure(`${FIXTURES}/broken-syntax/src`)
    expectError(error, 'ERR_CONFIG', 'broken-syntax/src', 'wrangler.jsonc, wrangler.json, wrangler.toml')
  })

  test('KI-12: an McpAgent Worker without a Durable Object binding names the file and the binding to add', async () => {
    const error = await startFailure(`${FIXTURES}/broken-no-do-binding`)
    expectError(error, 'ERR_CONFIG', 'KI-12', `${FIXTURES}/broken-no-do-binding/wrangler.jsonc binds no Durable Object`, '"durable_objects"', '"migrations"')
  })

  test('KI-13: a Durable Object class without a migration names the class and the migration to add', async () => {
    const error = await startFailure(`${FIXTURES}/broken-no-migration`)
    expectError(error, 'ERR_CONFIG', 'KI-13', 'ReferenceMcp (binding MCP_OBJECT) has no migration', `${FIXTURES}/broken-no-migration/wrangler.jsonc`, '"new_sqlite_classes": ["ReferenceMcp"]')
  })

  test('a syntax error is a build error carrying wrangler\'s location, without colour codes', async () => {
    const error = await startFailure(`${FIXTURES}/broken-syntax`)
    expectError(error, 'ERR_BUILD', 'broken-syntax/wrangler.jsonc', 'src/index.ts:5:2', 'Expected ")" but found "}"')
    expect(error.message).not.toMatch(/\u001b\[/)
  })

  test('KI-01: a Durable Object class the module does not export names the class and the file', async () => {
    const error = await startFailure(`${FIXTURES}/broken-not-exported`)
    expectError(error, 'ERR_BUILD', 'KI-01', 'does not export the Durable Object class HiddenMcp', 'broken-not-exported/src/index.ts')
  })

  test('a port in use is ERR_PORT_IN_USE naming the port and the way out', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as net.AddressInfo
    try {
      const error = await startFailure(`${FIXTURES}/kv-notes`, port)
      expectError(error, 'ERR_PORT_IN_USE', `127.0.0.1:${port}`, 'Pass another --port')
    } finally {
      blocker.close()
    }
  })

  test('errors carry no stack frames from inside the harness in their message', async () => {
    const error = await startFailure(`${FIXTURES}/broken-no-migration`)
    expect(error.message).not.toMatch(/\n\s+at /)
    expect(error.message.startsWith('[mcp-harness] ERR_CONFIG: Failed to ')).toBe(true)
  })
})
