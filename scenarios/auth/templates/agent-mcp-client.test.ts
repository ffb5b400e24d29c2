// Issue 10 item 4: an Agent that is itself an MCP client (`addMcpServer` / `this.mcp`) of an
// OAuth-protected McpAgent under the same emulator. The agent discovers, registers and hands out an
// authorize URL; the headless browser approves it and delivers the code to the agent's callback;
// the agent then calls a tool with its own token.
import { http } from 'msw'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createEmulator, upstream, type Emulator } from '../../../emulator/index.ts'
import { runBrowser } from '../../../emulator/sign-in/browser.ts'

let emulator: Emulator
beforeAll(async () => {
  // The agent's fetches to its own Worker leave workerd through outboundService like any fetch:
  // send loopback ones back to the emulator's front door (nothing leaves the machine).
  const loopback = http.all(/^http:\/\/127\.0\.0\.1:\d+\//, async ({ request }) => {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: ['GET', 'HEAD'].includes(request.method) ? undefined : await request.arrayBuffer(), redirect: 'manual' })
    // The agent's standing GET stream is cut when the emulator stops: end the copy quietly then.
    const reader = response.body?.getReader()
    const body = reader
      ? new ReadableStream<Uint8Array>({
          async pull(controller) {
            const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }))
            if (chunk.done) controller.close()
            else controller.enqueue(chunk.value)
          },
          cancel: (reason) => reader.cancel(reason).catch(() => {}),
        })
      : null
    return new Response(body, { status: response.status, headers: response.headers })
  })
  emulator = await createEmulator({
    config: 'scenarios/fixtures/agent-mcp-client',
    workerLog: 'silent',
    upstream: { providers: [upstream.github({ users: [{ id: 7, login: 'agent-owner', name: 'Agent Owner' }] })], handlers: [loopback] },
  })
})
afterAll(() => emulator?.dispose())

test('the agent signs in to the OAuth-protected server through its callback and calls a tool', { timeout: 90_000 }, async () => {
  const connect = await emulator.fetch('/agents/assistant/default/connect', { method: 'POST' })
  const started = (await connect.json()) as { state: string; authUrl?: string }
  expect(started.state, JSON.stringify(started)).toBe('authenticating')
  const browser = await runBrowser(emulator.url, started.authUrl!)
  expect(browser.reachedClient, JSON.stringify(browser.steps)).toBe(true)
  // The browser lands on the agent's callback, which redeems the code.
  const callback = await fetch(browser.finalUrl, { redirect: 'manual' })
  expect(callback.status).toBeLessThan(400)
  const call = await emulator.fetch('/agents/assistant/default/call', { method: 'POST' })
  const body = (await call.json()) as { tools: string[]; result: { content: { text: string }[] } }
  expect(body.tools).toEqual(expect.arrayContaining(['add', 'whoami']))
  expect(JSON.parse(body.result.content[0].text)).toMatchObject({ login: 'agent-owner' })
})
