/** The files `mcp-harness init` writes, as functions of what it detected in the Worker project. */
import { isUpstreamName } from '../emulator/config-file.ts'
import { UPSTREAM_PROVIDER_NAMES } from '../emulator/plugins/upstream/plugin.ts'

/** What `init` found in a Worker project. */
export interface Detected {
  /** The wrangler config file name, relative to the project. */
  wranglerConfig: string
  /** The Worker's entry module, relative to the project. */
  main: string
  /** Streamable HTTP endpoints: path, and whether the server keeps no session (createMcpHandler). */
  streamable: { path: string; stateless: boolean }[]
  /** Legacy SSE endpoints. */
  sse: string[]
  auth: { kind: 'none' } | { kind: 'bearer' } | { kind: 'oauth'; upstream?: string }
  /** Tool names registered in the source, in order of appearance. */
  tools: string[]
  /** Source files scanned, relative to the project. */
  scanned: string[]
}

/** The tool the first test calls: a common harmless one when present, else the first registered. */
export function preferredTool(tools: string[]): string | undefined {
  return ['add', 'echo', 'ping', 'hello'].find((name) => tools.includes(name)) ?? tools[0]
}

export function harnessConfigTemplate(detected: Detected): string {
  const lines = [
    "import { defineConfig } from 'mcp-harness'",
    '',
    '// Read by `npx mcp-harness serve`, by createEmulator() and by the pytest plugin; flags and explicit',
    '// options override it. `npx mcp-harness serve --print-config` shows the merged result.',
    'export default defineConfig({',
    `  config: './${detected.wranglerConfig}',`,
    '  // Bindings on top of wrangler\'s vars and .dev.vars (secrets are never printed):',
    "  // vars: { GREETING: 'hello' },",
    "  // secrets: { API_TOKEN: 'test-token' },",
    "  // envFile: '.env.test',",
  ]
  if (detected.auth.kind === 'oauth') {
    // Only a provider the harness can mock goes into the config (it is validated when read).
    const provider = detected.auth.upstream && isUpstreamName(detected.auth.upstream) ? detected.auth.upstream : undefined
    lines.push(
      provider
        ? `  // The Worker signs users in with ${provider}: the harness answers ${provider}'s endpoints itself (no network).`
        : `  // The Worker uses OAuthProvider${detected.auth.upstream ? ` with ${detected.auth.upstream}, which has no mock yet` : ''}; name an upstream to mock (${UPSTREAM_PROVIDER_NAMES.join(', ')}):`,
      provider
        ? `  upstream: { providers: [{ provider: '${provider}'${provider === 'oidc' ? ", issuer: 'https://your-issuer.example'" : ''}, users: [{ id: 1, login: 'alice', email: 'alice@example.com' }] }] },`
        : "  // upstream: { providers: ['github'] },",
      "  // The mock's OAuth app is client id 'test-client-id', secret 'test-client-secret': give the Worker the same,",
      "  // e.g. secrets: { GITHUB_CLIENT_ID: 'test-client-id', GITHUB_CLIENT_SECRET: 'test-client-secret' }.",
    )
  } else {
    lines.push("  // upstream: { providers: ['github'] }, // mocked OAuth providers: github, google, oidc")
  }
  lines.push(
    "  // hibernation: 'production', // evict idle Durable Objects after 10 s, as production does",
    '  // timeouts: { scale: 0.01 },  // IoContext limits, 100x faster',
    '})',
    '',
  )
  return lines.join('\n')
}

