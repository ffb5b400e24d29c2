/** vitest globalSetup of this repository: what every test file may rely on, made once per run. */
import { ensureVenv } from './python-venv.ts'

export default async function setup(): Promise<void> {
  const venv = await ensureVenv()
  if (venv.created) console.info(`[mcp-harness] Python venv created in ${Math.round(venv.ms)} ms`)
}
