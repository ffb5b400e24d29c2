import { z } from 'zod'
import {
  CassetteSaveRequestSchema,
  CassetteSaveResponseSchema,
  CONTROL_API_VERSION,
  CONTROL_PREFIX,
  CrashRequestSchema,
  ErrorResponseSchema,
  EvictRequestSchema,
  EvictResponseSchema,
  FaultsRequestSchema,
  FaultsResponseSchema,
  HealthResponseSchema,
  OkResponseSchema,
  SessionsResponseSchema,
  TranscriptResponseSchema,
  UrlsResponseSchema,
} from './schema.ts'

/** Path of the committed OpenAPI document, relative to the project root. */
export const CONTROL_OPENAPI_PATH = 'emulator/control/openapi.json'

const json = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>
  return rest
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const jsonBody = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } })
const ok = (name: string, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } })
const errors = {
  '400': ok('Error', 'Malformed request (not JSON, or failed validation); the message names each bad field'),
  '401': ok('Error', 'Missing or wrong bearer token'),
  '403': ok('Error', 'Host header is not a loopback name'),
}
const unsupported = { '501': ok('Error', 'This emulator build does not offer the operation (see health.features)') }

/**
 * The control plane's API as an OpenAPI 3.1 document (JSON Schema 2020-12), generated from its zod schemas.
 * @example JSON.stringify(controlOpenApi(), null, 2)
 */
export function controlOpenApi(): Record<string, unknown> {
  const p = (name: string) => `${CONTROL_PREFIX}/${name}`
  return {
    openapi: '3.1.0',
    info: {
      title: 'mcp-harness control plane',
      version: CONTROL_API_VERSION,
      description:
        'Operations of a running mcp-harness emulator as JSON over HTTP. Listens on 127.0.0.1 only; every request needs "Authorization: Bearer <token>" (the token is in the `control` field of `mcp-harness serve --json --control`). Breaking changes bump the major version and the path prefix.',
    },
    servers: [{ url: 'http://127.0.0.1:{port}', variables: { port: { default: '0', description: 'Printed in the ready line' } } }],
    security: [{ bearer: [] }],
    paths: {
      [p('health')]: { get: { operationId: 'health', summary: 'Liveness, API version and supported operations', responses: { '200': ok('HealthResponse', 'Healthy'), ...errors } } },
      [p('urls')]: { get: { operationId: 'urls', summary: 'URLs of the Worker (front door, /mcp, /sse) and of this control plane', responses: { '200': ok('UrlsResponse', 'URLs'), ...errors } } },
      [p('sessions')]: { get: { operationId: 'sessions', summary: 'MCP sessions the front door has served', responses: { '200': ok('SessionsResponse', 'Sessions'), ...errors } } },
      [p('evict')]: {
        post: {
          operationId: 'evict',
          summary: 'Evict one session\'s Durable Object now (in-memory state lost, storage kept), as production hibernation does',
          requestBody: jsonBody('EvictRequest'),
          responses: { '200': ok('EvictResponse', 'Evicted'), ...errors, '404': ok('Error', 'Unknown session') },
        },
      },
      [p('crash')]: {
        post: {
          operationId: 'crash',
          summary: 'Crash Durable Objects (sockets close 1006, storage kept)',
          requestBody: jsonBody('CrashRequest'),
          responses: { '200': ok('OkResponse', 'Crashed'), ...errors, ...unsupported },
        },
      },
      [p('restart')]: { post: { operationId: 'restart', summary: 'Restart the runtime, keeping storage and the port', responses: { '200': ok('OkResponse', 'Restarted'), ...errors } } },
      [p('faults')]: {
        get: { operationId: 'listFaults', summary: 'Active hop faults', responses: { '200': ok('FaultsResponse', 'Faults'), ...errors, ...unsupported } },
        put: { operationId: 'setFaults', summary: 'Replace the hop faults', requestBody: jsonBody('FaultsRequest'), responses: { '200': ok('FaultsResponse', 'Faults now active'), ...errors, ...unsupported } },
        delete: { operationId: 'clearFaults', summary: 'Remove every hop fault', responses: { '200': ok('FaultsResponse', 'No faults'), ...errors, ...unsupported } },
      },
      [p('transcript')]: {
        get: {
          operationId: 'transcript',
          summary: 'Transcript events, optionally filtered',
          parameters: [
            { name: 'layer', in: 'query', schema: { type: 'string', enum: ['client', 'hop', 'lifecycle', 'upstream', 'harness'] } },
            { name: 'type', in: 'query', schema: { type: 'string' } },
            { name: 'since', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'Only events with seq >= since' },
          ],
          responses: { '200': ok('TranscriptResponse', 'Events'), ...errors },
        },
        delete: { operationId: 'resetTranscript', summary: 'Drop all events and restart the clock', responses: { '200': ok('OkResponse', 'Reset'), ...errors } },
      },
      [p('cassettes')]: {
        post: {
          operationId: 'saveCassette',
          summary: 'Save the transcript so far as a cassette file',
          requestBody: jsonBody('CassetteSaveRequest'),
          responses: { '200': ok('CassetteSaveResponse', 'Saved'), ...errors, ...unsupported },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        HealthResponse: json(HealthResponseSchema, 'output'),
        UrlsResponse: json(UrlsResponseSchema, 'output'),
        SessionsResponse: json(SessionsResponseSchema, 'output'),
        EvictRequest: json(EvictRequestSchema, 'input'),
        EvictResponse: json(EvictResponseSchema, 'output'),
        CrashRequest: json(CrashRequestSchema, 'input'),
        OkResponse: json(OkResponseSchema, 'output'),
        FaultsRequest: json(FaultsRequestSchema, 'input'),
        FaultsResponse: json(FaultsResponseSchema, 'output'),
        TranscriptResponse: json(TranscriptResponseSchema, 'output'),
        CassetteSaveRequest: json(CassetteSaveRequestSchema, 'input'),
        CassetteSaveResponse: json(CassetteSaveResponseSchema, 'output'),
        Error: json(ErrorResponseSchema, 'output'),
      },
    },
  }
}

/** The committed file's exact text. */
export function controlOpenApiText(): string {
  return `${JSON.stringify(controlOpenApi(), null, 2)}\n`
}

// `node emulator/control/openapi.ts` rewrites the committed document after a schema change.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFile } = await import('node:fs/promises')
  await writeFile(CONTROL_OPENAPI_PATH, controlOpenApiText())
  console.log(`Wrote ${CONTROL_OPENAPI_PATH}`)
}
