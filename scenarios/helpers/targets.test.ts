import { describe, expect, test } from 'vitest'
import { isHarnessError } from '../../emulator/index.ts'
import { freePort, parseTargetSpec, remoteSkipReason, targetFromEnv, urlTarget, wranglerErrorLine, wranglerReadyUrl } from './targets.ts'

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

describe('parity targets', () => {
  test('parseTargetSpec names emulator, wrangler-dev, remote, container and url= targets', () => {
    expect(['emulator', 'wrangler-dev', 'remote', 'container'].map((spec) => parseTargetSpec(spec).name)).toEqual(['emulator', 'wrangler-dev', 'remote', 'container'])
    const url = parseTargetSpec('url=https://mcp.example.workers.dev/')
    expect(url.name).toBe('url=https://mcp.example.workers.dev')
    expect(url.baseUrl.href).toBe('https://mcp.example.workers.dev/')
    expect(() => parseTargetSpec('url=mcp.example.dev')).toThrow(/url= takes an http\(s\):\/\/ URL/)
  })

  test('remote is skipped with one line naming the variables that are missing', () => {
    expect(remoteSkipReason({})).toMatch(/^set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID to run wrangler dev --remote/)
    expect(remoteSkipReason({ CLOUDFLARE_API_TOKEN: 'x' })).toMatch(/^set CLOUDFLARE_ACCOUNT_ID to/)
    expect(remoteSkipReason({ CLOUDFLARE_API_TOKEN: 'x', CLOUDFLARE_ACCOUNT_ID: 'y' })).toBeUndefined()
  })

  test('wranglerErrorLine picks wrangler\'s first error as one line, colours removed', () => {
    const log = '\x1b[33m▲ [WARNING]\x1b[0m something\n\n\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1mCould not access `api.cloudflare.com`.\x1b[0m\n\n✘ [ERROR] fetch failed\n'
    expect(wranglerErrorLine(log)).toBe('Could not access `api.cloudflare.com`.')
    expect(wranglerErrorLine('Ready on http://127.0.0.1:8787')).toBeUndefined()
  })

  test('wranglerReadyUrl reads the port wrangler bound (it is started on port 0), and nothing before it says so', () => {
    expect(wranglerReadyUrl('\x1b[32m[wrangler:info]\x1b[0m Ready on \x1b[1mhttp://127.0.0.1:34005\x1b[0m\n')?.href).toBe('http://127.0.0.1:34005/')
    expect(wranglerReadyUrl('[wrangler:info] Ready on http://127.0.0.1:34005\n[wrangler:info] GET / 200 OK (3ms)\n')?.href).toBe('http://127.0.0.1:34005/')
    expect(wranglerReadyUrl('⛅️ wrangler 4.x\n')).toBeUndefined()
  })
})
