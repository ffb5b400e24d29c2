/* Parity runs: the same scenarios on several targets, normalized and compared */
export { parity, ParityOptionsSchema, PACKAGE_BASELINE } from './runner.ts'
export type { ParityOptions, ParityReport, ParityCell, ParityTargetResult } from './runner.ts'
export { formatReport, formatDifference } from './report.ts'

/* Suites and how to write one */
export { PARITY_SUITES, DEFAULT_SUITES } from './suites/index.ts'
export { defineSuite } from './suites/define.ts'
export type { ParityScenario, ParitySuite } from './suites/define.ts'
export type { ParityContext, SdkClient, RawSession, RawSseSession, Reply } from './context.ts'

/* Capture, normalization, comparison, baseline */
export { createCapture } from './capture.ts'
export type { Capture, CapturedExchange } from './capture.ts'
export { normalizeRun, COMPARED_RESPONSE_HEADERS } from './normalize.ts'
export type { NormalizedRun, NormalizedExchange } from './normalize.ts'
export { firstDifference } from './compare.ts'
export type { RunDifference } from './compare.ts'
export { loadBaseline, BaselineSchema, BaselineEntrySchema } from './baseline.ts'
export type { Baseline, BaselineEntry } from './baseline.ts'

/* Targets */
export { emulatorTarget, wranglerDevTarget, remoteTarget, containerTarget, urlTarget, parseTargetSpec, remoteSkipReason } from '../helpers/targets.ts'
export type { Target } from '../helpers/targets.ts'
