import { readFileSync } from 'node:fs'
import { createEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import type { UpstreamProvider } from '../../emulator/index.ts'
import { parseDevVars } from './oauth-flow.ts'

/** The OAuth reference server's wrangler config, relative to the project root. */
export const OAUTH_CONFIG = 'server/oauth/wrangler.jsonc'

/** The fake secrets of the OAuth reference server (its `.dev.vars.example` fixture). */
export function oauthTestVars(): Record<string, string> {
  return parseDevVars(readFileSync(new URL('../../server/oauth/.dev.vars.example', import.meta.url), 'utf8'))
}

export interface OAuthEmulator {
  emulator: Emulator
  provider: UpstreamProvider
}

/**
 * Starts the OAuth reference server with a mocked upstream (GitHub unless told otherwise) and the
 * fixture's fake secrets; `vars` override them (an empty string unsets one).
 * @example const { emulator, provider } = await startOAuthEmulator({ provider: upstream.github({ users }) })
 */
export async function startOAuthEmulator(options: { provider?: UpstreamProvider; vars?: Record<string, string>; extra?: Partial<EmulatorOptions> } = {}): Promise<OAuthEmulator> {
  const provider = options.provider ?? upstream.github()
  const vars = { ...oauthTestVars(), UPSTREAM: provider.kind, ...options.vars }
  const emulator = await createEmulator({ config: OAUTH_CONFIG, vars, upstream: { providers: [provider] }, ...options.extra })
  return { emulator, provider }
}
