import { describe, expect, test } from 'vitest'
import { isHarnessError } from '../../emulator/index.ts'
import { freePort, targetFromEnv, urlTarget } from './targets.ts'

describe('targets', () => {
  test('MCP_HARNESS_TARGET picks the emulator by default, wrangler dev, or a URL', () => {
    expect(targetFromEnv({}).name).toBe('emulator')
    expect(targetFromEnv({ MCP_HARNESS_TARGET: 'emulator' }).capabilities.emulator).toBe(true)
    expect(targetFromEnv({ MCP_HARNESS_TARGET: 'wrangler-dev' }).name).toBe('wrangler-dev')
    const url = targetFromEnv({ MCP_HARNESS_TARGET: 'https://mcp.example.workers.dev' })
    expect(url.baseUrl.href).toBe('https://mcp.example.workers.dev/')
    expect(url.capabilities.emulator).toBe(false)
  })

  test('an unknown MCP_HARNESS_TARGET is an ERR_OPTIONS naming the valid values', () => {
    expect(() => targetFromEnv({ MCP_HARNESS_TARGET: 'staging' })).toThrow(/"emulator", "wrangler-dev" or an http\(s\):\/\/ URL/)
  })

  test('a URL target that does not answer fails to start with ERR_TARGET', async () => {
    const target = urlTarget(`http://127.0.0.1:${await freePort()}`)
    const error = await target.start().catch((caught: unknown) => caught)
    expect(isHarnessError(error, 'ERR_TARGET')).toBe(true)
  })

  test('the emulator target has no URL before it starts', () => {
    expect(() => targetFromEnv({}).baseUrl).toThrow(/has not started/)
  })
})
