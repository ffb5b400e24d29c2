/**
 * The time a user waits for a test file: `npx vitest run <file>` in a Worker project, with
 * mcp-harness (`mcp-harness/vitest`, the packed tarball) against `@cloudflare/vitest-plugin`, on the
 * same Worker (scenarios/fixtures/installed-worker) and the same test body (MCP initialize, then
 * `add`; bench/vitest-user/mcp-flow.ts), for a file of 1 test and a file of 20. Runs interleaved,
 * after one warm-up run each (wrangler's build cache and Vite's caches warm).
 *
 * Both runners are installed into a temporary copy of the Worker project, as a user would: the
 * vitest plugin pins its own wrangler and Miniflare, which this repository does not carry.
 * Harness phases come from its performance marks ("mcp-harness:<phase>", see emulator/emulator.ts):
 * the harness's modules, the harness config, the wrangler config (read, or from its cache), the
 * build check, the front door, waiting for Miniflare's module (it loads meanwhile), workerd's boot.
 * @example npm run bench -- vitest            # 3 interleaved runs per case
 * @example npm run bench -- vitest --runs 5 --tarball ./mcp-harness-0.1.0.tgz
 */
import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { markdownTable, round, summarize, writeResult } from './lib.ts'

const VITEST_PLUGIN = '@cloudflare/vitest-plugin@1.5.0'
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, tarball: { type: 'string' }, keep: { type: 'boolean' } } })
const runs = Number(values.runs)

const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'))
env.PATH = [path.dirname(process.execPath), process.env.PATH].join(path.delimiter)
env.NO_COLOR = '1'

function run(command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; ms: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk))
    child.on('close', (code) => resolve({ code, out, ms: performance.now() - started }))
  })
}

async function must(what: string, result: Promise<{ code: number | null; out: string; ms: number }>): Promise<number> {
  const done = await result
  if (done.code !== 0) {
    console.error(`[bench] ${what} exited ${done.code}:\n${done.out.slice(-4000)}`)
    process.exit(1)
  }
  return done.ms
}

