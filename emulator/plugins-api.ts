/**
 * Plugin authoring (`mcp-harness/plugins`): the contract a platform behaviour implements, the
 * built-in plugins and their option schemas, and the CORS model they share with the browser lane.
 * @module
 */
import '../core/node-version.ts'

/* The plugin contract */
export type { EmulatorPlugin, PluginContext, PluginInstance, OutboundHandler } from './plugins/types.ts'
export type { FrontMiddleware, FrontContext } from './internal/front.ts'
export { EmulatorOptionsSchema } from './options.ts'
export type { ResolvedEmulatorOptions } from './options.ts'

/* Built-in plugins, in the order they run */
export { PLUGINS } from './plugins/index.ts'
export { corsPlugin, CorsOptionsSchema, CORS, MCP_READ_HEADERS, corsVerdict, corsCheck } from './plugins/cors.ts'
export type { CorsOptions, CorsRequest, CorsResponse, CorsVerdict, CorsBlock } from './plugins/cors.ts'
export { timeoutsPlugin, TimeoutsOptionsSchema, TIMEOUTS, PRODUCTION_LIMITS } from './plugins/io-context.ts'
export type { TimeoutsOptions } from './plugins/io-context.ts'
export { upstreamPlugin, UpstreamOptionsSchema, UPSTREAM } from './plugins/upstream/index.ts'
export { hopPlugin, HopOptionsSchema, HOP } from './plugins/hop.ts'
export type { HopOptions } from './plugins/hop.ts'
export { HopFaultSchema } from './plugins/hop-faults.ts'
export type { HopStep, HopVerdict } from './plugins/hop-faults.ts'
export { hibernationPlugin, HibernationOptionsSchema, HIBERNATION, PRODUCTION_IDLE_MS } from './plugins/hibernation.ts'
export type { HibernationOptions } from './plugins/hibernation.ts'
