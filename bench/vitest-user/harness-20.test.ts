import { writeFileSync } from 'node:fs'
import { useEmulator } from 'mcp-harness/vitest'
import { afterAll, expect, test } from 'vitest'
import { initializeAndAdd } from './mcp-flow'

// Where the time goes: ms since this worker process started, at each step.
const marks: Record<string, number> = { imported: performance.now() }
const emulator = useEmulator({ config: 'wrangler.jsonc', onProgress: (message) => (marks[message.split(' ')[0]!.toLowerCase()] = performance.now()) })

for (let i = 0; i < 20; i++) {
  test(`initializes and adds (${i})`, async () => {
    marks.firstTest ??= performance.now()
    expect(await initializeAndAdd((input, init) => emulator.fetch(input, init), '/mcp')).toContain('"text":"5"')
  })
}

afterAll(() => {
  marks.testsDone = performance.now()
  if (process.env.BENCH_MARKS) writeFileSync(process.env.BENCH_MARKS, JSON.stringify(marks))
})
