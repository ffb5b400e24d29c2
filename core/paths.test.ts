import { mkdtemp, mkdir, readdir, rm, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { assertRelativePath, resolveInside } from './paths.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'paths-test-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('assertRelativePath', () => {
  test('accepts relative paths and returns them with forward slashes', () => {
    expect(assertRelativePath('sdk/add.json', 'id')).toBe('sdk/add.json')
    expect(assertRelativePath('sdk\\add', 'id')).toBe('sdk/add')
    expect(assertRelativePath('a..b/c', 'id')).toBe('a..b/c')
  })

  test.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['C:\\x.json', 'absolute'],
    ['../x', '".." segment'],
    ['sdk/../../x', '".." segment'],
    ['sdk\\..\\x', '".." segment'],
    ['a\0b', 'NUL byte'],
  ])('refuses %j (%s) with ERR_PATH', (given, reason) => {
    expect(() => assertRelativePath(given, 'cassette id')).toThrow(expect.objectContaining({ code: 'ERR_PATH', message: expect.stringContaining(reason) }))
  })
})

describe('resolveInside', () => {
  test('resolves a nested path inside the root, creating its folders', async () => {
    const root = path.join(dir, 'cassettes')
    expect(await resolveInside(root, 'sdk/add.json', 'cassette path')).toBe(path.join(root, 'sdk', 'add.json'))
    expect(await readdir(root)).toEqual(['sdk'])
  })

  test('refuses a symbolic link on the way that leaves the root, and creates nothing outside', async () => {
    const root = path.join(dir, 'cassettes')
    const outside = path.join(dir, 'outside')
    await mkdir(root)
    await mkdir(outside)
    await symlink(outside, path.join(root, 'link'))
    await expect(resolveInside(root, 'link/deep/x.json', 'cassette path')).rejects.toMatchObject({ code: 'ERR_PATH', message: expect.stringContaining('symbolic link') })
    expect(await readdir(outside)).toEqual([])
  })

  test('accepts a symbolic link that stays inside the root', async () => {
    const root = path.join(dir, 'cassettes')
    await mkdir(path.join(root, 'real'), { recursive: true })
    await symlink(path.join(root, 'real'), path.join(root, 'alias'))
    expect(await resolveInside(root, 'alias/x.json', 'cassette path')).toBe(path.join(root, 'alias', 'x.json'))
  })

  test('refuses absolute paths and ".." before touching the disk', async () => {
    await expect(resolveInside(dir, '/tmp/x.json', 'cassette path')).rejects.toMatchObject({ code: 'ERR_PATH' })
    await expect(resolveInside(dir, '../x.json', 'cassette path')).rejects.toMatchObject({ code: 'ERR_PATH' })
  })
})
