// KI-32: the reference server plus an analytics batch flushed "once it is full", kept alive with
// ctx.waitUntil(). A quiet session never fills it: the promise stays pending and the Durable Object
// never hibernates.
import { ReferenceMcp } from '../../../src/reference-mcp'

const BATCH_SIZE = 100

export class WaitsUntilMcp extends ReferenceMcp {
  batch: string[] = []
  #batchFull?: () => void

  async init() {
    await super.init()
    this.startBatch()
  }

  startBatch() {
    // The bug: the flush waits for a full batch, however long that takes.
    const full = new Promise<void>((resolve) => (this.#batchFull = resolve))
    this.ctx.waitUntil(full.then(() => (this.batch = [])))
  }

  track(event: string) {
    this.batch.push(event)
    if (this.batch.length >= BATCH_SIZE) this.#batchFull?.()
  }
}

export { default } from '../../../src/index'
