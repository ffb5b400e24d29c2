import { describe, expect, test } from 'vitest'
import { runCli as run } from '../scenarios/helpers/cli.ts'

describe('mcp-harness parity', () => {
  test('--help lists the targets, the suites and the exit codes', async () => {
    const { code, stdout } = await run(['parity', '--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/--targets <list>/)
    expect(stdout).toMatch(/lifecycle, protocol, stateless, hibernation/)
    expect(stdout).toMatch(/CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID/)
  })

  test('one target is a usage error (exit 2) saying two are needed', async () => {
    const { code, stderr } = await run(['parity', '--targets', 'emulator'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/--targets needs at least two targets/)
  })

  test('an unknown target or suite is exit 1 with the valid values, before anything starts', async () => {
    const target = await run(['parity', '--config', 'server/wrangler.jsonc', '--targets', 'emulator,staging'])
    expect(target.code).toBe(1)
    expect(target.stderr).toMatch(/Invalid target "staging": expected one of emulator, wrangler-dev, remote, container, url=<mcp server url>/)
    const suite = await run(['parity', '--config', 'server/wrangler.jsonc', '--suite', 'nope'])
    expect(suite.code).toBe(1)
    expect(suite.stderr).toMatch(/Unknown parity suite "nope"/)
  })

  test('a missing config is named', async () => {
    const { code, stderr } = await run(['parity', '--config', 'no/such/folder'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/Failed to find the wrangler config "no\/such\/folder"/)
  })

})
