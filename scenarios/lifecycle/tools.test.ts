// Every reference tool called through the official SDK client on both transports (issue 2, build
// item 5 "lifecycle": call each tool, progress received, elicitation and sampling answered).
import { expect } from 'vitest'
import { ProgressNotificationSchema, type ProgressNotification } from '@modelcontextprotocol/sdk/types.js'
import { useTarget } from '../helpers/scenario.ts'

const { scenario } = useTarget()

scenario('add returns the sum as text', async ({ client }) => {
  expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
})

// KI-17: a string where the schema wants a number is a tool error, not a crash.
scenario('add reports a schema violation as an error result (KI-17)', async ({ client }) => {
  const result = await client.client.callTool({ name: 'add', arguments: { a: 'two', b: 3 } })
  expect(result.isError).toBe(true)
})

scenario('counter counts up within a session', async ({ client }) => {
  expect([await client.text('counter'), await client.text('counter'), await client.text('counter')]).toEqual(['1', '2', '3'])
})

scenario('memo counts up while the object stays in memory', async ({ client }) => {
  expect([await client.text('memo'), await client.text('memo')]).toEqual(['1', '2'])
})

scenario('slow sends one progress notification per step, in order, before its result', async ({ client }) => {
  // The SDK v1 client dispatches notifications a microtask later than responses and drops the
  // onprogress handler when the result lands, so progress arriving in the same chunk as the result
  // (always the case on /sse, where McpAgent relays them together) never reaches `onprogress`.
  // A notification handler sees every progress notification the client receives.
  const progress: ProgressNotification['params'][] = []
  client.client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
    progress.push(notification.params)
  })
  // onprogress makes the client send a progressToken; without one the tool sends no progress.
  const result = await client.client.callTool({ name: 'slow', arguments: { steps: 4, ms: 5 } }, undefined, { onprogress: () => {} })
  await new Promise((resolve) => setImmediate(resolve))
  expect(result.content).toEqual([{ type: 'text', text: 'done' }])
  expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4])
  expect(progress.every((p) => p.total === 4)).toBe(true)
})

scenario('slow over the wire sends every progress event before the result event', { requires: ['emulator'] }, async ({ client, target }) => {
  const transcript = target.emulator!.transcript
  const mark = transcript.events.length
  await client.client.callTool({ name: 'slow', arguments: { steps: 3, ms: 0 } }, undefined, { onprogress: () => {} })
  const wire = transcript.events
    .slice(mark)
    .filter((event) => event.layer === 'client' && event.type === 'sse')
    .map((event) => event.data as { method?: string; params?: { progress?: number }; result?: unknown })
    .filter((data) => data?.method === 'notifications/progress' || data?.result !== undefined)
    .map((data) => (data.method ? `progress ${data.params?.progress}` : 'result'))
  expect(wire).toEqual(['progress 1', 'progress 2', 'progress 3', 'result'])
})

scenario(
  'elicit_name greets the name the client gives',
  { client: { onElicit: () => ({ action: 'accept', content: { name: 'Ada' } }) } },
  async ({ client }) => {
    expect(await client.text('elicit_name')).toBe('Hello, Ada')
  },
)

scenario('elicit_name reports a declined elicitation', { client: { onElicit: () => ({ action: 'decline' }) } }, async ({ client }) => {
  expect(await client.text('elicit_name')).toBe('declined')
})

scenario('elicit_name reports a cancelled elicitation', { client: { onElicit: () => ({ action: 'cancel' }) } }, async ({ client }) => {
  expect(await client.text('elicit_name')).toBe('cancelled')
})

scenario(
  'elicit_name shows the server the requested schema',
  {
    client: {
      onElicit: (request) => {
        const schema = (request.params as { requestedSchema?: { required?: string[] } }).requestedSchema
        return { action: 'accept', content: { name: schema?.required?.join(',') ?? 'none' } }
      },
    },
  },
  async ({ client }) => {
    expect(await client.text('elicit_name')).toBe('Hello, name')
  },
)

scenario(
  'sample returns the completion the client produced for the prompt',
  {
    client: {
      onSample: (request) => {
        const first = request.params.messages[0]?.content as { type: string; text?: string }
        return { role: 'assistant', model: 'scripted', content: { type: 'text', text: `echo: ${first.text}` } }
      },
    },
  },
  async ({ client }) => {
    expect(await client.text('sample', { prompt: 'haiku' })).toBe('echo: haiku')
  },
)

scenario('whoami returns empty props on an unauthenticated session', async ({ client }) => {
  expect(JSON.parse(await client.text('whoami'))).toEqual({})
})
