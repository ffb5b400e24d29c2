import type { ParitySuite } from './define.ts'
import { hibernation } from './hibernation.ts'
import { lifecycle } from './lifecycle.ts'
import { protocol } from './protocol.ts'
import { statelessSuite } from './stateless.ts'

/** Every parity suite by name; `hibernation` runs only when asked for (it waits past real idle eviction). */
export const PARITY_SUITES: Record<string, ParitySuite> = {
  lifecycle,
  protocol,
  stateless: statelessSuite,
  hibernation,
}

/** The suites a run takes when none is named. */
export const DEFAULT_SUITES = Object.values(PARITY_SUITES)
  .filter((suite) => !suite.optIn)
  .map((suite) => suite.name)
