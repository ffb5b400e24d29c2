import path from 'node:path'
import { defineConfig } from 'vitest/config'
import SlowestFirstSequencer from './scenarios/helpers/slowest-first.ts'

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'emulator/**/*.test.ts', 'doctor/**/*.test.ts', 'cli/**/*.test.ts', 'recordings/**/*.test.ts', 'report/**/*.test.ts', 'scenarios/**/*.test.ts'],
    // Each file boots workerd; two cores fit two at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Slowest files first, so the long ones do not end the run alone on one of the two workers.
    sequence: { sequencer: SlowestFirstSequencer },
    // Made once before any file runs: the Python venv that the Python lane and the Python SDK scenarios use.
    globalSetup: ['scenarios/helpers/global-setup.ts'],
    // The Worker that scenario targets serve by default here: the reference server (a user's
    // project serves its own folder's Worker instead).
    env: { MCP_HARNESS_CONFIG: path.resolve(import.meta.dirname, 'server/wrangler.jsonc') },
    reporters: ['default', './scenarios/helpers/summary-reporter.ts'],
  },
})
