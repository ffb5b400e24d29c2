import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** Where the container writes a generated control token when none is given. */
export const DEFAULT_TOKEN_FILE = '/srv/mcp-harness/control-token'

/**
 * The control plane's bearer token for the container, never printed: taken from
 * `MCP_HARNESS_CONTROL_TOKEN` when set, otherwise generated and written (mode 0600) to
 * `MCP_HARNESS_CONTROL_TOKEN_FILE` (default /srv/mcp-harness/control-token), which the ready line names.
 * @example const { token, file } = await controlToken(process.env)
 */
export async function controlToken(env: Record<string, string | undefined>): Promise<{ token: string; source: 'env' | 'file'; file?: string }> {
  const given = env.MCP_HARNESS_CONTROL_TOKEN
  if (given) return { token: given, source: 'env' }
  const file = path.resolve(env.MCP_HARNESS_CONTROL_TOKEN_FILE || DEFAULT_TOKEN_FILE)
  const token = randomBytes(32).toString('base64url')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, `${token}\n`, { mode: 0o600 })
  return { token, source: 'file', file }
}
