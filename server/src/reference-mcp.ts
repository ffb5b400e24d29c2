import { McpAgent } from 'agents/mcp'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker'
import { z } from 'zod'
import { registerConformanceFixtures } from './conformance-fixtures'
import { sleep } from './fixtures'
import { SERVER_NAME, transportPaths, type Env } from './env'

type State = { counter: number }

/** Where the subscribed resource URIs live in Durable Object storage (they survive hibernation). */
const SUBSCRIPTIONS_KEY = 'resource-subscriptions'

/**
 * The reference McpAgent: the tools every scenario relies on, one resource, one prompt, and the
 * fixtures the official conformance suite expects.
 */
export class ReferenceMcp extends McpAgent<Env, State, Record<string, unknown>> {
  // KI-30: the SDK's default AJV validator compiles code, which Workers forbid; elicitation
  // results are validated with the cfworker validator instead.
  server = new McpServer(
    { name: SERVER_NAME, version: '0.1.0' },
    {
      capabilities: { logging: {}, completions: {}, resources: { subscribe: true, listChanged: true } },
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    },
  )
  initialState: State = { counter: 0 }
  // KI-11: deliberately kept in memory so that hibernation visibly loses it.
  memo = 0

  async init() {
    const server = this.server
    server.registerTool(
      'add',
      { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
    )
    server.registerTool(
      'counter',
      { description: 'Increments a count kept in Durable Object state (survives hibernation)' },
      async () => {
        this.setState({ counter: (this.state?.counter ?? 0) + 1 })
        return { content: [{ type: 'text', text: String(this.state.counter) }] }
      },
    )
    server.registerTool(
      'memo',
      { description: 'Increments a count kept in an instance field (lost on hibernation, KI-11)' },
      async () => {
        this.memo += 1
        return { content: [{ type: 'text', text: String(this.memo) }] }
      },
    )
    server.registerTool(
      'slow',
      {
        description: 'Sends one notifications/progress per step, waiting ms between steps, then returns "done"',
        inputSchema: {
          steps: z.number().int().min(1).max(1000),
          ms: z.number().int().min(0).max(600_000),
        },
      },
      async ({ steps, ms }, extra) => {
        const progressToken = extra._meta?.progressToken
        for (let step = 1; step <= steps; step++) {
          await sleep(ms)
          // Progress is only sent when the client asked for it with a progressToken.
          if (progressToken !== undefined) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken, progress: step, total: steps, message: `step ${step} of ${steps}` },
            })
          }
        }
        return { content: [{ type: 'text', text: 'done' }] }
      },
    )
    server.registerTool(
      'elicit_name',
      { description: 'Asks the client for a name (form elicitation) and greets it' },
      async (extra) => {
        // The SDK's elicitInput (not McpAgent's) validates the answer against the schema: KI-30.
        const result = await server.server.elicitInput(
          {
            mode: 'form',
            message: 'What is your name?',
            requestedSchema: {
              type: 'object',
              properties: { name: { type: 'string', title: 'Name', minLength: 1 } },
              required: ['name'],
            },
          },
          { relatedRequestId: extra.requestId },
        )
        if (result.action === 'decline') return { content: [{ type: 'text', text: 'declined' }] }
        if (result.action === 'cancel') return { content: [{ type: 'text', text: 'cancelled' }] }
        return { content: [{ type: 'text', text: `Hello, ${String(result.content?.name)}` }] }
      },
    )
    server.registerTool(
      'sample',
      { description: "Asks the client for a sampling completion and returns the completion's text", inputSchema: { prompt: z.string() } },
      async ({ prompt }, extra) => {
        const result = await server.server.createMessage(
          { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 200 },
          { relatedRequestId: extra.requestId },
        )
        const blocks = Array.isArray(result.content) ? result.content : [result.content]
        const text = blocks.map((block) => (block.type === 'text' ? block.text : '')).join('')
        return { content: [{ type: 'text', text }] }
      },
    )
    server.registerTool('whoami', { description: 'Returns the props this session carries ({} when unauthenticated)' }, async () => ({
      content: [{ type: 'text', text: JSON.stringify(this.props ?? {}) }],
    }))

    server.registerResource(
      'reference-info',
      'reference://info',
      { title: 'Reference server info', description: 'Name, version and transports of this server', mimeType: 'application/json' },
      async (uri) => ({
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ name: SERVER_NAME, version: this.env.SERVER_VERSION, transports: transportPaths() }),
          },
        ],
      }),
    )
    server.registerPrompt(
      'greet',
      { title: 'Greet', description: 'Asks the model to greet someone by name', argsSchema: { name: z.string() } },
      ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Please greet ${name} warmly.` } }] }),
    )

    server.registerTool(
      'test_reconnection',
      {
        description:
          'Closes its own SSE stream mid-call (SEP-1699); the result reaches a client that resumes with Last-Event-ID',
        inputSchema: {},
      },
      async (_args, extra) => {
        // One event first, so the client holds an id to resume from.
        await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'closing the stream' } })
        for (const connection of this.getConnections<{ requestIds?: (string | number)[] }>()) {
          if (connection.state?.requestIds?.includes(extra.requestId)) connection.close(1000, 'test_reconnection closes the stream')
        }
        await sleep(100)
        return { content: [{ type: 'text', text: 'Reconnection test completed successfully.' }] }
      },
    )

    registerConformanceFixtures(server, {
      subscribe: async (uri) => {
        const current = (await this.ctx.storage.get<string[]>(SUBSCRIPTIONS_KEY)) ?? []
        if (!current.includes(uri)) await this.ctx.storage.put(SUBSCRIPTIONS_KEY, [...current, uri])
      },
      unsubscribe: async (uri) => {
        const current = (await this.ctx.storage.get<string[]>(SUBSCRIPTIONS_KEY)) ?? []
        await this.ctx.storage.put(
          SUBSCRIPTIONS_KEY,
          current.filter((entry) => entry !== uri),
        )
      },
    })
  }
}
