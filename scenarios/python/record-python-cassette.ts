/**
 * Records the python-mcp cassette: the official MCP Python SDK client (python/tests/drive_session.py)
 * through the recording proxy, against the reference server under the emulator.
 * Run: `node scenarios/python/record-python-cassette.ts` (needs python/.venv: `npm test -- scenarios/python` makes it).
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createEmulator } from '../../emulator/index.ts'
import { buildCassette, createRecordingProxy, saveCassette } from '../../recordings/index.ts'

// Kept beside its test, not in recordings/cassettes/, until replay handles client-aborted POST
// streams: every cassette there is replayed by recordings/cassettes.test.ts.
export const PYTHON_CASSETTE = 'scenarios/python/cassettes/python-mcp-session.json'
const ROOT = path.resolve(import.meta.dirname, '../..')

function drive(base: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'python', '.venv', 'bin', 'python'), [path.join(ROOT, 'python', 'tests', 'drive_session.py'), base.href], { stdio: ['ignore', 'inherit', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`drive_session.py exited ${code}:\n${stderr.slice(-3000)}`))))
  })
}

/** Records the session and writes the cassette; returns its path. */
export async function recordPythonCassette(file = PYTHON_CASSETTE): Promise<string> {
  const emulator = await createEmulator({ config: path.join(ROOT, 'server', 'wrangler.jsonc'), workerLog: 'silent' })
  const proxy = createRecordingProxy({ target: emulator.url })
  await proxy.start()
  try {
    await drive(proxy.url)
    // Let the streams the client closed on exit reach the proxy.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const cassette = buildCassette(proxy.snapshot(), {
      client: 'mcp-python-sdk',
      scenario: 'session',
      transport: 'streamable-http',
      recordedWith: 'proxy',
      rerecord: 'node scenarios/python/record-python-cassette.ts',
      notes: 'mcp 2.3.0 (PyPI) Client(mode="legacy") over Streamable HTTP: initialize, tools/list, add, elicit_name (accept Ada), sample',
    })
    await saveCassette(path.resolve(ROOT, file), cassette)
    return file
  } finally {
    await proxy.stop()
    await emulator.dispose()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = await recordPythonCassette()
  console.log(`Recorded ${file}`)
}