const work = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-bench-vitest-'))
const project = path.join(work, 'my-mcp-worker')
try {
  // 1. The package as a user gets it, and a copy of the Worker project with both runners installed.
  let tarball = values.tarball
  if (!tarball) {
    await must('npm pack', run('npm', ['pack', '--pack-destination', work], root))
    tarball = path.join(work, (await readdir(work)).find((name) => name.endsWith('.tgz'))!)
  }
  await cp(path.join(root, 'scenarios/fixtures/installed-worker'), project, { recursive: true })
  await mkdir(path.join(project, 'bench'))
  for (const file of await readdir(path.join(here, 'vitest-user'))) {
    const target = file.startsWith('vitest.') ? path.join(project, file) : path.join(project, 'bench', file)
    await cp(path.join(here, 'vitest-user', file), target)
  }
  const installMs = await must('npm install', run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', path.resolve(tarball), VITEST_PLUGIN], project))
  const versions = JSON.parse((await run('npm', ['ls', '--json', '--depth=0', 'vitest', 'wrangler', '@cloudflare/vitest-plugin', 'mcp-harness'], project)).out) as { dependencies: Record<string, { version: string }> }

  // 2. One warm-up run per case, then `runs` interleaved rounds.
  const cases = [
    { name: 'harness, 1 test', runner: 'harness', file: 'bench/harness-1.test.ts' },
    { name: 'vitest-plugin, 1 test', runner: 'plugin', file: 'bench/plugin-1.test.ts' },
    { name: 'harness, 20 tests', runner: 'harness', file: 'bench/harness-20.test.ts' },
    { name: 'vitest-plugin, 20 tests', runner: 'plugin', file: 'bench/plugin-20.test.ts' },
  ] as const
  const wall: Record<string, number[]> = {}
  const phases: Record<string, Record<string, number[]>> = {}
  const vitest = path.join(project, 'node_modules/vitest/vitest.mjs')
  for (let round_ = -1; round_ < runs; round_++) {
    for (const c of cases) {
      const marksFile = path.join(work, 'marks.json')
      await rm(marksFile, { force: true })
      const result = await run(process.execPath, [vitest, 'run', '--config', `vitest.${c.runner}.config.ts`, c.file], project, { BENCH_MARKS: marksFile })
      if (result.code !== 0) {
        console.error(`[bench] ${c.name} failed:\n${result.out.slice(-4000)}`)
        process.exit(1)
      }
      if (round_ < 0) continue
      ;(wall[c.name] ??= []).push(result.ms)
      const byPhase = (phases[c.name] ??= {})
      // vitest's own summary: "Duration 2.31s (transform 20ms, setup 0ms, import 400ms, tests 1.2s, ...)".
      const duration = /Duration\s+([\d.]+)(m?s)/.exec(result.out)
      if (duration) (byPhase.vitestDurationMs ??= []).push(Number(duration[1]) * (duration[2] === 's' ? 1000 : 1))
      if (c.runner === 'harness') {
        const marks = JSON.parse(await readFile(marksFile, 'utf8')) as Record<string, number>
        const add = (name: string, from: string | undefined, to: string) => {
          if (marks[to] !== undefined) (byPhase[name] ??= []).push(marks[to] - (from ? marks[from]! : 0))
        }
        add('workerStartToImported', undefined, 'imported')
        add('harnessModules', 'imported', 'start')
        add('harnessConfig', 'start', 'harness-config')
        add('configRead', 'harness-config', marks['config-cached'] !== undefined ? 'config-cached' : 'config-read')
        add('buildCheck', marks['config-cached'] !== undefined ? 'config-cached' : 'config-read', marks['build-reused'] !== undefined ? 'build-reused' : 'built')
        add('frontDoor', marks['build-reused'] !== undefined ? 'build-reused' : 'built', 'front-door')
        add('miniflareLoaded', 'front-door', 'miniflare-loaded')
        add('workerdBoot', 'miniflare-loaded', 'workerd-ready')
        add('serving', undefined, 'serving')
        add('tests', 'firstTest', 'testsDone')
      }
    }
  }

  // 3. Results: p50 wall time per case and the harness/plugin ratio (goal <= 0.5).
  const p50 = (name: string) => summarize(wall[name]!).p50
  const ratioOf = (a: string, b: string) => Math.round((p50(a) / p50(b)) * 100) / 100
  const ratio1 = ratioOf('harness, 1 test', 'vitest-plugin, 1 test')
  const ratio20 = ratioOf('harness, 20 tests', 'vitest-plugin, 20 tests')
  const file = await writeResult('vitest', {
    runs,
    versions: Object.fromEntries(Object.entries(versions.dependencies ?? {}).map(([name, dep]) => [name, dep.version])),
    installMs: round(installMs),
    wallMs: Object.fromEntries(Object.entries(wall).map(([name, values_]) => [name, summarize(values_)])),
    ratio: { oneTest: ratio1, twentyTests: ratio20, goal: 0.5 },
    phasesMsP50: Object.fromEntries(Object.entries(phases).map(([name, byPhase]) => [name, Object.fromEntries(Object.entries(byPhase).map(([phase, values_]) => [phase, summarize(values_).p50]))])),
  })
  console.log(
    markdownTable(
      ['test file', 'harness p50 (s)', '@cloudflare/vitest-plugin p50 (s)', 'ratio (goal <= 0.5)'],
      [
        ['1 test', round(p50('harness, 1 test') / 1000), round(p50('vitest-plugin, 1 test') / 1000), ratio1],
        ['20 tests', round(p50('harness, 20 tests') / 1000), round(p50('vitest-plugin, 20 tests') / 1000), ratio20],
      ],
    ),
  )
  console.log('\nharness phases (p50 ms):', JSON.stringify(Object.fromEntries(Object.entries(phases).filter(([name]) => name.startsWith('harness')).map(([name, byPhase]) => [name, Object.fromEntries(Object.entries(byPhase).map(([phase, v]) => [phase, summarize(v).p50]))]))))
  console.log(`\n${path.relative(process.cwd(), file)}; machine load ${os.loadavg().map(round).join(' ')}`)
} finally {
  if (!values.keep) await rm(work, { recursive: true, force: true })
}
