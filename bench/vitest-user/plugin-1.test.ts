import { exports } from 'cloudflare:workers'
import { expect, test } from 'vitest'
import { initializeAndAdd } from './mcp-flow'

for (let i = 0; i < 1; i++) {
  test(`initializes and adds (${i})`, async () => {
    expect(await initializeAndAdd((input, init) => exports.default.fetch(input, init), 'http://example.com/mcp')).toContain('"text":"5"')
  })
}
