// Issue 9 item 4: an uncaught exception answers the client the way production does (error 1101, no
// local stack, no file paths); the stack and the Worker's console output are on stderr and in the transcript.
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'

let emulator: Emulator
const stderr: string[] = []
beforeAll(async () => {
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk))
    return true
  })
  emulator = await createEmulator({ config: 'scenarios/fixtures/throws/wrangler.jsonc', workerLog: 'inherit' })
})
afterAll(async () => {
  await emulator?.dispose()
  vi.restoreAllMocks()
})

test('an uncaught exception answers 500 "error code: 1101" with no stack or local path', async () => {
  const response = await emulator.fetch('/throw', { headers: { accept: 'text/html' } })
  expect(response.status).toBe(500)
  const body = await response.text()
  expect(body).toBe('error code: 1101')
  expect(body).not.toMatch(/the database said no|\/src\/|at /)
  const event = await emulator.transcript.waitFor((e) => e.layer === 'harness' && e.type === 'uncaught-exception', 2_000)
  expect(event.message).toBe('the database said no')
  await expect.poll(() => stderr.join('')).toMatch(/\[worker:error\] Uncaught Error: the database said no/)
})

test('the Worker console output reaches stderr prefixed and stays in the transcript', async () => {
  expect(await (await emulator.fetch('/log')).text()).toBe('logged')
  await expect.poll(() => stderr.join('')).toMatch(/\[worker\] hello from the worker/)
  await expect.poll(() => stderr.join('')).toMatch(/\[worker:error\] something went wrong, loudly/)
  const lines = emulator.transcript.filter({ layer: 'harness', type: 'worker-log' }).map((e) => e.line)
  expect(lines).toEqual(expect.arrayContaining(['hello from the worker', 'something went wrong, loudly']))
})
