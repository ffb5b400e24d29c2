// Issue 11 item 5: the IoContext model covers every shape of default export: a WorkerEntrypoint
// class (its `this.ctx`) and an object whose handlers live on its prototype, which keep working.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'
import { WAIT_UNTIL_MESSAGE } from '../../emulator/plugins/io-context.ts'

const SCALE = 0.01 // 30 s of production become 300 ms

describe('a WorkerEntrypoint class default export', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: 'scenarios/fixtures/entrypoint-class/wrangler.jsonc', timeouts: { scale: SCALE } })
  })
  afterAll(() => emulator?.dispose())

  test('a this.ctx.waitUntil task still pending after the limit is cancelled, as production does', async () => {
    const response = await emulator.fetch('/forgotten-task')
    expect(await response.text()).toBe('answered')
    const event = await emulator.transcript.waitFor((e) => e.layer === 'harness' && e.type === 'timeout:waitUntil', 5_000)
    expect(event).toMatchObject({ request: 'GET /forgotten-task', message: WAIT_UNTIL_MESSAGE })
  })
})

describe('an object default export with prototype handlers', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await createEmulator({ config: 'scenarios/fixtures/prototype-handlers/wrangler.jsonc', timeouts: { scale: SCALE } })
  })
  afterAll(() => emulator?.dispose())

  test('its fetch is modelled and its scheduled handler still runs', async () => {
    await emulator.fetch('/forgotten-task')
    const event = await emulator.transcript.waitFor((e) => e.layer === 'harness' && e.type === 'timeout:waitUntil', 5_000)
    expect(event).toMatchObject({ request: 'GET /forgotten-task' })
    const worker = await emulator.miniflare.getWorker()
    await worker.scheduled({ cron: '*/5 * * * *' })
    expect(await (await emulator.fetch('/')).json()).toEqual({ scheduledRuns: 1 })
  })
})
