/**
 * The scenario DSL (`mcp-harness/scenarios`): write scenarios the way this project's suites are
 * written, against the emulator, `wrangler dev` or a URL, over both transports.
 * @module
 */
import '../core/node-version.ts'

/* Scenarios: one definition, one vitest test per transport */
export { useTarget } from './helpers/scenario.ts'
export type { ScenarioContext, ScenarioOptions, ScenarioClientOptions, ScenarioBody, ScenarioSuite } from './helpers/scenario.ts'

/* Targets: what a scenario runs against */
export { emulatorTarget, urlTarget, wranglerDevTarget, targetFromEnv } from './helpers/targets.ts'
export type { Target, TargetCapabilities, TargetCapability, WranglerDevTargetOptions } from './helpers/targets.ts'

/* Clients: the official SDK clients, scripted */
export { connectClient, TRANSPORTS, TRANSPORT_PATHS } from './helpers/clients.ts'
export type { ScriptedClient, ScriptedClientOptions, TransportKind } from './helpers/clients.ts'
export { connectModernClient, MODERN_PROTOCOL_VERSION } from './helpers/modern-client.ts'

/* Raw HTTP: for what an SDK client will not send */
export { rawRequest, readReply, rpc, notification, initializeRequest, openRawSession, openRawSseSession, ACCEPT_BOTH } from './helpers/raw.ts'
export type { RawReply, RawRequestOptions, RawSession, RawSseSession, RpcMessage } from './helpers/raw.ts'

/* OAuth: sign in through a Worker's OAuthProvider as a browser would, headless */
export { signIn, discover, registerClient, pkce, authorizationUrl, exchangeCode, tokenRequest } from './helpers/oauth-flow.ts'
export type { SignIn, SignInOptions, Discovery, AuthServerMetadata, ResourceMetadata, RegisteredClient, TokenSet } from './helpers/oauth-flow.ts'
export { HeadlessOAuthProvider } from './helpers/oauth-sdk-provider.ts'

/* Parity: the same scenarios on several targets, compared */
export * from './parity/index.ts'
