import { parseHeaderFlags, UsageError, type CliCommand } from './command.ts'
import { formatReport } from '../doctor/format.ts'
import type { DoctorUse } from '../doctor/doctor.ts'

/**
 * The OAuth sign-in `--sign-in` runs: discovery, registration, PKCE, consent, code exchange against
 * the mocked upstream, as `mcp-harness token` does.
 */
export const signInForDoctor: DoctorUse['signIn'] = async (url) => (await (await import('../emulator/sign-in/flow.ts')).signIn(url)).tokens.access_token

import { KNOWN_ISSUES_PAGE } from '../core/known-issues.ts'

/** `mcp-harness doctor`: diagnose a Worker (or a running URL) and a client config; exit 1 on any failure. */
export const doctorCommand: CliCommand = {
  summary: 'Diagnose the known failures of an MCP Worker (or a running URL) and a client config, with cause and fix',
  usage: "[--config path | --url base] [--token t | --header 'Name: value' … | --sign-in] [--client-config file] [--origin https://app.example] [--evict-check tool] [--json]",
  options: {
    config: { type: 'string', short: 'c', value: 'path', description: 'wrangler.jsonc / .json / .toml, or its folder: the doctor builds and starts it (default: . unless --url or only --client-config is given)' },
    url: { type: 'string', short: 'u', value: 'base', description: 'base URL of a running server (emulator, wrangler dev, deployed), e.g. http://127.0.0.1:8787' },
    env: { type: 'string', short: 'e', value: 'name', description: 'wrangler environment (with --config)' },
    'client-config': { type: 'string', value: 'file', description: 'a Claude Desktop / Cursor style JSON config to validate against the server' },
    origin: { type: 'string', value: 'origin', description: 'the browser page origin the CORS checks model', default: 'http://localhost:6274' },
    token: { type: 'string', value: 't', description: 'a bearer token: every MCP probe sends Authorization: Bearer <t>, so the checks behind auth run' },
    header: { type: 'string', value: "'Name: value'", multiple: true, description: 'a header every MCP probe sends, as your client does (repeatable), e.g. an API key' },
    'sign-in': { type: 'boolean', description: 'sign in through the server\'s OAuth flow (mocked upstream) and use that token' },
    'evict-check': { type: 'string', value: 'tool', description: 'a tool whose answer counts calls: call it, evict the session\'s Durable Object, call again (KI-11; needs --config)' },
    timeout: { type: 'string', value: 'ms', description: 'upper bound for each probe, in milliseconds', default: '5000' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  details: [
    'Each finding cites a known-issue id (KI-xx; symptom, cause, fix and the scenario that reproduces each one:',
    'docs/known-issues.md in the mcp-harness package): ✓ ok, ! warn (works, but a known failure is waiting),',
    '✗ fail (a client cannot connect or work, or the Worker cannot start), - skipped (cannot be decided here; says why).',
    'Behind auth: without credentials the checks that need them are skipped and say so; give --token, --header or',
    '--sign-in to run them. Tokens and header values never appear in the report.',
    'Exit code: 0 when nothing failed, 1 when any finding is a failure, 2 on a usage error.',
    'Examples:',
    '  mcp-harness doctor --config server/wrangler.jsonc',
    '  mcp-harness doctor --url http://127.0.0.1:8787/ --token "$API_TOKEN"',
    '  mcp-harness doctor --url http://127.0.0.1:8787 --client-config ~/Library/Application\\ Support/Claude/claude_desktop_config.json',
  ].join('\n'),
  async run({ values, stdout, stderr }) {
    if (values.config && values.url) throw new UsageError('Give either --config or --url, not both.')
    const url = values.url as string | undefined
    if (url && !URL.canParse(url)) throw new UsageError(`Invalid --url "${url}": expected a base URL such as http://127.0.0.1:8787.`)
    const clientConfig = values['client-config'] as string | undefined
    const config = (values.config as string | undefined) ?? (url || clientConfig ? undefined : '.')
    const timeoutMs = Number(values.timeout)
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`Invalid --timeout "${String(values.timeout)}": expected a positive number of milliseconds, e.g. 10000.`)
    const headers = parseHeaderFlags((values.header as string[] | undefined) ?? [])
    const token = values.token as string | undefined
    const signIn = values['sign-in'] === true
    if (signIn && (token || Object.keys(headers).some((name) => name.toLowerCase() === 'authorization'))) throw new UsageError('Give either --sign-in or a token (--token, --header "Authorization: …"), not both.')
    // wrangler prints notes with console.log: keep stdout for the report (JSON with --json).
    console.log = console.info = (...args: unknown[]) => console.error(...args)
    const { runDoctor } = await import('../doctor/doctor.ts')
    const report = await runDoctor(
      { config, url, environment: values.env as string | undefined, clientConfig, origin: String(values.origin), evictCheck: values['evict-check'] as string | undefined, headers, token, signIn, timeoutMs },
      { onProgress: (message) => stderr.write(`${message}\n`), signIn: signInForDoctor },
    )
    stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
    if (!values.json && report.findings.some((item) => item.id !== 'start' && item.status !== 'ok')) {
      stdout.write(`\nEach KI id above, with its symptom, cause, fix and the scenario that reproduces it: ${KNOWN_ISSUES_PAGE} (in the mcp-harness package).\n`)
    }
    return report.summary.fail > 0 ? 1 : 0
  },
}
