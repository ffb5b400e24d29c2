import { expect, test } from 'vitest'
import { createMockServer } from '../recordings/mock.ts'
import { runCli } from '../scenarios/helpers/cli.ts'

// Issue 14 item 1: a mock reports every request it was not recorded to answer. replay's reachability
// check must not be one of them.
test('replay against a mock of the same cassette is green and the mock sees no request it did not record', async () => {
  const cassette = 'recordings/cassettes/sdk/streamable-http.json'
  const mock = await createMockServer(cassette)
  try {
    const { code, stderr } = await runCli(['replay', cassette, '--target', mock.url.href])
    expect(code, stderr).toBe(0)
    expect(mock.errors).toEqual([])
    expect(mock.transcript.filter({ type: 'miss' })).toEqual([])
  } finally {
    await mock.close()
  }
})
