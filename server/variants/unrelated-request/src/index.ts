// KI-27: `elicit_unrelated` asks the client for a name WITHOUT `relatedRequestId`. The request then
// goes to the standalone GET stream; a client that keeps no GET stream never sees it.
import { ReferenceMcp } from '../../../src/reference-mcp'

/** How long the tool waits for the client's answer before it reports that none came. */
const ANSWER_TIMEOUT_MS = 2_000

export class UnrelatedRequestMcp extends ReferenceMcp {
  async init() {
    await super.init()
    this.server.registerTool('elicit_unrelated', { description: 'Elicits a name on the standalone stream (KI-27)' }, async () => {
      try {
        // The bug: no { relatedRequestId: extra.requestId }, so the request is not tied to this call's stream.
        const result = await this.server.server.elicitInput(
          {
            mode: 'form',
            message: 'What is your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          },
          { timeout: ANSWER_TIMEOUT_MS },
        )
        return { content: [{ type: 'text', text: result.action === 'accept' ? `Hello, ${String(result.content?.name)}` : result.action }] }
      } catch (error) {
        return { content: [{ type: 'text', text: `no answer: ${(error as Error).message}` }] }
      }
    })
  }
}

export { default } from '../../../src/index'
