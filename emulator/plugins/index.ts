import type { EmulatorPlugin } from './types.ts'

/**
 * Every emulated platform behaviour, in the order their setups run and their front middlewares apply.
 * Options for a plugin live under `options[plugin.name]`.
 */
export const PLUGINS: EmulatorPlugin[] = []
