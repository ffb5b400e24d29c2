/* Emulator */
export { createEmulator } from './emulator.ts'
export type { Emulator } from './emulator.ts'
export { EmulatorOptionsSchema, InlineWorkerConfigSchema } from './options.ts'
export type { EmulatorOptions, ResolvedEmulatorOptions } from './options.ts'

/* Control plane */
export { startControlPlane, ControlPlaneOptionsSchema } from './control/server.ts'
export type { ControlPlane, ControlPlaneOptions } from './control/server.ts'
export { CONTROL_API_VERSION } from './control/schema.ts'

/* Upstream mocks (OAuth providers) */
export { upstream, upstreamPlugin, UpstreamOptionsSchema, UPSTREAM, UPSTREAM_BROWSER_PATH, UPSTREAM_PROVIDERS, createUpstream } from './plugins/upstream/index.ts'
export type { UpstreamOptions, UpstreamProviderName } from './plugins/upstream/index.ts'
export { ProviderOptionsSchema, UpstreamUserSchema } from './plugins/upstream/handlers.ts'
export type { UpstreamProvider, UpstreamUser, UpstreamFault, UpstreamEndpoint, ProviderOptions, ProviderStats, AuthorizeOutcome } from './plugins/upstream/handlers.ts'
export { OidcOptionsSchema, OidcCommonOptionsSchema } from './plugins/upstream/oidc.ts'
export type { OidcProviderOptions } from './plugins/upstream/oidc.ts'
export { CloudflareOptionsSchema, CloudflareAccessOptionsSchema } from './plugins/upstream/cloudflare.ts'
export type { CloudflareOptions, CloudflareAccessOptions, CloudflareAccessProvider } from './plugins/upstream/cloudflare.ts'
export { SigningKeys, accessTokenHash } from './plugins/upstream/keys.ts'

/* CORS as a browser enforces it */
export { corsPlugin, CorsOptionsSchema, CORS, MCP_READ_HEADERS, corsVerdict, corsCheck, checkPreflight, needsPreflight, preflightRequestFor, readableResponseHeaders, unsafeRequestHeaderNames, isSafelistedRequestHeader } from './plugins/cors.ts'
export type { CorsOptions, CorsRequest, CorsResponse, CorsVerdict, CorsBlock, CorsEventType, CredentialsMode } from './plugins/cors.ts'

/* IoContext timeouts */
export { timeoutsPlugin, TimeoutsOptionsSchema, TIMEOUTS, PRODUCTION_LIMITS, INACTIVITY_MESSAGE, WAIT_UNTIL_MESSAGE, resolveLimits } from './plugins/io-context.ts'
export type { TimeoutsOptions } from './plugins/io-context.ts'

/* Worker→DO hop tap, hop faults, lifecycle (hibernation, eviction, crash) */
export { hopPlugin, HopOptionsSchema, HOP, HOP_STAMP_HEADER } from './plugins/hop.ts'
export type { HopOptions, SessionInfo, PendingTimer } from './plugins/hop.ts'
export { HopFaultSchema, HopFaultMatchSchema, HopFaultActionSchema, HopFaults } from './plugins/hop-faults.ts'
export type { HopFault, HopFaultHandle, HopStep, HopVerdict } from './plugins/hop-faults.ts'
export { hibernationPlugin, HibernationOptionsSchema, EvictOptionsSchema, HIBERNATION, PRODUCTION_IDLE_MS } from './plugins/hibernation.ts'
export type { HibernationOptions, EvictOptions, HibernationBlocker } from './plugins/hibernation.ts'

/* Transcript */
export { Transcript, SENSITIVE_HEADERS } from '../core/transcript.ts'
export type { TranscriptEvent, TranscriptLayer, TranscriptListener } from '../core/transcript.ts'

/* Errors */
export { HarnessError, isHarnessError } from '../core/errors.ts'
export type { HarnessErrorCode } from '../core/errors.ts'

/* Plugins */
export type { EmulatorPlugin, PluginContext, PluginInstance, OutboundHandler } from './plugins/types.ts'
export type { FrontMiddleware, FrontContext } from './internal/front.ts'
export type { WorkerConfig, DurableObjectBinding, BuildResult } from './internal/wrangler.ts'

/* Headless sign-in (OAuth as an MCP client runs it) */
export { signIn, discover, registerClient, authorizationUrl, authorizeForCode, exchangeCode, tokenRequest, pkce, SignInOptionsSchema, CLIENT_REDIRECT_URI } from './sign-in/flow.ts'
export type { SignInOptions, SignInResult, SignInTarget, SignInStep, Discovery, AuthServerMetadata, ResourceMetadata, RegisteredClient, TokenSet } from './sign-in/flow.ts'
export { runBrowser, CookieJar } from './sign-in/browser.ts'
export type { BrowserOptions, BrowserResult, BrowserStep } from './sign-in/browser.ts'
export { readPage } from './sign-in/consent-form.ts'
export type { FormSubmission, PageReading } from './sign-in/consent-form.ts'
