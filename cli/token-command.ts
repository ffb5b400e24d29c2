import { isHarnessError } from '../core/errors.ts'
import { UsageError, type CliCommand } from './command.ts'

/**
 * `mcp-harness token`: signs in to a running server (e.g. `mcp-harness serve --upstream github`)
 * the way a real MCP client does and prints the access token alone on stdout, so that
 * `--header "Authorization: Bearer $(mcp-harness token --url …)"` works in a shell.
 */
export const tokenCommand: CliCommand = {
  summary: 'Sign in to a served OAuth-protected MCP server headless and print an access token',
  usage: '--url <mcp url> [--user login] [--scope s]... [--deny-upstream]',
  options: {
    url: { type: 'string', short: 'u', value: 'mcp url', description: 'the MCP endpoint of a server started with `mcp-harness serve --upstream <provider>`, e.g. http://127.0.0.1:8788/mcp' },
    user: { type: 'string', value: 'login', description: "the mocked upstream user who signs in (login, id or email; default: the provider's first user)" },
    scope: { type: 'string', value: 's', description: 'a scope to ask for; repeat or space-separate for several (default: what the server announces)' },
    json: { type: 'boolean', description: 'print the whole token response as one JSON line instead of the access token alone' },
    'no-javascript': { type: 'boolean', description: 'never start Chromium for consent pages that need JavaScript' },
  },
  details: [
    'Runs: protected-resource metadata, authorization-server metadata, dynamic client registration,',
    'PKCE S256, the consent page (any approval form), the mocked upstream sign-in, the code exchange.',
    'On failure prints one line on stderr naming the step and what the server answered, exit 1.',
    '',
    'Use the token with MCP Inspector:',
    '  npx @modelcontextprotocol/inspector --cli <mcp url> --method tools/list --header "Authorization: Bearer $(npx mcp-harness token --url <mcp url>)"',
  ].join('\n'),
  async run({ values, stdout, stderr }) {
    const raw = values.url
    if (typeof raw !== 'string' || raw === '') throw new UsageError('Missing --url: the MCP endpoint of a served Worker, e.g. --url http://127.0.0.1:8788/mcp.')
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new UsageError(`Invalid --url "${raw}": expected an absolute http(s) URL such as http://127.0.0.1:8788/mcp.`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`Invalid --url "${raw}": expected http or https.`)
    const scopes = typeof values.scope === 'string' ? values.scope.split(/[\s,]+/).filter(Boolean) : undefined
    // Loaded here so that --help and usage errors answer at once.
    const { signIn } = await import('../emulator/sign-in/flow.ts')
    try {
      const { tokens } = await signIn(url, { user: values.user as string | undefined, scopes, javascript: values['no-javascript'] ? 'never' : 'auto' })
      stdout.write(`${values.json ? JSON.stringify(tokens) : tokens.access_token}\n`)
      return 0
    } catch (error) {
      if (!isHarnessError(error)) throw error
      stderr.write(`mcp-harness token: ${error.message.replace(/\s+/g, ' ')}\n`)
      return 1
    }
  },
}
