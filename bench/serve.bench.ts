/**
 * Time to ready: from starting `mcp-harness serve` to its ready line, against `wrangler dev` to its
 * "Ready on" line, on the same Worker with the same wrangler, measured in the same run, interleaved,
 * after one warm-up start each (the harness's build cache, wrangler's .wrangler folder and the OS
 * file cache warm). Workers: the reference server (server/wrangler.jsonc) and the Worker project a
 * user installs the package into (scenarios/fixtures/installed-worker, with its harness config).
 *
 * The harness runs as a user gets it: the compiled CLI (`dist/`, rebuilt first unless --no-build),
 * not the TypeScript sources. Its ready line comes after the endpoint probe (the banner lists only
 * endpoints that answer); wrangler's "Ready on" comes before any request. Per harness start, the
 * times at which its progress lines appear on stderr give the phases: process start to "Building"
 * (Node, the harness's modules, the harness config, the wrangler config), the build check, the
 * runtime (Miniflare and workerd), the probe.
 * @example npm run bench -- serve              # 5 interleaved starts per Worker and tool
 * @example npm run bench -- serve --runs 9 --no-build
 * @example npm run bench -- serve --harness ../before/dist/cli/cli.js --out serve-before
 */
import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { freePort } from '../scenarios/helpers/targets.ts'
import { markdownTable, round, summarize, writeResult } from './lib.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-build': { type: 'boolean' }, harness: { type: 'string' }, out: { type: 'string', default: 'serve' } } })
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`[bench] --runs must be a positive integer, got "${values.runs}"`)
  process.exit(1)
}
const GOAL = 0.7
const START_TIMEOUT_MS = 180_000

const wranglerBin = path.join(path.dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js')
// --harness: another build's CLI (e.g. an earlier commit's dist/cli/cli.js) for a before/after comparison.
const harnessCli = values.harness ? path.resolve(values.harness) : path.join(root, 'dist/cli/cli.js')
// Both tools quiet and offline: no metrics, no update check, no request.cf download, no colours.
const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false', FORCE_COLOR: '0', NO_COLOR: '1', CI: '1' }

const workers = [
  { name: 'reference server', dir: path.join(root, 'server'), config: 'wrangler.jsonc' },
  { name: 'installed-worker fixture', dir: path.join(root, 'scenarios/fixtures/installed-worker'), config: 'wrangler.jsonc' },
] as const

interface Start {
  readyMs: number
  /** Milliseconds from spawn to the first line matching each progress pattern. */
  lines: Record<string, number>
}

/**
 * Spawns a server in its own process group, resolves when `ready` matches its output, then stops
 * the whole group (workerd included) and waits for it to exit.
 */
async function timeStart(args: string[], cwd: string, ready: RegExp, progress: Record<string, RegExp>): Promise<Start> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  const lines: Record<string, number> = {}
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      const onData = (chunk: Buffer) => {
        const at = performance.now() - started
        output += chunk.toString()
        for (const [name, pattern] of Object.entries(progress)) if (lines[name] === undefined && pattern.test(output)) lines[name] = at
        if (ready.test(output)) {
          clearTimeout(timer)
          resolve(at)
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`exited with code ${code} before its ready line`))
      })
    })
    return { readyMs, lines }
  } catch (error) {
    throw new Error(`${path.basename(args[0]!)} ${args[1]} in ${path.relative(root, cwd)}: ${(error as Error).message}\n${output.slice(-3000)}`)
  } finally {
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))
    try {
      process.kill(-child.pid!, 'SIGTERM')
    } catch {
      // Already gone.
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }, 10_000)
    await exited
    clearTimeout(killer)
  }
}

async function harnessStart(dir: string, config: string): Promise<Start> {
  return timeStart([harnessCli, 'serve', '--config', config, '--port', String(await freePort())], dir, /mcp-harness: serving /, {
    building: /^Building /m,
    buildChecked: /^(Reused the previous build|Built in)/m,
    serving: /^Serving /m,
  })
}

async function wranglerStart(dir: string, config: string): Promise<Start> {
  const args = [wranglerBin, 'dev', '--config', config, '--ip', '127.0.0.1', '--port', String(await freePort()), '--inspector-port', String(await freePort()), '--show-interactive-dev-session=false']
  return timeStart(args, dir, /Ready on http/, {})
}

if (!values['no-build'] && !values.harness) {
  const built = await new Promise<number | null>((resolve) => spawn(process.execPath, [path.join(root, 'scripts/build.ts')], { cwd: root, stdio: 'inherit' }).on('exit', resolve))
  if (built !== 0) {
    console.error('[bench] npm run build failed')
    process.exit(1)
  }
}

const results: Record<string, { harness: Start[]; wrangler: Start[] }> = {}
try {
  for (const worker of workers) {
    const samples = (results[worker.name] = { harness: [] as Start[], wrangler: [] as Start[] })
    // Warm-up: fills the harness's build and config caches, wrangler's .wrangler folder, the OS file cache.
    await harnessStart(worker.dir, worker.config)
    await wranglerStart(worker.dir, worker.config)
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always follows the other's exit.
      if (i % 2 === 0) {
        samples.harness.push(await harnessStart(worker.dir, worker.config))
        samples.wrangler.push(await wranglerStart(worker.dir, worker.config))
      } else {
        samples.wrangler.push(await wranglerStart(worker.dir, worker.config))
        samples.harness.push(await harnessStart(worker.dir, worker.config))
      }
    }
  }
} catch (error) {
  console.error(`[bench] ${(error as Error).message}`)
  process.exit(1)
}

const phasesOf = (starts: Start[]) => {
  const phase = (from: string | undefined, to: string | undefined) =>
    summarize(starts.map((start) => (to ? start.lines[to]! : start.readyMs) - (from ? start.lines[from]! : 0))).p50
  return {
    'process start to "Building" (Node, harness modules, harness + wrangler config)': phase(undefined, 'building'),
    'build check': phase('building', 'buildChecked'),
    'runtime (Miniflare + workerd) and front door': phase('buildChecked', 'serving'),
    'endpoint probe and banner': phase('serving', undefined),
  }
}
const table: (string | number)[][] = []
const data: Record<string, unknown> = {}
for (const [name, samples] of Object.entries(results)) {
  const harness = summarize(samples.harness.map((start) => start.readyMs))
  const wrangler = summarize(samples.wrangler.map((start) => start.readyMs))
  const ratio = Math.round((harness.p50 / wrangler.p50) * 100) / 100
  data[name] = { harnessReadyMs: harness, wranglerReadyMs: wrangler, ratio, harnessPhasesMsP50: phasesOf(samples.harness) }
  table.push([name, round(harness.p50 / 1000), round(harness.p95 / 1000), round(wrangler.p50 / 1000), round(wrangler.p95 / 1000), ratio])
}
const file = await writeResult(values.out!, { runs, goal: GOAL, ...(values.harness ? { harness: path.relative(root, harnessCli) } : {}), workers: data })
console.log(markdownTable(['Worker', 'mcp-harness serve p50 (s)', 'p95 (s)', 'wrangler dev p50 (s)', 'p95 (s)', `ratio (goal <= ${GOAL})`], table))
for (const [name, entry] of Object.entries(data)) console.log(`\n${name}, harness phases (p50 ms): ${JSON.stringify((entry as { harnessPhasesMsP50: unknown }).harnessPhasesMsP50)}`)
console.log(`\n${path.relative(process.cwd(), file)}; machine load ${os.loadavg().map(round).join(' ')}`)
