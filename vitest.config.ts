import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'emulator/**/*.test.ts', 'doctor/**/*.test.ts', 'cli/**/*.test.ts', 'recordings/**/*.test.ts', 'scenarios/**/*.test.ts'],
    // Each file boots workerd; two cores fit two at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './scenarios/helpers/summary-reporter.ts'],
  },
})
