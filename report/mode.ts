/** Whether failing tests leave a report (`MCP_HARNESS_REPORT`), apart from the report code itself so the vitest helper can ask without loading it. */
import { z } from 'zod'
import { parseOptions } from '../core/zod-error.ts'

const ModeSchema = z.enum(['on-failure', 'always', 'off'])
export type ReportMode = z.infer<typeof ModeSchema>

/** `MCP_HARNESS_REPORT`: `on-failure`, `always` or `off`; unset means `on-failure` in CI, `off` elsewhere. */
export function reportMode(env: NodeJS.ProcessEnv = process.env): ReportMode {
  const value = env.MCP_HARNESS_REPORT
  if (value === undefined || value === '') return env.CI && env.CI !== 'false' && env.CI !== '0' ? 'on-failure' : 'off'
  return parseOptions(ModeSchema, value, 'environment variable MCP_HARNESS_REPORT')
}
