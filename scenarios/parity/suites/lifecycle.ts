// Lifecycle of one MCP session through the official SDK client on both transports: the same steps
// as scenarios/lifecycle/*.test.ts. Spec: https://modelcontextprotocol.io/specification/2025-06-18/basic/lifecycle
import assert from 'node:assert/strict'
import { ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { rpc } from '../context.ts'
import { defineSuite } from './define.ts'

export const lifecycle = defineSuite('lifecycle', 'initialize, tools, resources, prompts, progress, elicitation, sampling and DELETE through the SDK client', (scenario, each) => {
  each('initialize reports server info and capabilities', async (ctx, transport) => {
    const client = await ctx.connect({ transport })
    const version = client.client.getServerVersion()
    assert.ok(version?.name, 'serverInfo.name is missing')
    assert.ok(client.sessionId(), 'no session id')
    const capabilities = client.client.getServerCapabilities() ?? {}
    assert.ok(capabilities.tools, 'the server declares no tools capability')
  })

  each('tools/list then add returns the sum', async (ctx, transport) => {
    const client = await ctx.connect({ transport })
    ctx.step('tools/list')
    const { tools } = await client.client.listTools()
    assert.ok(tools.some((tool) => tool.name === 'add'), `no add tool among ${tools.map((tool) => tool.name).join(', ')}`)
    ctx.step('add')
    assert.equal(await client.text('add', { a: 2, b: 3 }), '5')
  })

  // KI-17: a string where the schema wants a number is a tool error, not a crash.
  each('KI-17: add with a string argument is an error result', async (ctx, transport) => {
    const client = await ctx.connect({ transport })
    const result = await client.client.callTool({ name: 'add', arguments: { a: 'two', b: 3 } })
    assert.equal(result.isError, true)
  })

  each('resources and prompts list and read', async (ctx, transport) => {
    const client = await ctx.connect({ transport })
    ctx.step('resources')
    const { resources } = await client.client.listResources()
    assert.ok(resources.length > 0, 'no resources')
    await client.client.readResource({ uri: resources[0]!.uri })
    ctx.step('prompts')
    const { prompts } = await client.client.listPrompts()
    const greet = prompts.find((prompt) => prompt.name === 'greet')
    assert.ok(greet, 'no greet prompt')
    const { messages } = await client.client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } })
    assert.match(JSON.stringify(messages), /Ada/)
  })

  each('ping answers with an empty result', async (ctx, transport) => {
    const client = await ctx.connect({ transport })
    assert.deepEqual(await client.client.ping(), {})
  })

  each('counter counts per session; memo counts while the object stays in memory', async (ctx, transport) => {
    const one = await ctx.connect({ transport })
    const two = await ctx.connect({ transport })
    assert.notEqual(one.sessionId(), two.sessionId())
    assert.deepEqual([await one.text('counter'), await one.text('counter'), await two.text('counter')], ['1', '2', '1'])
    assert.deepEqual([await one.text('memo'), await one.text('memo')], ['1', '2'])
  })

  each('slow sends progress before its result', async (ctx, transport) => {
    const client = await ctx.connect({ transport })
    const progress: number[] = []
    client.client.setNotificationHandler(ProgressNotificationSchema, (n) => void progress.push(n.params.progress))
    const result = await client.client.callTool({ name: 'slow', arguments: { steps: 3, ms: 5 } }, undefined, { onprogress: () => {} })
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(result.content, [{ type: 'text', text: 'done' }])
    assert.deepEqual(progress, [1, 2, 3])
  })

  each('elicitation and sampling round-trip through the client', async (ctx, transport) => {
    const client = await ctx.connect({
      transport,
      onElicit: () => ({ action: 'accept', content: { name: 'Ada' } }),
      onSample: (request) => ({ role: 'assistant', model: 'scripted', content: { type: 'text', text: `echo: ${(request.params.messages[0]?.content as { text?: string }).text}` } }),
    })
    ctx.step('elicit_name')
    assert.equal(await client.text('elicit_name'), 'Hello, Ada')
    ctx.step('sample')
    assert.equal(await client.text('sample', { prompt: 'haiku' }), 'echo: haiku')
  })

  // Spec (Streamable HTTP, session management): after DELETE, requests with that id get 404.
  scenario('DELETE ends the session and later requests get 404', async (ctx) => {
    const session = await ctx.openSession()
    ctx.step('delete')
    const deleted = await ctx.request(session.url, { method: 'DELETE', sessionId: session.sessionId, protocolVersion: session.protocolVersion })
    assert.ok(deleted.status < 300, `DELETE answered ${deleted.status}`)
    ctx.step('after delete')
    const reply = await session.post(rpc(1, 'ping'))
    assert.equal(reply.status, 404)
  })
})
