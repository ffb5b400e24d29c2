/**
 * The main entry (`mcp-harness`): what a test author uses. Plugin authoring is behind
 * `mcp-harness/plugins`; everything else is internal.
 * @module
 */
import '../core/node-version.ts'

/* Emulator */
export { createEmulator } from './emulator.ts'
export type { Emulator } from './emulator.ts'
export type { EmulatorOptions } from './options.ts'
export type { WorkerConfig, DurableObjectBinding, BuildResult } from './internal/wrangler.ts'

/* Harness config (mcp-harness.config.ts) */
export { defineConfig } from './config-file.ts'
export type { HarnessConfig } from './config-file.ts'

/* Upstream mocks (OAuth providers) */
export { upstream } from './plugins/upstream/index.ts'
export type { UpstreamOptions } from './plugins/upstream/index.ts'
export type { UpstreamProvider, UpstreamUser, UpstreamFault, UpstreamEndpoint, ProviderOptions, AuthorizeOutcome } from './plugins/upstream/handlers.ts'
export type { OidcProviderOptions } from './plugins/upstream/oidc.ts'

/* Hibernation, eviction and hop faults: what the emulator's methods take and return */
export type { EvictOptions, HibernationBlocker } from './plugins/hibernation.ts'
export type { SessionInfo } from './plugins/hop.ts'
export type { HopFaults, HopFault, HopFaultHandle } from './plugins/hop-faults.ts'

/* Transcript */
export type { Transcript, TranscriptEvent, TranscriptLayer, TranscriptListener } from '../core/transcript.ts'

/* Errors */
export { HarnessError, isHarnessError } from '../core/errors.ts'
export type { HarnessErrorCode } from '../core/errors.ts'
