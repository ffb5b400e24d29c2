/**
 * The Python side of `npm test`: a virtual environment in python/.venv with the package and its test
 * extras, made once before any test file runs (vitest globalSetup) and remade only when Python or
 * python/pyproject.toml changed. Every scenario that drives the Python SDK or the pytest plugin
 * relies on it, so none of them depends on which file vitest happens to run first.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const ROOT = path.resolve(import.meta.dirname, '../..')
export const PYTHON_DIR = path.join(ROOT, 'python')
export const VENV = path.join(PYTHON_DIR, '.venv')
export const VENV_PYTHON = path.join(VENV, 'bin', 'python')
const STAMP = path.join(VENV, '.mcp-harness-stamp')
const run = promisify(execFile)

/** Runs a command to its end (bounded), with its stdout and stderr as one text. */
export function exec(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => {
      output += `\n[mcp-harness] ${command} ${args.join(' ')} timed out after ${options.timeoutMs / 1000} s\n`
      child.kill('SIGTERM')
    }, options.timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, output: String(error) })
    })
  })
}

/** Creates python/.venv and installs the package with its test extras, unless the stamp says it is current. */
export async function ensureVenv(): Promise<{ created: boolean; ms: number }> {
  const started = performance.now()
  const { stdout: version } = await run('python3', ['--version'])
  const stamp = createHash('sha256')
    .update(version)
    .update(await readFile(path.join(PYTHON_DIR, 'pyproject.toml')))
    .digest('hex')
  if (existsSync(VENV_PYTHON) && existsSync(STAMP) && (await readFile(STAMP, 'utf8')) === stamp) return { created: false, ms: performance.now() - started }
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', '--clear', VENV]],
    [VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--editable', `${PYTHON_DIR}[test]`]],
  ]
  for (const [command, args] of steps) {
    const result = await exec(command, args, { cwd: ROOT, timeoutMs: 420_000 })
    if (result.code !== 0) throw new Error(`[mcp-harness] Failed to prepare the Python lane: \`${command} ${args.join(' ')}\` exited ${result.code}.\n${result.output.slice(-4000)}`)
  }
  await writeFile(STAMP, stamp)
  return { created: true, ms: performance.now() - started }
}
