/** vitest globalSetup of this repository: what every test file may rely on, made once per run. */
import { rm } from 'node:fs/promises'
import { sharedPackDir } from '../package/packaging.ts'
import { ensureVenv } from './python-venv.ts'

export default async function setup(): Promise<() => Promise<void>> {
  const venv = await ensureVenv()
  if (venv.created) console.info(`[mcp-harness] Python venv created in ${Math.round(venv.ms)} ms`)
  // The package scenarios pack the project once per run, keyed by this process (see packProject).
  return async () => {
    await rm(sharedPackDir(process.pid), { recursive: true, force: true })
    await rm(`${sharedPackDir(process.pid)}.lock`, { recursive: true, force: true })
  }
}
