/* Emulator */
export { createEmulator } from './emulator.ts'
export type { Emulator } from './emulator.ts'
export { EmulatorOptionsSchema, InlineWorkerConfigSchema } from './options.ts'
export type { EmulatorOptions, ResolvedEmulatorOptions } from './options.ts'

/* Transcript */
export { Transcript, SENSITIVE_HEADERS } from './transcript.ts'
export type { TranscriptEvent, TranscriptLayer, TranscriptListener } from './transcript.ts'

/* Errors */
export { HarnessError, isHarnessError } from './errors.ts'
export type { HarnessErrorCode } from './errors.ts'

/* Plugins */
export type { EmulatorPlugin, PluginContext, PluginInstance, OutboundHandler } from './plugins/types.ts'
export type { FrontMiddleware, FrontContext } from './internal/front.ts'
export type { WorkerConfig, DurableObjectBinding, BuildResult } from './internal/wrangler.ts'
