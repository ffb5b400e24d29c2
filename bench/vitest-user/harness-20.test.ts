import { writeFileSync } from 'node:fs'
import { useEmulator } from 'mcp-harness/vitest'
import { afterAll, expect, test } from 'vitest'
import { initializeAndAdd } from './mcp-flow'

// Where the time goes: ms since this worker process started, at each step (the harness's own
// start-up phases are Node performance marks named "mcp-harness:<phase>").
const marks: Record<string, number> = { imported: performance.now() }
const emulator = useEmulator({ config: 'wrangler.jsonc' })

for (let i = 0; i < 20; i++) {
  test(`initializes and adds (${i})`, async () => {
    marks.firstTest ??= performance.now()
    expect(await initializeAndAdd((input, init) => emulator.fetch(input, init), '/mcp')).toContain('"text":"5"')
  })
}

afterAll(() => {
  marks.testsDone = performance.now()
  for (const entry of performance.getEntriesByType('mark')) if (entry.name.startsWith('mcp-harness:')) marks[entry.name.slice('mcp-harness:'.length)] ??= entry.startTime
  if (process.env.BENCH_MARKS) writeFileSync(process.env.BENCH_MARKS, JSON.stringify(marks))
})
