/**
 * Python and container lanes: wall time of a fresh Python virtual environment (venv + pip install of
 * python[test], pip's download cache warm), of the pytest run, of the base image (Debian packages +
 * `docker import`) and the emulator image (cold and cached), of a container's start to its ready
 * line, and of the TypeScript container scenario file. `--debootstrap` also times a debootstrap
 * minbase rootfs (the alternative base; downloads ~90 Debian packages).
 * Writes bench/results/python-container.json and prints a markdown table.
 * @example npm run bench -- python-container --debootstrap
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildImage, dockerAvailable, PROJECT_ROOT } from '../container/build-image.ts'
import { markdownTable, round, writeResult } from './lib.ts'

function timed(command: string, args: string[], cwd = PROJECT_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; out: string }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - started, out }) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`))))
  })
}

if (!(await dockerAvailable())) {
  console.error('[mcp-harness] No Docker engine answers: start one (dockerd) to run this benchmark.')
  process.exit(1)
}
const rows: (string | number)[][] = []
const result: Record<string, number> = {}
const note = (key: string, label: string, ms: number, extra = '') => {
  result[key] = round(ms)
  rows.push([label, round(ms / 1000), extra])
}

// 1. A fresh virtual environment in a temp folder (the lane's own python/.venv is left alone).
const tmp = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-bench-'))
const venv = path.join(tmp, 'venv')
note('venvCreateMs', 'python3 -m venv', (await timed('python3', ['-m', 'venv', venv])).ms)
note('pipInstallMs', 'pip install -e python[test] (pip cache warm)', (await timed(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-e', `${path.join(PROJECT_ROOT, 'python')}[test]`])).ms)

// 2. Base image: a throwaway tag forces a real build.
const baseTag = `mcp-harness-base:bench-${process.pid}`
note('baseImageMs', 'base image (apt-get download + docker import)', (await timed('bash', ['container/build-base.sh', baseTag])).ms)
const baseSize = (await timed('docker', ['image', 'inspect', '--format', '{{.Size}}', baseTag])).out.trim()
result.baseImageBytes = Number(baseSize)
await timed('docker', ['image', 'rm', baseTag])

if (process.argv.includes('--debootstrap')) {
  const rootfs = path.join(tmp, 'debootstrap')
  note('debootstrapMs', 'debootstrap --variant=minbase bookworm', (await timed('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian'])).ms)
  result.debootstrapBytes = Number((await timed('du', ['-sb', rootfs])).out.split('\t')[0])
}

// 3. Emulator image, cold (tag removed) then cached.
const first = await buildImage()
await timed('docker', ['image', 'rm', first.tag])
const cold = await buildImage()
note('imageColdMs', 'emulator image, cold (base cached)', cold.ms.base + cold.ms.image)
const warm = await buildImage()
// Someone editing the checkout between the two builds makes the second one a rebuild: say which.
note('imageCachedMs', `emulator image, second build (${warm.cached ? 'reused' : 'rebuilt: sources changed'})`, warm.ms.base + warm.ms.image)
result.imageBytes = Number((await timed('docker', ['image', 'inspect', '--format', '{{.Size}}', cold.tag])).out.trim())

// 4. Container start to ready line (wrangler build inside included).
const started = performance.now()
const id = (await timed('docker', ['run', '-d', '-p', '127.0.0.1::8787', '-v', `${path.join(PROJECT_ROOT, 'server')}:/srv/mcp-harness/worker:ro`, cold.tag])).out.trim()
for (;;) {
  const logs = (await timed('docker', ['logs', id])).out
  if (logs.includes('"control":{"url"')) break
  if (performance.now() - started > 120_000) throw new Error(`container not ready in 120 s:\n${logs.slice(-2000)}`)
  await new Promise((resolve) => setTimeout(resolve, 100))
}
note('containerReadyMs', 'container start → ready line', performance.now() - started)
await timed('docker', ['rm', '-f', id])

// 5. The lanes as npm test runs them (image cached).
note('pytestMs', 'pytest python/tests (incl. container lane)', (await timed(path.join(venv, 'bin', 'python'), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], path.join(PROJECT_ROOT, 'python'), { ...process.env, PATH: `${path.join(PROJECT_ROOT, 'node_modules', '.bin')}:${process.env.PATH}` })).ms)
note('containerScenarioMs', 'vitest scenarios/container', (await timed('npx', ['vitest', 'run', 'scenarios/container'])).ms)
await rm(tmp, { recursive: true, force: true })

const file = await writeResult('python-container', { ...result })
console.log(markdownTable(['step', 'seconds', ''], rows))
console.log(`\nbase image ${(result.baseImageBytes / 1e6).toFixed(1)} MB, emulator image ${(result.imageBytes / 1e6).toFixed(0)} MB${result.debootstrapBytes ? `, debootstrap rootfs ${(result.debootstrapBytes / 1e6).toFixed(0)} MB` : ''}\nWrote ${file}`)
