// KI-32: the reference server plus a heartbeat interval started in init(). A pending timer keeps the
// Durable Object alive: it never hibernates, and production bills every idle second.
import { ReferenceMcp } from '../../../src/reference-mcp'

export class NeverHibernatesMcp extends ReferenceMcp {
  beats = 0

  async init() {
    await super.init()
    // The bug: nothing ever clears this interval.
    setInterval(() => {
      this.beats += 1
    }, 5_000)
  }
}

export { default } from '../../../src/index'
