// What the package scenarios share: running commands as a user runs them (clean npm environment,
// the Node that runs the tests first on PATH, every failure showing what the command printed),
// `npm pack` of this project, and `npx mcp-harness serve` as a child process read up to its ready line.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '../..')

// The child commands run on the Node that runs this test (>= 22.12), as they would on a user's
// machine; npm's own npm_* variables from `npm test` must not leak into the nested npm.
export const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|MCP_HARNESS_)/i.test(name) && name !== 'INIT_CWD'))
env.PATH = [path.dirname(process.execPath), process.env.PATH].join(path.delimiter)
env.NO_COLOR = '1'
env.CI = 'true'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs a command in its own process group, killed (group and all) after `timeoutMs`. */
export function run(command: string, args: string[], options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      stderr += `\n[test] ${command} ${args.join(' ')} timed out after ${(options.timeoutMs ?? 300_000) / 1000} s\n`
      killGroup(child, 'SIGKILL')
    }, options.timeoutMs ?? 300_000)
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: performance.now() - started })
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, stdout, stderr: stderr + String(error), ms: performance.now() - started })
    })
  })
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** A failed command's exit code and the tail of what it printed, for assertion messages. */
export const explain = (what: string, result: Pick<Run, 'code' | 'stdout' | 'stderr'>) =>
  `${what} exited ${result.code}\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`

/**
 * Where one test run keeps its tarball: vitest's forked workers are children of the vitest process,
 * so they share its pid (the globalSetup, which runs in that process, removes the folder at the end).
 */
export function sharedPackDir(runPid = process.ppid): string {
  return path.join(os.tmpdir(), `mcp-harness-pack-${runPid}`)
}

/**
 * Packs this project as `npm publish` would (`prepare` builds dist/ with its declarations) and copies
 * the tarball into `dest`. Packed once per test run: the first file to ask packs, the others wait for
 * it (two `npm pack` at once would rebuild dist/ over each other, and each costs a build).
 * @example const { tarball } = await packProject(work); await run('npm', ['install', tarball], { cwd: project })
 */
export async function packProject(dest: string): Promise<{ tarball: string; result: Run }> {
  const shared = sharedPackDir()
  const record = path.join(shared, 'pack.json')
  let packer = false
  try {
    await mkdir(`${shared}.lock`)
    packer = true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  if (packer) {
    await mkdir(shared, { recursive: true })
    const result = await run('npm', ['pack', '--pack-destination', shared], { cwd: ROOT, timeoutMs: 420_000 })
    const name = (await readdir(shared)).find((file) => file.endsWith('.tgz'))
    await writeFile(record, JSON.stringify({ name, result }))
  }
  const deadline = Date.now() + 480_000
  while (!existsSync(record)) {
    if (Date.now() > deadline) throw new Error(`npm pack by another test file of this run did not finish within 8 min (${shared})`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  const { name, result } = JSON.parse(await readFile(record, 'utf8')) as { name?: string; result: Run }
  if (result.code !== 0) throw new Error(explain('npm pack', result))
  if (!name) throw new Error(`npm pack wrote no tarball into ${shared}\n${explain('npm pack', result)}`)
  await copyFile(path.join(shared, name), path.join(dest, name))
  return { tarball: path.join(dest, name), result }
}

/**
 * `npx --no`: run the project's own bin, never a package of that name fetched from the registry
 * (with CI set, npx would otherwise install a missing one without asking).
 */
export const NPX_LOCAL = ['--no']

/** A served Worker: what `serve --json` announced, and how to stop it. */
export interface Served {
  ready: { url: string; mcp: string; [field: string]: unknown }
  /** What the server printed so far (for failure messages). */
  output(): { stdout: string; stderr: string }
  stop(): Promise<void>
}

/**
 * Starts `npx --no mcp-harness serve --port 0 --json …` in `cwd` and waits for its JSON ready line.
 * @example const served = await serveChild(project, ['--upstream', 'github']); served.ready.mcp
 */
export async function serveChild(cwd: string, extraArgs: string[] = [], timeoutMs = 180_000): Promise<Served> {
  const child = spawn('npx', [...NPX_LOCAL, 'mcp-harness', 'serve', '--port', '0', '--json', ...extraArgs], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const stop = async () => {
    killGroup(child, 'SIGTERM')
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  try {
    const ready = await new Promise<Served['ready']>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve printed no ready line within ${timeoutMs / 1000} s`)), timeoutMs)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk
        const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'))
        if (line) {
          clearTimeout(timer)
          resolve(JSON.parse(line))
        }
      })
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`serve exited ${code} before its ready line`))
      })
    })
    return { ready, output: () => ({ stdout, stderr }), stop }
  } catch (error) {
    await stop()
    throw new Error(`npx mcp-harness serve ${extraArgs.join(' ')} in ${cwd}: ${(error as Error).message}\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`)
  }
}
