import { z } from 'zod'

/** The cassette format version this code writes and reads; older files go through `migrate.ts`. */
export const CASSETTE_VERSION = 1

/** Header names and values, lower-case names, one string per name. */
export const HeadersSchema = z.record(z.string(), z.string()).describe('HTTP headers, lower-case names')

/** One Server-Sent Event as it crossed the wire, `data` parsed when it is JSON. */
export const SseEventSchema = z
  .object({
    t: z.number().describe('Milliseconds since the session started'),
    event: z.string().describe('The event field, "message" when absent'),
    id: z.string().optional().describe('The id field, normalized to a placeholder'),
    retry: z.number().optional().describe('A retry field, when the server sent one'),
    data: z.unknown().optional().describe('The data field parsed as JSON (a JSON-RPC message on MCP streams)'),
    dataText: z.string().optional().describe('The data field verbatim, when it is not JSON'),
  })
  .strict()
export type SseEvent = z.infer<typeof SseEventSchema>

/** The client's half of one HTTP exchange. */
export const RecordedRequestSchema = z
  .object({
    method: z.string(),
    path: z.string().describe('The path, as the client sent it'),
    query: z.record(z.string(), z.string()).default({}).describe('Query parameters, normalized'),
    headers: HeadersSchema,
    body: z.unknown().optional().describe('The body parsed as JSON (JSON-RPC message or batch)'),
    bodyText: z.string().optional().describe('The body verbatim, when it is not JSON'),
  })
  .strict()
export type RecordedRequest = z.infer<typeof RecordedRequestSchema>

/** One WebSocket message or close, in either direction, as it crossed the proxy. */
export const WsFrameSchema = z
  .object({
    t: z.number().describe('Milliseconds since the session started'),
    from: z.enum(['client', 'server']),
    data: z.unknown().optional().describe('A text message parsed as JSON'),
    dataText: z.string().optional().describe('A text message verbatim, when it is not JSON'),
    binary: z.string().optional().describe('A binary message, base64'),
    close: z.object({ code: z.number().int(), reason: z.string() }).strict().optional().describe('A close frame'),
  })
  .strict()
export type WsFrame = z.infer<typeof WsFrameSchema>

/** The server's half of one HTTP exchange: a plain body, a stream of SSE events, or WebSocket frames after a 101. */
export const RecordedResponseSchema = z
  .object({
    status: z.number().int(),
    headers: HeadersSchema,
    body: z.unknown().optional(),
    bodyText: z.string().optional(),
    sse: z.array(SseEventSchema).optional().describe('Every SSE event separately, in arrival order'),
    ws: z.array(WsFrameSchema).optional().describe('After a WebSocket upgrade (101): every message and close, both directions, in order'),
    end: z
      .object({
        t: z.number(),
        reason: z.string().describe('complete | client-aborted | stream-error: … | open (still open when the session ended)'),
      })
      .strict(),
  })
  .strict()
export type RecordedResponse = z.infer<typeof RecordedResponseSchema>

/** One HTTP exchange of the session. */
export const InteractionSchema = z
  .object({
    id: z.number().int().positive().describe('Position in the session, from 1'),
    t: z.number().describe('When the request started, ms since the session started'),
    request: RecordedRequestSchema,
    response: RecordedResponseSchema.optional().describe('Absent when the server never answered'),
  })
  .strict()
export type Interaction = z.infer<typeof InteractionSchema>

/** A platform event recorded beside the HTTP traffic (Worker→DO hop, DO lifecycle, harness marks). */
export const PlatformEventSchema = z
  .object({
    t: z.number(),
    layer: z.enum(['hop', 'lifecycle', 'harness']),
    type: z.string(),
    detail: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
export type PlatformEvent = z.infer<typeof PlatformEventSchema>

/**
 * How a mock matches requests of this cassette (see recordings/match/request.ts); the file's defaults,
 * which options passed in code extend.
 */
export const CassetteMatchSchema = z
  .object({
    params: z.boolean().optional().describe('Compare JSON-RPC params (default true)'),
    query: z.boolean().optional().describe('Compare query parameter values (default true)'),
    headers: z.array(z.string()).optional().describe('Request headers whose values must be equal'),
    ignore: z.array(z.string()).optional().describe('Message paths left out of the comparison; `method:path` for one JSON-RPC method'),
    order: z.enum(['any', 'strict']).optional().describe('any (default) or strict (recorded order)'),
  })
  .strict()
export type CassetteMatch = z.infer<typeof CassetteMatchSchema>

/** Who recorded the cassette, with what, and how to record it again. */
export const CassetteMetaSchema = z
  .object({
    client: z.string().describe('The client that drove the session, e.g. mcp-inspector-cli'),
    scenario: z.string(),
    transport: z.enum(['streamable-http', 'sse', 'websocket', 'mixed', 'other']),
    recordedWith: z.enum(['proxy', 'emulator', 'har']).describe('proxy (record), emulator (transcript), har (imported from a HAR file)'),
    rerecord: z.string().optional().describe('The command that re-records this cassette'),
    notes: z.string().optional(),
    match: CassetteMatchSchema.optional().describe('How a mock matches requests of this cassette'),
  })
  .strict()
export type CassetteMeta = z.infer<typeof CassetteMetaSchema>

/**
 * One recorded MCP session over HTTP + SSE, version 1.
 * @example CassetteSchema.parse(JSON.parse(text))
 */
export const CassetteSchema = z
  .object({
    version: z.literal(CASSETTE_VERSION),
    meta: CassetteMetaSchema,
    interactions: z.array(InteractionSchema),
    events: z.array(PlatformEventSchema).default([]),
  })
  .strict()
export type Cassette = z.infer<typeof CassetteSchema>
export type CassetteInput = z.input<typeof CassetteSchema>
