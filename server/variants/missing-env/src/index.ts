// KI-09: the reference server plus a `motd` tool that answers with the MOTD variable. The wrangler
// config does not set it (it belongs in .dev.vars or a secret), and the tool does not check: the
// client gets an empty answer and no error anywhere.
import { ReferenceMcp } from '../../../src/reference-mcp'
import reference from '../../../src/index'
import type { Env } from '../../../src/env'

interface MotdEnv extends Env {
  MOTD?: string
}

export class MotdMcp extends ReferenceMcp {
  async init() {
    await super.init()
    this.server.registerTool('motd', { description: 'The message of the day (from the MOTD variable)' }, async () => ({
      // The bug: nothing says that MOTD is missing.
      content: [{ type: 'text', text: `${(this.env as MotdEnv).MOTD ?? ''}` }],
    }))
  }
}

export default reference
