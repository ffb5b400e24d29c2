import { onTestFinished } from 'vitest'
import { createEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.ts'

/** The reference server's wrangler config, relative to the project root. */
export const REFERENCE_CONFIG = 'server/wrangler.jsonc'

/**
 * Starts an emulator for one test and disposes it when the test finishes (Miniflare's `useDispose`).
 * @example const emulator = await useEmulator()
 */
export async function useEmulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emulator = await createEmulator({ config: REFERENCE_CONFIG, ...options })
  onTestFinished(() => emulator.dispose())
  return emulator
}
