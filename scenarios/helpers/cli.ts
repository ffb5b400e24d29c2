/** Runs the mcp-harness CLI in the test's own process and captures what it writes. */
import { main } from '../../cli/cli.ts'

export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const sink = (write: (text: string) => void) => ({ write: (chunk: string) => (write(String(chunk)), true) }) as unknown as NodeJS.WritableStream
  const code = await main(args, { stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)) })
  return { code, stdout, stderr }
}
