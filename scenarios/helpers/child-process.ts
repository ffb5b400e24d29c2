/**
 * Child processes as the CLI tests run them: the mcp-harness CLI (or npm) started with its output
 * captured, a bounded wait for what it prints, and the processes below it read from /proc.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')
/** The CLI's entry, run with the Node that runs the tests (>= 22, which runs TypeScript). */
export const CLI = path.join(ROOT, 'cli', 'cli.ts')

export interface ChildRun {
  child: ChildProcessWithoutNullStreams
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Starts `command` with colours off, collecting its stdout and stderr. */
export function startProcess(command: string, args: string[], cwd: string, detached = false): ChildRun {
  const child = spawn(command, args, { cwd, env: { ...process.env, FORCE_COLOR: '0' }, detached })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Starts `mcp-harness <args>` as a child process in `cwd` (the repository by default). */
export const startCli = (args: string[], cwd = ROOT): ChildRun => startProcess(process.execPath, [CLI, ...args], cwd)

/** Polls `probe` every 50 ms until it returns a value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Whether processes can be listed (/proc); elsewhere `descendants` sees none. */
export const HAS_PROC = process.platform === 'linux'

/** Every process below `pid` with its name, from /proc (Linux; elsewhere none are seen). */
export function descendants(pid: number): { pid: number; name: string }[] {
  const parents = new Map<number, { ppid: number; name: string }>()
  if (!HAS_PROC) return []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The name is in parentheses and may hold spaces; ppid is the 2nd field after it.
      const close = stat.lastIndexOf(')')
      parents.set(Number(entry), { ppid: Number(stat.slice(close + 2).split(' ')[1]), name: stat.slice(stat.indexOf('(') + 1, close) })
    } catch {
      // The process ended while we looked.
    }
  }
  const out: { pid: number; name: string }[] = []
  const walk = (parent: number) => {
    for (const [child, info] of parents) {
      if (info.ppid === parent) {
        out.push({ pid: child, name: info.name })
        walk(child)
      }
    }
  }
  walk(pid)
  return out
}
