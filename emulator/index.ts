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
export { upstream, UPSTREAM_PROVIDERS, createUpstream } from './plugins/upstream/index.ts'
export type { UpstreamOptions, UpstreamProviderName } from './plugins/upstream/index.ts'
export type { UpstreamProvider, UpstreamUser, UpstreamFault, UpstreamEndpoint, ProviderOptions, ProviderStats, AuthorizeOutcome } from './plugins/upstream/handlers.ts'
export type { OidcProviderOptions } from './plugins/upstream/oidc.ts'
export { CloudflareOptionsSchema, CloudflareAccessOptionsSchema } from './plugins/upstream/cloudflare.ts'
export type { CloudflareOptions, CloudflareAccessOptions, CloudflareAccessProvider } from './plugins/upstream/cloudflare.ts'
export { SigningKeys, accessTokenHash } from './plugins/upstream/keys.ts'

/* Hibernation, eviction and hop faults: what the emulator's methods take and return */
export type { EvictOptions, HibernationBlocker } from './plugins/hibernation.ts'
export type { SessionInfo } from './plugins/hop.ts'
export type { HopFaults, HopFault, HopFaultHandle } from './plugins/hop-faults.ts'

/* Transcript */
export type { Transcript, TranscriptEvent, TranscriptLayer, TranscriptListener } from '../core/transcript.ts'

/* Errors */
export { HarnessError, isHarnessError } from '../core/errors.ts'
export type { HarnessErrorCode } from '../core/errors.ts'

/* Headless sign-in: OAuth the way an MCP client runs it, consent on any approval page */
export { signIn } from './sign-in/flow.ts'
export type { SignInOptions, SignInResult, SignInTarget, SignInStep, TokenSet } from './sign-in/flow.ts'
