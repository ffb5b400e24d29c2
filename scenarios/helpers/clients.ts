import { onTestFinished } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitRequest,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js'

/** The two MCP transports McpAgent serves. */
export type TransportKind = 'streamable-http' | 'sse'
export const TRANSPORTS: TransportKind[] = ['streamable-http', 'sse']

/** Path of each transport on the reference server. */
export const TRANSPORT_PATHS: Record<TransportKind, string> = { 'streamable-http': '/mcp', sse: '/sse' }

export interface ScriptedClientOptions {
  transport: TransportKind
  /** Overrides the path (default: `/mcp` or `/sse`). */
  path?: string
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>
  /** Answers elicitation requests; when set the client declares the `elicitation` capability. */
  onElicit?: (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>
  /** Answers sampling requests; when set the client declares the `sampling` capability. */
  onSample?: (request: CreateMessageRequest) => CreateMessageResult | Promise<CreateMessageResult>
  name?: string
}

export interface ScriptedClient {
  client: Client
  transport: StreamableHTTPClientTransport | SSEClientTransport
  kind: TransportKind
  /** The session id: `mcp-session-id` on Streamable HTTP, the `sessionId` query parameter on SSE. */
  sessionId(): string
  /** The Durable Object name McpAgent uses for this session (`streamable-http:<id>` / `sse:<id>`). */
  objectName(): string
  /** Calls a tool and returns its first text content. */
  text(name: string, args?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

/**
 * Connects the official TypeScript SDK client to a running server, with scripted answers to
 * server-to-client requests. Closed automatically when the test finishes.
 * @example const c = await connectClient(emulator.url, { transport: 'sse' }); await c.text('add', { a: 2, b: 3 })
 */
export async function connectClient(base: URL | string, options: ScriptedClientOptions): Promise<ScriptedClient> {
  const url = new URL(options.path ?? TRANSPORT_PATHS[options.transport], base)
  const requestInit: RequestInit = options.headers ? { headers: options.headers } : {}
  const transport =
    options.transport === 'sse'
      ? new SSEClientTransport(url, {
          requestInit,
          // The SDK's SSE GET goes through eventsource; headers must be added there too.
          eventSourceInit: options.headers
            ? { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...options.headers } }) }
            : undefined,
        })
      : new StreamableHTTPClientTransport(url, { requestInit })
  const capabilities: Record<string, object> = {}
  if (options.onElicit) capabilities.elicitation = { form: {} }
  if (options.onSample) capabilities.sampling = {}
  const client = new Client({ name: options.name ?? 'mcp-harness-scripted', version: '0.1.0' }, { capabilities })
  if (options.onElicit) {
    const onElicit = options.onElicit
    client.setRequestHandler(ElicitRequestSchema, (request) => onElicit(request))
  }
  if (options.onSample) {
    const onSample = options.onSample
    client.setRequestHandler(CreateMessageRequestSchema, (request) => onSample(request))
  }
  await client.connect(transport)
  const sessionId = () => {
    if (transport instanceof StreamableHTTPClientTransport) return transport.sessionId ?? ''
    // The SSE endpoint event names the session in its query string.
    const endpoint = (transport as unknown as { _endpoint?: URL })._endpoint
    return endpoint?.searchParams.get('sessionId') ?? ''
  }
  const scripted: ScriptedClient = {
    client,
    transport,
    kind: options.transport,
    sessionId,
    objectName: () => `${options.transport}:${sessionId()}`,
    async text(name, args) {
      const result = await client.callTool({ name, arguments: args ?? {} })
      const first = (result.content as { type: string; text?: string }[] | undefined)?.find((c) => c.type === 'text')
      return first?.text ?? ''
    },
    close: () => client.close(),
  }
  try {
    onTestFinished(() => client.close().catch(() => {}))
  } catch {
    // Outside a test (beforeAll): the caller closes it.
  }
  return scripted
}
