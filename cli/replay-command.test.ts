import { expect, test } from 'vitest'
import { UsageError } from './command.ts'
import { parseReplayHeaders } from './recordings-commands.ts'

test('replay --header takes NAME=VALUE, and Name: value as doctor and parity do; a bad one never shows its value', () => {
  expect(parseReplayHeaders(['Authorization=Bearer a=b:c', 'X-Team: blue ', 'X-Empty='])).toEqual({ authorization: 'Bearer a=b:c', 'x-team': 'blue', 'x-empty': '' })
  expect(() => parseReplayHeaders(['Bearer s3cret'])).toThrow(UsageError)
  expect(() => parseReplayHeaders(['Bearer s3cret'])).not.toThrow(/s3cret/)
  expect(() => parseReplayHeaders(['Bad Name=s3cret'])).toThrow(/expected NAME=VALUE/)
  expect(() => parseReplayHeaders(['Bad Name=s3cret'])).not.toThrow(/s3cret/)
  expect(() => parseReplayHeaders(['=s3cret'])).not.toThrow(/s3cret/)
})