export function scenarioTestTemplate(detected: Detected): string {
  const endpoints = [
    ...detected.streamable.map((e) => ({ name: e.stateless ? `Streamable HTTP (stateless) ${e.path}` : `Streamable HTTP ${e.path}`, path: e.path, transport: 'streamable' as const })),
    ...detected.sse.map((p) => ({ name: `SSE ${p}`, path: p, transport: 'sse' as const })),
  ]
  const tool = preferredTool(detected.tools)
  const header = [
    '// Written by `npx mcp-harness init`: a first test of this Worker under mcp-harness (its own workerd,',
    '// built by its own wrangler). Edit freely; `npx mcp-harness init --force` writes it again.',
    "import { afterAll, beforeAll, describe, expect, test } from 'vitest'",
  ]
  if (endpoints.length === 0) {
    return [
      ...header,
      "import { createEmulator, type Emulator } from 'mcp-harness'",
      '',
      `// init found no MCP route in ${detected.scanned.join(', ') || detected.main} (it looks for McpAgent.serve(), serveSSE(),`,
      '// createMcpHandler() and Hono app.mount()). This test only checks that the Worker starts and answers.',
      'let emulator: Emulator',
      'beforeAll(async () => {',
      '  emulator = await createEmulator() // reads mcp-harness.config.ts',
      '}, 180_000)',
      'afterAll(() => emulator?.dispose())',
      '',
      "test('the Worker starts under mcp-harness and answers', async () => {",
      "  const response = await emulator.fetch('/')",
      '  await response.body?.cancel()',
      '  expect(response.status).toBeLessThan(500)',
      '})',
      '',
    ].join('\n')
  }
  const usesSse = endpoints.some((e) => e.transport === 'sse')
  const imports = [
    ...header,
    "import { Client } from '@modelcontextprotocol/sdk/client/index.js'",
    "import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'",
    ...(usesSse ? ["import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'"] : []),
    "import { createEmulator, type Emulator } from 'mcp-harness'",
    '',
  ]
  const table = [
    '// The MCP endpoints init found in the source.',
    'const ENDPOINTS = [',
    ...endpoints.map((e) => `  { name: ${JSON.stringify(e.name)}, path: ${JSON.stringify(e.path)}, transport: ${JSON.stringify(e.transport)} },`),
    '] as const',
    '',
    'let emulator: Emulator',
    'beforeAll(async () => {',
    '  emulator = await createEmulator() // reads mcp-harness.config.ts',
    '}, 180_000)',
    'afterAll(() => emulator?.dispose())',
    '',
    'function transportFor(endpoint: (typeof ENDPOINTS)[number]) {',
    '  const url = new URL(endpoint.path, emulator.url)',
    ...(usesSse ? ["  return endpoint.transport === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url)"] : ['  return new StreamableHTTPClientTransport(url)']),
    '}',
    '',
  ]
  if (detected.auth.kind !== 'none') {
    const how =
      detected.auth.kind === 'bearer'
        ? 'The Worker checks a bearer token: pass one with `requestInit: { headers: { authorization: `Bearer ${token}` } }` on the transport (and the token to the Worker with `secrets` in mcp-harness.config.ts).'
        : `The Worker is an OAuthProvider${detected.auth.upstream ? ` signing users in with ${detected.auth.upstream}` : ''}: complete the OAuth flow with the SDK's auth provider against the mocked upstream (see docs/config.md).`
    return [
      ...imports,
      ...table,
      'describe.each(ENDPOINTS)(\'$name\', (endpoint) => {',
      "  test('refuses a client without credentials', async () => {",
      `    const client = new Client({ name: 'mcp-harness-init', version: '1.0.0' })`,
      '    await expect(client.connect(transportFor(endpoint))).rejects.toThrow()',
      '  }, 60_000)',
      '',
      `  // ${how}`,
      "  test.todo('lists and calls the tools with credentials')",
      '})',
      '',
    ].join('\n')
  }
  return [
    ...imports,
    `// The tool the test calls (found in the source: ${detected.tools.slice(0, 8).join(', ') || 'none'}${detected.tools.length > 8 ? ', …' : ''}); its arguments`,
    '// are made up from its input schema: set ARGUMENTS to real ones.',
    `const TOOL = ${JSON.stringify(tool ?? '')}`,
    'const ARGUMENTS: Record<string, unknown> | undefined = undefined',
    '',
    ...table,
    '/** Placeholder arguments for a JSON Schema: the first enum value, 1, "example", true, [] or {}. */',
    'function sampleArguments(schema: { properties?: Record<string, any>; required?: string[] } = {}): Record<string, unknown> {',
    '  const sample = (property: any): unknown => {',
    '    if (Array.isArray(property?.enum)) return property.enum[0]',
    "    if (property?.default !== undefined) return property.default",
    "    const type = Array.isArray(property?.type) ? property.type[0] : property?.type",
    "    if (type === 'number' || type === 'integer') return 1",
    "    if (type === 'boolean') return true",
    "    if (type === 'array') return []",
    "    if (type === 'object') return sampleArguments(property)",
    "    return 'example'",
    '  }',
    '  const out: Record<string, unknown> = {}',
    '  for (const name of schema.required ?? []) out[name] = sample(schema.properties?.[name])',
    '  return out',
    '}',
    '',
    "describe.each(ENDPOINTS)('$name', (endpoint) => {",
    "  test('lists the tools and calls one', async () => {",
    "    const client = new Client({ name: 'mcp-harness-init', version: '1.0.0' })",
    '    await client.connect(transportFor(endpoint))',
    '    try {',
    '      const { tools } = await client.listTools()',
    '      expect(tools.length).toBeGreaterThan(0)',
    '      const tool = tools.find((candidate) => candidate.name === TOOL) ?? tools[0]!',
    '      const result = await client.callTool({ name: tool.name, arguments: ARGUMENTS ?? sampleArguments(tool.inputSchema) })',
    '      expect(result.isError ?? false).toBe(false)',
    '      expect(result.content).toEqual(expect.any(Array))',
    '    } finally {',
    '      await client.close()',
    '    }',
    '  }, 60_000)',
    '})',
    '',
  ].join('\n')
}

/** A vitest config for Node-side tests; `include` narrows it (a second config beside a pool-workers one). */
export function vitestConfigTemplate(include?: string[]): string {
  return [
    "import { defineConfig } from 'vitest/config'",
    '',
    '// Written by `npx mcp-harness init`. mcp-harness tests run in Node (the harness starts workerd itself):',
    '// building a Worker and starting workerd takes seconds, hence the hook timeout.',
    'export default defineConfig({',
    '  test: {',
    ...(include ? [`    include: ${JSON.stringify(include).replace(/"/g, "'")},`] : []),
    '    testTimeout: 60_000,',
    '    hookTimeout: 180_000,',
    '  },',
    '})',
    '',
  ].join('\n')
}
