import { parseHeaderFlags, UsageError, type CliCommand } from './command.ts'

/** `mcp-harness parity`: the same scenarios on several targets, compared; exit 1 on a difference not in the baseline. */
export const parityCommand: CliCommand = {
  summary: 'Run the same scenarios on the emulator, wrangler dev, wrangler dev --remote or a URL and show where they differ',
  usage: '--targets emulator,wrangler-dev[,remote][,container][,url=<url>] [--config path] [--suite lifecycle,protocol,stateless,hibernation] [--header "Name: value"] [--baseline file] [--json] [--out dir]',
  options: {
    config: { type: 'string', short: 'c', value: 'path', description: 'wrangler.jsonc / .json / .toml, or its folder: what emulator, wrangler-dev, remote and container serve', default: '.' },
    targets: { type: 'string', short: 't', value: 'list', description: 'comma-separated targets; the first is the reference the others are compared with', default: 'emulator,wrangler-dev' },
    suite: { type: 'string', short: 's', value: 'list', description: 'comma-separated suites: lifecycle, protocol, stateless, hibernation (slow: waits past real idle eviction)', default: 'lifecycle,protocol,stateless' },
    header: { type: 'string', short: 'H', value: 'Name: value', description: 'a header for url= targets, e.g. "Authorization: Bearer <token>" (repeatable; never printed)', multiple: true },
    baseline: { type: 'string', value: 'file', description: 'accepted differences (default: parity-baseline.yml here or beside the config, if present)' },
    'no-baseline': { type: 'boolean', description: 'ignore any baseline: every difference fails' },
    'idle-wait': { type: 'string', value: 'ms', description: 'how long hibernation scenarios wait for idle eviction on targets other than the emulator', default: '12000' },
    json: { type: 'boolean', description: 'print the report as JSON' },
    out: { type: 'string', value: 'dir', description: 'write report.json, report.txt and every normalized run there' },
  },
  details: [
    'Each scenario runs on every target with the same scripted clients (MCP SDK clients and raw HTTP);',
    'what the client saw is normalized (ids, origins, timing, unimportant headers) and compared with the first target.',
    'remote needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (skipped without them).',
    'Exit code: 0 when every difference is baselined and no baseline entry is stale, 1 otherwise, 2 on a usage error.',
    'Examples:',
    '  mcp-harness parity --config wrangler.jsonc --targets emulator,wrangler-dev',
    '  mcp-harness parity --targets emulator,url=https://my-mcp.example.workers.dev -H "Authorization: Bearer $TOKEN"',
    '  mcp-harness parity --targets emulator,wrangler-dev --suite hibernation',
  ].join('\n'),
  async run({ values, stdout, stderr }) {
    const list = (value: unknown) =>
      String(value)
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    const targets = list(values.targets)
    if (targets.length < 2) throw new UsageError(`--targets needs at least two targets to compare, got "${values.targets}".`)
    const idleWaitMs = Number(values['idle-wait'])
    if (!Number.isInteger(idleWaitMs) || idleWaitMs <= 0) throw new UsageError(`Invalid --idle-wait "${values['idle-wait']}": expected a positive number of milliseconds.`)
    if (values.baseline && values['no-baseline']) throw new UsageError('Give either --baseline or --no-baseline, not both.')
    const headers = parseHeaderFlags((values.header as unknown as string[] | undefined) ?? [])
    // wrangler prints notes with console.log: stdout is for the report.
    console.log = console.info = (...args: unknown[]) => console.error(...args)
    const { parity } = await import('../scenarios/parity/index.ts')
    const report = await parity({
      config: String(values.config),
      targets,
      suites: list(values.suite),
      headers,
      baseline: values['no-baseline'] ? false : (values.baseline as string | undefined),
      out: values.out as string | undefined,
      idleWaitMs,
      onProgress: (line) => stderr.write(`${line}\n`),
    })
    const { text, ...json } = report
    stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : text)
    if (report.exitCode !== 0 && process.env.MCP_HARNESS_REPORT !== 'off' && report.scenarios.some((s) => Object.values(s.cells).some((c) => c.difference))) {
      const { writeReportFile } = await import('../report/on-failure.ts')
      stderr.write(`[mcp-harness] report: ${writeReportFile(json, `parity ${report.worker}`)}\n`)
    }
    return report.exitCode
  },
}
