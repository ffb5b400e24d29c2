import { KNOWN_ISSUES_PAGE } from './known-issues.ts'

/**
 * The one error type of mcp-harness. Every failure the harness itself detects carries a code and a
 * message that says what failed, why, and what to do.
 * @example throw new HarnessError('ERR_CONFIG', 'Failed to read wrangler config "x.jsonc": file not found.')
 */
export type HarnessErrorCode =
  | 'ERR_OPTIONS' // options failed schema validation
  | 'ERR_CONFIG' // the wrangler config is missing, unreadable or incomplete
  | 'ERR_BUILD' // wrangler could not build the Worker
  | 'ERR_START' // the runtime (workerd via Miniflare) failed to start
  | 'ERR_PORT_IN_USE' // the requested port is taken
  | 'ERR_DISPOSED' // the emulator was used after dispose()
  | 'ERR_UNHANDLED_UPSTREAM' // the Worker fetched an upstream URL with no mock
  | 'ERR_UNKNOWN_SESSION' // a lifecycle control named a session the emulator never saw
  | 'ERR_EVICT_BLOCKED' // a Durable Object could not be evicted: a request to it still runs (KI-32)
  | 'ERR_TARGET' // a scenario target could not be reached or started
  | 'ERR_CONTROL' // a control-plane request was malformed or unauthorized
  | 'ERR_CASSETTE' // a cassette is corrupt, of an unknown version, or cannot be written
  | 'ERR_REPLAY_MISS' // no recorded interaction matched in replay mode
  | 'ERR_REPLAY_MISMATCH' // a target answered differently than the cassette recorded
  | 'ERR_UNSUPPORTED' // the operation is not possible in this configuration
  | 'ERR_EXISTS' // a file a command would write exists with other content (init: pass --force)
  | 'ERR_PATH' // a path or id given from outside leaves the folder it must stay in
  | 'ERR_SIGN_IN' // a headless OAuth sign-in failed at a named step (discovery, registration, consent, upstream, token)

/** Points a message that cites known-issue ids (KI-xx) at their entries on the generated page. */
function knownIssueReferences(message: string): string {
  const ids = [...new Set(message.match(/\bKI-\d{2}\b/g) ?? [])]
  // Appended to the last line as a sentence: tools that read the hint off the last line keep working.
  return ids.length ? ` See ${ids.map((id) => `${KNOWN_ISSUES_PAGE}#${id.toLowerCase()}`).join(', ')}.` : ''
}

export class HarnessError extends Error {
  override readonly name = 'HarnessError'
  readonly code: HarnessErrorCode
  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[mcp-harness] ${code}: ${message}${knownIssueReferences(message)}`, options)
    this.code = code
  }
}

/** True when `error` is a HarnessError, optionally with the given code. */
export function isHarnessError(error: unknown, code?: HarnessErrorCode): error is HarnessError {
  return error instanceof HarnessError && (code === undefined || error.code === code)
}
