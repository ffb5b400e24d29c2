import { expect, test } from 'vitest'
import { UsageError } from './command.ts'
import { parseHeaders } from './doctor-command.ts'
import { runCli } from '../scenarios/helpers/cli.ts'

test('--header values become a record; a value keeps its colons', () => {
  expect(parseHeaders(['X-Api-Key: abc', 'Authorization:Bearer a:b'])).toEqual({ 'X-Api-Key': 'abc', Authorization: 'Bearer a:b' })
})

test('a malformed --header is a usage error that does not echo the value', () => {
  expect(() => parseHeaders(['no colon here'])).toThrow(UsageError)
  expect(() => parseHeaders(['Bad Name: secret-value'])).toThrow(/expected 'Name: value'/)
  expect(() => parseHeaders(['Bad Name: secret-value'])).not.toThrow(/secret-value/)
})

test('--sign-in together with a token, or a malformed --header, exits 2 with what to do', async () => {
  const run = async (argv: string[]) => {
    const { code, stderr } = await runCli(argv)
    return { code, stderr }
  }
  expect(await run(['doctor', '--url', 'http://127.0.0.1:9', '--sign-in', '--token', 't'])).toMatchObject({ code: 2, stderr: expect.stringContaining('either --sign-in or a token') })
  expect(await run(['doctor', '--url', 'http://127.0.0.1:9', '--header', 'oops'])).toMatchObject({ code: 2, stderr: expect.stringContaining("expected 'Name: value'") })
})
