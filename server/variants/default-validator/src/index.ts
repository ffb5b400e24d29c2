// KI-30: the reference server with its McpServer built without a jsonSchemaValidator, so the MCP
// SDK falls back to AJV, which compiles validators with new Function(): Workers forbid code
// generation from strings, and every elicitation result fails validation.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { ReferenceMcp } from '../../../src/reference-mcp'
import reference from '../../../src/index'
import { SERVER_NAME } from '../../../src/env'

export class DefaultValidatorMcp extends ReferenceMcp {
  // The bug: no `jsonSchemaValidator: new CfWorkerJsonSchemaValidator()`.
  server = new McpServer({ name: SERVER_NAME, version: '0.1.0' }, { capabilities: { logging: {} } })
}

export default reference
