import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { CONFORMANCE_CONFIG, formatConformanceSummary, runConformance } from '../../scripts/conformance.ts'

let emulator: Emulator

beforeAll(async () => {
  emulator = await createEmulator({ config: CONFORMANCE_CONFIG })
})

afterAll(async () => {
  await emulator?.dispose()
})

// Issue 2, item 6: the official referee, pinned, with at most 3 baselined failures.
test('the official conformance suite passes except its baselined scenarios', async () => {
  const result = await runConformance({ url: new URL('/mcp', emulator.url).href })
  const summary = formatConformanceSummary(result)
  expect(result.scenarios.length, summary).toBeGreaterThanOrEqual(32)
  expect(result.unexpected, summary).toEqual([])
  expect(result.stale, summary).toEqual([])
  expect(result.baselined.length, summary).toBeLessThanOrEqual(3)
  expect(result.exitCode, `${summary}\n${result.output.slice(-2000)}`).toBe(0)
})
