import { expect, test } from 'vitest'
import { runCli } from '../scenarios/helpers/cli.ts'

test('--sign-in together with a token, or a malformed --header, exits 2 with what to do', async () => {
  const run = async (argv: string[]) => {
    const { code, stderr } = await runCli(argv)
    return { code, stderr }
  }
  expect(await run(['doctor', '--url', 'http://127.0.0.1:9', '--sign-in', '--token', 't'])).toMatchObject({ code: 2, stderr: expect.stringContaining('either --sign-in or a token') })
  expect(await run(['doctor', '--url', 'http://127.0.0.1:9', '--header', 'oops'])).toMatchObject({ code: 2, stderr: expect.stringContaining("expected 'Name: value'") })
})
