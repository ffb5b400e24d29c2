import '../core/node-version.ts'

/* Replay and mock */
export { replay, formatReport } from './replay.ts'
export type { ReplayOptions, ReplayResult, ReplayMismatch, ReplayTarget } from './replay.ts'
export { rerecordCommand } from './rerecord.ts'
export { createMockServer } from './mock.ts'
export type { MockServer, MockServerOptions } from './mock.ts'
export { emulatorTarget, evictFromEvent, evictWhenIdle } from './targets.ts'

/* Modes */
export { useCassette, resolveMode, MODES } from './modes.ts'
export type { Mode, UseCassetteOptions, CassetteSession } from './modes.ts'

/* Capture */
export { createRecordingProxy, RecordingProxy } from './capture/proxy.ts'
export type { RecordingProxyOptions } from './capture/proxy.ts'
export { tapTranscript, sessionFromTranscript } from './capture/emulator-tap.ts'
export type { Capture, CapturedExchange, CapturedSession, CapturedSseEvent, CapturedWsFrame, CapturedPlatformEvent } from './capture/types.ts'

/* Format */
export { CassetteSchema, CassetteMetaSchema, CassetteMatchSchema, InteractionSchema, SseEventSchema, WsFrameSchema, PlatformEventSchema, CASSETTE_VERSION } from './format/schema.ts'
export type { Cassette, CassetteInput, CassetteMeta, CassetteMatch, Interaction, SseEvent, WsFrame, PlatformEvent, RecordedRequest, RecordedResponse } from './format/schema.ts'
export { detectTransport } from './format/transport.ts'
export { cassetteToHar, harToCassette, HarSchema, HAR_EXTENSIONS } from './format/har.ts'
export type { Har, HarImportOptions } from './format/har.ts'
export { buildCassette, Placeholders } from './format/normalize.ts'
export type { BuildCassetteOptions } from './format/normalize.ts'
export { serializeCassette, parseCassette } from './format/serialize.ts'
export { migrate, MIGRATIONS } from './format/migrate.ts'
export { cassetteJsonSchema, CASSETTE_JSON_SCHEMA_PATH } from './format/json-schema.ts'

/* Persistence */
export { createFsPersister, loadCassette, saveCassette, writeFileAtomic } from './persist/fs.ts'
export { createMemoryPersister } from './persist/memory.ts'
export type { Persister } from './persist/types.ts'

/* Matching */
export { Matcher } from './match/compare.ts'
export { RequestMatcher, RequestMatchOptionsSchema, parseMatchOptions } from './match/request.ts'
export type { RequestMatchOptions, LiveRequest, MatchFunction, RequestDifference } from './match/request.ts'
export type { Matchers, Difference } from './match/compare.ts'
export { Bindings } from './match/bindings.ts'

/* Redaction */
export { defaultRedactors, redactHeaders, redactFields, redactJsonPaths, DEFAULT_REDACTED_HEADERS, DEFAULT_REDACTED_FIELDS } from '../core/redact/index.ts'
export type { Redactor } from '../core/redact/index.ts'

/* CLI */
