// Reconnect after hibernation (the slow lane): the emulator hibernates a session's Durable Object on
// demand with evict(); wrangler dev and remote targets really wait past workerd's 10 s idle eviction.
// Outcomes must agree: that is the evidence the emulator's hibernation model matches the runtime's.
// KI-11 (state across hibernation), KI-28 (result lost after reconnect), KI-29 (SSE capabilities).
import assert from 'node:assert/strict'
import { rpc } from '../context.ts'
import { defineSuite } from './define.ts'

const answerName = () => ({ action: 'accept' as const, content: { name: 'Ada' } })
// Idle waits run concurrently (one per scenario); each scenario is bounded well past one wait.
const slow = { timeoutMs: 60_000 }

export const hibernation = defineSuite(
  'hibernation',
  'reconnect after hibernation: counter kept, memo reset (KI-11), SSE capabilities lost (KI-29), result lost (KI-28)',
  (scenario, each) => {
    each('KI-11: after hibernation the counter continues and memo resets', slow, async (ctx, transport) => {
      const client = await ctx.connect({ transport })
      assert.equal(await client.text('counter'), '1')
      assert.equal(await client.text('memo'), '1')
      ctx.step('hibernate')
      await ctx.hibernate(client.objectName())
      ctx.step('after wake')
      assert.equal(await client.text('counter'), '2', 'the counter (Durable Object state) was lost')
      assert.equal(await client.text('memo'), '1', 'memo kept counting: the object did not hibernate')
    })

    each('KI-29: elicitation after hibernation', slow, async (ctx, transport) => {
      const client = await ctx.connect({ transport, onElicit: answerName })
      assert.equal(await client.text('elicit_name'), 'Hello, Ada')
      ctx.step('hibernate')
      await ctx.hibernate(client.objectName())
      ctx.step('after wake')
      const after = await client.client.callTool({ name: 'elicit_name', arguments: {} }).then(
        (result) => JSON.stringify(result.content),
        (error: Error) => `error: ${error.message}`,
      )
      // Streamable HTTP keeps the client's capabilities; SSE loses them on wake (KI-29).
      if (transport === 'sse') assert.match(after, /does not support (form )?elicitation/i)
      else assert.match(after, /Hello, Ada/)
    })

    scenario('KI-28: Last-Event-ID after the tool finished and the object hibernated gets nothing', slow, async (ctx) => {
      const session = await ctx.openSession()
      const first = await ctx.openStream(session, { method: 'POST', partial: true, body: rpc(1, 'tools/call', { name: 'slow', arguments: { steps: 3, ms: 100 }, _meta: { progressToken: 'p1' } }) })
      const seen = await first.waitFor(1, 5_000)
      // The first event, not the last seen: how many arrived before the abort is timing.
      const lastEventId = seen[0]?.id
      assert.ok(lastEventId, 'the first event carries no id')
      first.abort()
      ctx.step('hibernate')
      // The tool finishes while nobody listens (3 x 100 ms), then the object hibernates.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      await ctx.hibernate(`streamable-http:${session.sessionId}`)
      ctx.step('resume')
      const resumed = await ctx.openStream(session, { method: 'GET', lastEventId, partial: true })
      const replayed = await resumed.waitFor(1, 1_500)
      resumed.abort()
      assert.equal(
        replayed.some((event) => event.data.includes('"id":1')),
        false,
        'the result was replayed',
      )
    })
  },
  { concurrent: true, optIn: true },
)
