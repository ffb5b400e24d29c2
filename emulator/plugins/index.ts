import type { EmulatorPlugin } from './types.ts'
import { upstreamPlugin } from './upstream/plugin.ts'
import { hopPlugin } from './hop.ts'
import { hibernationPlugin } from './hibernation.ts'
import { corsPlugin } from './cors.ts'
import { timeoutsPlugin } from './io-context.ts'

/**
 * Every emulated platform behaviour, in the order their setups run and their front middlewares apply.
 * Options for a plugin live under `options[plugin.name]`.
 */
export const PLUGINS: EmulatorPlugin[] = [corsPlugin as EmulatorPlugin, timeoutsPlugin as EmulatorPlugin, upstreamPlugin as EmulatorPlugin, hopPlugin as EmulatorPlugin, hibernationPlugin as EmulatorPlugin]
