/**
 * Issue 13 item 5: with MCP_HARNESS_REPORT=on-failure a failing test of the vitest helper writes the
 * report of its own traffic next to the test results and prints the path in the failure.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from 'vitest'

const FIXTURES = path.resolve('scenarios/report/fixtures')

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('node_modules/vitest/vitest.mjs'), 'run', '--root', FIXTURES, '--config', path.join(FIXTURES, 'vitest.config.ts')], {
      env: { ...process.env, ...env, FIXTURE_WORKER_CONFIG: path.resolve('server/wrangler.jsonc'), FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => resolve({ code, output }))
  })
}

test('a failing scenario writes the report of its own traffic and prints its path; the passing one writes none', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-reports-'))
  try {
    const { code, output } = await run({ MCP_HARNESS_REPORT: 'on-failure', MCP_HARNESS_REPORT_DIR: dir })
    expect(code, output).toBe(1)
    const files = readdirSync(dir)
    expect(files).toEqual(['fails-fixture-ts-health-answers-418-it-does-not-this-test-fails-on-purpose.html'])
    const file = path.join(dir, files[0]!)
    expect(output).toContain(file)
    const html = readFileSync(file, 'utf8')
    // Only the failing test's traffic: one GET /health exchange (request, response, end), not the passing test's.
    expect(html.match(/<div class="ev [^"]*" tabindex="0" data-seq="\d+" data-layer="client" data-type="(request|response|end)"/g)?.map((m) => m.replace(/.*data-type="/, '').replace('"', '')).sort()).toEqual(['end', 'request', 'response'])
    expect(html).toContain('GET /health')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 240_000)

test('with MCP_HARNESS_REPORT=off a failing scenario writes nothing', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-reports-'))
  try {
    const { code } = await run({ MCP_HARNESS_REPORT: 'off', MCP_HARNESS_REPORT_DIR: dir, CI: 'true' })
    expect(code).toBe(1)
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 240_000)
