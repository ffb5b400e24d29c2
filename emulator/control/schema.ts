import { z } from 'zod'
import { HopFaultSchema } from '../plugins/hop-faults.ts'

/** Version of the control-plane API; every path starts with `/v<major>`. */
export const CONTROL_API_VERSION = '1.0.0'

/** Path prefix of every control-plane route. */
export const CONTROL_PREFIX = '/v1'

/** The two MCP transports McpAgent serves; each names its Durable Object `<transport>:<sessionId>`. */
export const ControlTransportSchema = z.enum(['streamable-http', 'sse'])
export type ControlTransport = z.infer<typeof ControlTransportSchema>

/** Body of `POST /v1/evict`. */
export const EvictRequestSchema = z
  .object({
    session: z
      .string()
      .min(1)
      .optional()
      .describe('A session id (mcp-session-id, or the SSE sessionId) or a Durable Object name ("streamable-http:<id>"); every active session when omitted'),
    transport: ControlTransportSchema.optional().describe('With a bare session id: names the DO "<transport>:<session>" without asking the hop'),
    webSockets: z
      .enum(['hibernate', 'close'])
      .default('hibernate')
      .describe('"hibernate" keeps the hop\'s WebSockets open (production hibernation); "close" closes them'),
  })
  .strict()
  .describe("Evicts Durable Objects now, as production hibernation does: this.state and storage survive, instance fields do not")
export type EvictRequest = z.infer<typeof EvictRequestSchema>

/** Answer of `POST /v1/evict`. */
export const EvictResponseSchema = z
  .object({ evicted: z.array(z.string()).describe('Durable Object names evicted'), ms: z.number() })
  .strict()

/** Body of `POST /v1/crash` (empty: a crash takes every Durable Object). */
export const CrashRequestSchema = z.object({}).strict().describe('Aborts every Durable Object like a crash (sockets close 1006, storage kept)')

/** Answer of operations that only report success and their duration. */
export const OkResponseSchema = z.object({ ok: z.literal(true), ms: z.number().optional() }).strict()

/** Answer of `GET /v1/health`. */
export const HealthResponseSchema = z
  .object({
    ok: z.literal(true),
    apiVersion: z.string(),
    worker: z.string().describe('Name of the Worker under test'),
    features: z.array(z.string()).describe('Operations this emulator supports (some need newer emulator builds)'),
  })
  .strict()

/** Answer of `GET /v1/urls`. */
export const UrlsResponseSchema = z
  .object({
    base: z.string().describe('Front door of the Worker'),
    mcp: z.string().describe('Streamable HTTP endpoint'),
    sse: z.string().describe('Legacy SSE endpoint'),
    control: z.string().describe('This control plane, including the version prefix'),
  })
  .strict()

/** One MCP session as the Worker→DO hop saw it (the emulator's `sessions()`). */
export const SessionInfoSchema = z
  .object({
    id: z.string().describe('The session id'),
    transport: z.enum(['streamable-http', 'sse', 'other']),
    name: z.string().describe('The Durable Object name'),
    state: z.enum(['active', 'hibernated', 'evicted', 'crashed']),
    lastEventAt: z.number().describe('Transcript time (ms) of the last hop event'),
    running: z.number().int(),
    openSockets: z.number().int(),
  })
  .catchall(z.unknown())
/** Answer of `GET /v1/sessions`. */
export const SessionsResponseSchema = z.object({ sessions: z.array(SessionInfoSchema) }).strict()

/** Query of `GET /v1/transcript`. */
export const TranscriptQuerySchema = z
  .object({
    layer: z.enum(['client', 'hop', 'lifecycle', 'upstream', 'harness']).optional(),
    type: z.string().min(1).optional(),
    since: z.coerce.number().int().min(0).optional().describe('Only events with seq >= since'),
  })
  .strict()
export type TranscriptQuery = z.infer<typeof TranscriptQuerySchema>

/** One transcript event: the fixed fields plus whatever its layer records. */
export const TranscriptEventSchema = z
  .object({ seq: z.number().int(), t: z.number(), layer: z.string(), type: z.string(), exchange: z.number().int().optional() })
  .catchall(z.unknown())
/** Answer of `GET /v1/transcript`; `next` is the seq to pass as `since` next time. */
export const TranscriptResponseSchema = z.object({ events: z.array(TranscriptEventSchema), next: z.number().int() }).strict()

/** Body of `PUT /v1/faults`: hop faults in the emulator's own format (`emulator/plugins/hop-faults.ts`). */
export const FaultsRequestSchema = z.object({ faults: z.array(HopFaultSchema) }).strict().describe('Replaces the hop faults set through the control plane')
/** A fault set through the control plane and how often it acted. */
export const FaultEntrySchema = z
  .object({ id: z.number().int(), fired: z.number().int().describe('How often it acted so far'), fault: HopFaultSchema })
  .strict()
/** Answer of the `/v1/faults` operations. */
export const FaultsResponseSchema = z.object({ faults: z.array(FaultEntrySchema) }).strict()

/** Body of `POST /v1/cassettes`. */
export const CassetteSaveRequestSchema = z
  .object({
    path: z.string().min(1).describe("Where to write the cassette, relative to the control plane's cassette folder (cassettesDir, default ./cassettes); absolute paths, '..' and symbolic links leading out are refused with 400"),
    client: z.string().min(1).default('unknown').describe('The client that drove the session, e.g. python-mcp'),
    scenario: z.string().min(1).default('control-plane').describe('Scenario name stored in the cassette'),
    transport: z.enum(['streamable-http', 'sse', 'mixed', 'other']).optional().describe('Inferred from the sessions seen when omitted'),
    rerecord: z.string().optional().describe('The command that re-records this cassette'),
  })
  .strict()
  .describe('Saves the transcript so far (redacted, normalized) as a cassette')
export type CassetteSaveRequest = z.infer<typeof CassetteSaveRequestSchema>
/** Answer of `POST /v1/cassettes`. */
export const CassetteSaveResponseSchema = z.object({ path: z.string(), interactions: z.number().int() }).strict()

/** Every non-2xx answer: a HarnessError code and an actionable message. */
export const ErrorResponseSchema = z
  .object({
    error: z.object({ code: z.string().describe('A HarnessError code, e.g. ERR_CONTROL'), message: z.string() }).strict(),
  })
  .strict()
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>
