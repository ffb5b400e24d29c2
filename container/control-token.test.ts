import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { controlToken } from './control-token.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'control-token-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

test('takes the token from MCP_HARNESS_CONTROL_TOKEN and writes no file', async () => {
  const file = path.join(dir, 'token')
  expect(await controlToken({ MCP_HARNESS_CONTROL_TOKEN: 'given-token-0123456789', MCP_HARNESS_CONTROL_TOKEN_FILE: file })).toEqual({ token: 'given-token-0123456789', source: 'env' })
  await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' })
})

test('generates a token into the named file, readable by its owner only', async () => {
  const file = path.join(dir, 'nested', 'token')
  const { token, source, file: written } = await controlToken({ MCP_HARNESS_CONTROL_TOKEN_FILE: file })
  expect(source).toBe('file')
  expect(written).toBe(file)
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  expect((await readFile(file, 'utf8')).trim()).toBe(token)
  expect((await stat(file)).mode & 0o777).toBe(0o600)
})
