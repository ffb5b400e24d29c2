import { expect, test } from 'vitest'
import { parseHeaderFlags, UsageError } from './command.ts'

test('--header takes Name: value and NAME=VALUE alike (doctor, parity, replay), names in lower case, values with their colons and equals signs', () => {
  expect(parseHeaderFlags(['X-Api-Key: abc', 'Authorization:Bearer a:b', 'X-Team=  blue ', 'X-Empty=', 'X-Token=a=b:c'])).toEqual({ 'x-api-key': 'abc', authorization: 'Bearer a:b', 'x-team': 'blue', 'x-empty': '', 'x-token': 'a=b:c' })
})

test('a malformed --header is a usage error that never shows its value', () => {
  for (const bad of ['Bearer s3cret', 'Bad Name: s3cret', 'Bad Name=s3cret', '=s3cret', ': s3cret']) {
    expect(() => parseHeaderFlags([bad])).toThrow(UsageError)
    expect(() => parseHeaderFlags([bad])).toThrow(/expected 'Name: value' or NAME=VALUE/)
    expect(() => parseHeaderFlags([bad])).not.toThrow(/s3cret/)
  }
})
