import { expect, test } from 'vitest'
import type { TestSpecification, Vitest } from 'vitest/node'
import SlowestFirstSequencer, { committedDurations } from './slowest-first.ts'

const root = '/repo'
const spec = (file: string) => ({ moduleId: `${root}/${file}`, project: { config: { root } } }) as unknown as TestSpecification

test('the suite runs its slowest files first: cached durations, else the committed ones, failed files before all', async () => {
  const cached: Record<string, { failed: boolean; duration: number }> = {
    '/repo/a.test.ts': { failed: false, duration: 100 },
    '/repo/b.test.ts': { failed: false, duration: 90_000 },
    '/repo/c.test.ts': { failed: true, duration: 10 },
  }
  const ctx = { cache: { getTestSpecificationResult: (s: TestSpecification) => cached[s.moduleId] } } as unknown as Vitest
  const files = ['a.test.ts', 'b.test.ts', 'c.test.ts', 'scenarios/package/install.test.ts'].map(spec)
  const order = (await new SlowestFirstSequencer(ctx).sort(files)).map((s) => s.moduleId.slice(root.length + 1))
  expect(order[0]).toBe('c.test.ts')
  expect(order.indexOf('b.test.ts')).toBeLessThan(order.indexOf('a.test.ts'))
})

test('the committed durations are a JSON object of milliseconds by file', () => {
  for (const [file, ms] of Object.entries(committedDurations())) {
    expect(file).toMatch(/\.test\.ts$/)
    expect(ms).toBeGreaterThanOrEqual(0)
  }
})
