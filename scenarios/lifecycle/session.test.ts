// Lifecycle of one MCP session on the reference server (issue 2, build item 5 "lifecycle"), run on
// both transports. Spec: https://modelcontextprotocol.io/specification/2025-06-18/basic/lifecycle
import { expect } from 'vitest'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { rawRequest, rpc } from '../helpers/raw.ts'
import { useTarget } from '../helpers/scenario.ts'

const { scenario } = useTarget()

const REFERENCE_TOOLS = ['add', 'counter', 'memo', 'slow', 'elicit_name', 'sample', 'whoami']

scenario('initialize reports the server info and its capabilities', ({ client }) => {
  expect(client.client.getServerVersion()).toMatchObject({ name: 'mcp-harness-reference', version: expect.any(String) })
  const capabilities = client.client.getServerCapabilities()
  expect(capabilities).toMatchObject({ tools: expect.any(Object), resources: expect.any(Object), prompts: expect.any(Object) })
  expect(client.sessionId()).toMatch(/\S+/)
})

scenario('tools/list names every reference tool with an input schema', async ({ client }) => {
  const { tools } = await client.client.listTools()
  const names = tools.map((tool) => tool.name)
  expect(names).toEqual(expect.arrayContaining(REFERENCE_TOOLS))
  const add = tools.find((tool) => tool.name === 'add')
  expect(add?.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } })
})

scenario('resources/list and resources/read serve the reference resource', async ({ client }) => {
  const { resources } = await client.client.listResources()
  expect(resources.map((resource) => resource.uri)).toContain('reference://info')
  const { contents } = await client.client.readResource({ uri: 'reference://info' })
  expect(contents[0]).toMatchObject({ uri: 'reference://info', mimeType: 'application/json' })
  const info = JSON.parse(String((contents[0] as { text: string }).text))
  expect(info).toMatchObject({ name: 'mcp-harness-reference', transports: { mcp: '/mcp', sse: '/sse' } })
})

scenario('prompts/list and prompts/get render the greet prompt with its argument', async ({ client }) => {
  const { prompts } = await client.client.listPrompts()
  expect(prompts.find((prompt) => prompt.name === 'greet')?.arguments).toEqual([expect.objectContaining({ name: 'name', required: true })])
  const { messages } = await client.client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } })
  expect(messages[0]).toMatchObject({ role: 'user', content: { type: 'text', text: expect.stringContaining('Ada') } })
})

scenario('ping answers with an empty result', async ({ client }) => {
  await expect(client.client.ping()).resolves.toEqual({})
})

scenario('two clients get two sessions with separate state', async ({ client, connect }) => {
  const other = await connect()
  expect(other.sessionId()).not.toBe(client.sessionId())
  expect(await client.text('counter')).toBe('1')
  expect(await client.text('counter')).toBe('2')
  expect(await other.text('counter')).toBe('1')
  await other.close()
})

// Spec (Streamable HTTP, session management): after DELETE, requests with that id get 404.
scenario('DELETE ends the session and later requests with its id get 404', { transports: ['streamable-http'] }, async ({ client, baseUrl }) => {
  const sessionId = client.sessionId()
  await (client.transport as StreamableHTTPClientTransport).terminateSession()
  const reply = await rawRequest(new URL('/mcp', baseUrl), { body: rpc(1, 'ping'), sessionId, protocolVersion: '2025-06-18' })
  expect(reply.status).toBe(404)
  expect(reply.messages[0]?.error).toMatchObject({ code: -32001, message: 'Session not found' })
})
