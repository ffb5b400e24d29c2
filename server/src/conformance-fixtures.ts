import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { completable } from '@modelcontextprotocol/sdk/server/completable.js'
import {
  ListToolsRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ElicitRequestFormParams,
  type ListToolsResult,
} from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { PNG_1X1_BASE64, WAV_SILENCE_BASE64, sleep } from './fixtures'

/** Where resource subscriptions are kept; the McpAgent stores them in Durable Object storage. */
export interface SubscriptionStore {
  subscribe(uri: string): Promise<void>
  unsubscribe(uri: string): Promise<void>
}

/** SEP-1613: a tool whose input schema uses JSON Schema 2020-12 keywords that must reach the client intact. */
export const JSON_SCHEMA_2020_12_TOOL = 'json_schema_2020_12_tool'
/** The input schema that tool advertises, verbatim (`$schema`, `$defs`, `additionalProperties`). */
export const JSON_SCHEMA_2020_12_INPUT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } },
  },
  properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
  additionalProperties: false,
} as const

/**
 * Registers the tools, resources and prompts that `@modelcontextprotocol/conformance` (server mode)
 * calls by name (`test_simple_text`, `test://static-text`, `test_simple_prompt`, ...).
 * @example registerConformanceFixtures(this.server, subscriptions)
 */
export function registerConformanceFixtures(server: McpServer, subscriptions: SubscriptionStore): void {
  const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] })

  /* Tools */
  server.registerTool('test_simple_text', { description: 'Returns one text block' }, async () =>
    text('This is a simple text response for testing.'),
  )
  server.registerTool('test_image_content', { description: 'Returns one image block (1x1 PNG)' }, async () => ({
    content: [{ type: 'image', data: PNG_1X1_BASE64, mimeType: 'image/png' }],
  }))
  server.registerTool('test_audio_content', { description: 'Returns one audio block (WAV)' }, async () => ({
    content: [{ type: 'audio', data: WAV_SILENCE_BASE64, mimeType: 'audio/wav' }],
  }))
  server.registerTool('test_embedded_resource', { description: 'Returns one embedded text resource' }, async () => ({
    content: [
      { type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } },
    ],
  }))
  server.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource blocks' }, async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_1X1_BASE64, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
      },
    ],
  }))
  server.registerTool('test_tool_with_logging', { description: 'Sends three log notifications while it runs', inputSchema: {} }, async (_args, extra) => {
    for (const [index, data] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
      if (index > 0) await sleep(20)
      // Related to the request, so the messages travel on the tool call's own stream.
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', logger: 'reference', data } })
    }
    return text('Tool with logging executed successfully')
  })
  server.registerTool('test_tool_with_progress', { description: 'Sends progress 0, 50, 100 of 100', inputSchema: {} }, async (_args, extra) => {
    const progressToken = extra._meta?.progressToken
    if (progressToken !== undefined) {
      for (const progress of [0, 50, 100]) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 100, message: `${progress}%` } })
        if (progress < 100) await sleep(20)
      }
    }
    return text(String(progressToken ?? 'no progress token'))
  })
  server.registerTool('test_error_handling', { description: 'Always fails with isError: true' }, async () => {
    throw new Error('This tool intentionally returns an error for testing')
  })
  server.registerTool(
    'test_sampling',
    { description: 'Asks the client for a sampling completion', inputSchema: { prompt: z.string() } },
    async ({ prompt }, extra) => {
      const result = await server.server.createMessage(
        { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        { relatedRequestId: extra.requestId },
      )
      const blocks = Array.isArray(result.content) ? result.content : [result.content]
      return text(`LLM response: ${blocks.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('')}`)
    },
  )
  const elicit = async (params: ElicitRequestFormParams, requestId: string | number, label: string) => {
    const result = await server.server.elicitInput(params, { relatedRequestId: requestId })
    return text(`${label}: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)
  }
  server.registerTool(
    'test_elicitation',
    { description: 'Asks the client for a username and email (form elicitation)', inputSchema: { message: z.string() } },
    async ({ message }, extra) =>
      elicit(
        {
          mode: 'form',
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
        extra.requestId,
        'User response',
      ),
  )
  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits a form whose primitive fields carry defaults (SEP-1034)', inputSchema: {} },
    async (_args, extra) =>
      elicit(
        {
          mode: 'form',
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
            required: [],
          },
        },
        extra.requestId,
        'Elicitation completed',
      ),
  )
  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits a form with the five enum shapes of SEP-1330', inputSchema: {} },
    async (_args, extra) =>
      elicit(
        {
          mode: 'form',
          message: 'Please select options from the enum fields',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
              titledSingle: {
                type: 'string',
                description: 'Select one option with titles',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Select one option (legacy)',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Select multiple options',
                minItems: 1,
                maxItems: 3,
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Select multiple options with titles',
                minItems: 1,
                maxItems: 3,
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
            required: [],
          },
        },
        extra.requestId,
        'Elicitation completed',
      ),
  )
  server.registerTool(
    JSON_SCHEMA_2020_12_TOOL,
    {
      description: 'Takes input described with JSON Schema 2020-12 keywords (SEP-1613)',
      inputSchema: { name: z.string().optional(), address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional() },
    },
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  )
  advertiseInputSchema(server, JSON_SCHEMA_2020_12_TOOL, JSON_SCHEMA_2020_12_INPUT)

  /* Resources */
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'A static text resource', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  )
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'A static binary resource (PNG)', mimeType: 'image/png' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1X1_BASE64 }] }),
  )
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Template', description: 'A resource template with an id parameter', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }],
    }),
  )
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  )
  // McpServer has no subscription API; the low-level Server takes the handlers.
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    await subscriptions.subscribe(request.params.uri)
    return {}
  })
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    await subscriptions.unsubscribe(request.params.uri)
    return {}
  })

  /* Prompts */
  server.registerPrompt('test_simple_prompt', { title: 'Simple prompt', description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }))
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt with arguments',
      description: 'A prompt with two required arguments',
      argsSchema: {
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['paris', 'park', 'party', 'test', 'testing'].filter((candidate) => candidate.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      },
    },
    ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
  )
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    { title: 'Prompt with embedded resource', description: 'A prompt that embeds a resource', argsSchema: { resourceUri: z.string() } },
    ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  )
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt with image', description: 'A prompt that includes an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_1X1_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }))
}

type RequestHandler = (request: unknown, extra: unknown) => Promise<ListToolsResult>

/**
 * Makes `tools/list` advertise `jsonSchema` for one tool, verbatim.
 * @note SDK v1's McpServer turns zod into draft-07 JSON Schema, which drops `$schema`, `$defs` and
 * `additionalProperties` (SEP-1613); the tool still validates its arguments with its zod schema.
 */
function advertiseInputSchema(server: McpServer, toolName: string, jsonSchema: Record<string, unknown>): void {
  // The SDK's own tools/list handler, kept to list every other tool unchanged.
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, RequestHandler> })._requestHandlers
  const sdkListTools = handlers.get('tools/list')
  if (!sdkListTools) throw new Error(`Failed to advertise the schema of ${toolName}: register a tool first.`)
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const result = await sdkListTools(request, extra)
    return {
      ...result,
      tools: result.tools.map((tool) => (tool.name === toolName ? { ...tool, inputSchema: jsonSchema as ListToolsResult['tools'][number]['inputSchema'] } : tool)),
    }
  })
}
