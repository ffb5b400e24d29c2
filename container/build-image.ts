// Builds the emulator image from this checkout, cached by a hash of its inputs.
// Usage: node container/build-image.ts   (prints the image tag on stdout)
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** Project root (the folder holding package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Image repository name; the tag is a hash of the inputs. */
export const IMAGE_REPOSITORY = 'mcp-harness'
/** Folders of this checkout the image carries (tests excluded). */
const SOURCE_DIRS = ['core', 'emulator', 'recordings', 'bin', 'container']

export interface ImageBuild {
  tag: string
  base: string
  cached: boolean
  ms: { base: number; image: number }
}

/** True when a Docker engine answers on this machine. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 })
    return true
  } catch {
    return false
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(rel)))
    else if (entry.isFile() && !/\.test\.ts$/.test(entry.name)) out.push(rel)
  }
  return out
}

/** Production packages of this checkout (npm's own view), so devDependencies stay out of the image. */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: PROJECT_ROOT, maxBuffer: 64 << 20 }).catch(
    // npm ls exits 1 on peer warnings while still printing the tree.
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  )
  const dirs = [
    ...new Set(
      stdout
        .split('\n')
        .map((line) => path.relative(PROJECT_ROOT, line.trim()))
        .filter((rel) => rel.startsWith('node_modules')),
    ),
  ].sort()
  // A nested package travels with its parent's folder.
  return dirs.filter((dir, i) => !dirs.slice(0, i).some((parent) => dir.startsWith(`${parent}${path.sep}`)))
}

async function sh(command: string, args: string[], input?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk))
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk))
    if (input && child.stdin) input.pipe(child.stdin)
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${err.slice(-3000)}`))))
  })
}

/**
 * Builds (or reuses) the base image and the emulator image.
 * @example const { tag } = await buildImage()
 */
export async function buildImage(): Promise<ImageBuild> {
  // The TypeScript and Python container lanes may ask at once: one builds, the other reuses.
  const release = await lock(path.join(os.tmpdir(), 'mcp-harness-image-build.lock'))
  try {
    return await buildImageUnlocked()
  } finally {
    await release()
  }
}

async function lock(dir: string, timeoutMs = 600_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await mkdir(dir)
      return () => rm(dir, { recursive: true, force: true })
    } catch {
      // A lock older than the timeout belongs to a build that died.
      const age = await stat(dir).then((s) => Date.now() - s.mtimeMs, () => 0)
      if (age > timeoutMs) await rm(dir, { recursive: true, force: true })
      if (Date.now() > deadline) throw new Error(`Failed to build the image: ${dir} stayed locked for ${timeoutMs / 1000} s. Remove it if no build is running.`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

async function buildImageUnlocked(): Promise<ImageBuild> {
  const t0 = performance.now()
  const base = (await sh('bash', [path.join(PROJECT_ROOT, 'container', 'build-base.sh')])).split('\n').pop()!
  const t1 = performance.now()
  const sources = (await Promise.all(SOURCE_DIRS.map(listFiles))).flat().sort()
  const packages = await productionPackages()
  const hash = createHash('sha256').update(base)
  for (const file of ['package.json', 'package-lock.json', ...sources]) hash.update(file).update(await readFile(path.join(PROJECT_ROOT, file)))
  hash.update(packages.join('\n'))
  const tag = `${IMAGE_REPOSITORY}:${hash.digest('hex').slice(0, 12)}`
  const exists = await sh('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).then(
    () => true,
    () => false,
  )
  if (!exists) {
    // The build context is a tar stream of exactly these paths: no .dockerignore to keep in step.
    const tar = spawn('tar', ['-c', '--exclude=node_modules/.cache', '--exclude=*.test.ts', '-f', '-', 'package.json', ...SOURCE_DIRS, ...packages, 'node_modules/.bin'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await sh('docker', ['build', '-q', '--build-arg', `BASE=${base}`, '-f', 'container/Dockerfile', '-t', tag, '-'], tar.stdout)
    // Each build carries a ~700 MB layer: drop older builds (one still in use stays, docker refuses).
    const tags = (await sh('docker', ['images', IMAGE_REPOSITORY, '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').filter((t) => t && t !== tag)
    for (const old of tags) await sh('docker', ['image', 'rm', old]).catch(() => {})
  }
  return { tag, base, cached: exists, ms: { base: Math.round(t1 - t0), image: Math.round(performance.now() - t1) } }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const build = await buildImage()
  console.error(`[mcp-harness] image ${build.tag} (base ${build.base}) ${build.cached ? 'reused' : 'built'} in ${build.ms.base + build.ms.image} ms`)
  console.log(build.tag)
}
