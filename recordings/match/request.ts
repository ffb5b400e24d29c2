import { z } from 'zod'
import { parseOptions } from '../../core/zod-error.ts'
import type { Interaction } from '../format/schema.ts'
import { show } from './compare.ts'

/** A request as the mock received it, placeholders already put back (live session ids → `<session-1>`). */
export interface LiveRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  /** The body parsed as JSON, when it is JSON. */
  body?: unknown
  bodyText?: string
}

/** A custom matcher: true or false decides, undefined falls back to the default comparison. */
export type MatchFunction = (live: LiveRequest, recorded: Interaction) => boolean | undefined

/**
 * How the mock decides that a live request is a recorded one (like Polly.JS `matchRequestsBy` and
 * VCR `match_requests_on`). Method, path and JSON-RPC method always count; the rest is configurable.
 * @example { ignore: ['params.arguments.seed', 'tools/call:params.arguments.now'], order: 'strict' }
 */
export const RequestMatchOptionsSchema = z
  .object({
    params: z.boolean().default(true).describe('Compare JSON-RPC params (after normalization)'),
    query: z.boolean().default(true).describe('Compare query parameter values (names always count)'),
    headers: z.array(z.string()).default([]).describe('Request headers whose values must be equal'),
    ignore: z
      .array(z.string())
      .default([])
      .describe('Message paths left out of the comparison (`*` = one segment); `tools/call:params.arguments.x` applies to one JSON-RPC method'),
    order: z.enum(['any', 'strict']).default('any').describe('any: the first unused recorded request that matches; strict: the next one in recorded order'),
    custom: z.custom<MatchFunction>((value) => typeof value === 'function', 'expected a function').optional(),
  })
  .strict()
export type RequestMatchOptions = z.input<typeof RequestMatchOptionsSchema>
export type ResolvedMatchOptions = z.output<typeof RequestMatchOptionsSchema>

/** Paths never compared: they differ run to run by design (the MCP spec leaves ids and progress tokens to the client). */
const ALWAYS_IGNORED = ['id', 'params._meta', 'initialize:params.clientInfo']

/** ISO 8601 timestamps compare equal to any other timestamp. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/

/** Parses match options once; an invalid option is an ERR_OPTIONS naming it. */
export function parseMatchOptions(...layers: (RequestMatchOptions | undefined)[]): ResolvedMatchOptions {
  const merged: Record<string, unknown> = {}
  for (const input of layers) {
    if (!input) continue
    // Each layer is checked on its own first, so a wrong type is reported as given, not after merging.
    const layer = parseOptions(RequestMatchOptionsSchema.partial(), input, 'match options') as Record<string, unknown>
    for (const [key, value] of Object.entries(layer)) {
      // Only what this layer says: the schema's defaults must not override an earlier layer.
      if (value === undefined || !(key in input)) continue
      merged[key] = key === 'ignore' || key === 'headers' ? [...((merged[key] as string[]) ?? []), ...(value as string[])] : value
    }
  }
  return parseOptions(RequestMatchOptionsSchema, merged, 'match options')
}

/** One field where a live request differs from a recorded one. */
export interface RequestDifference {
  /** `method`, `path`, `query.x`, `header x`, `jsonrpc method`, or a message path such as `params.arguments.a`. */
  field: string
  recorded: unknown
  received: unknown
}

/** The JSON-RPC messages of a body (a message or a batch). */
export function rpcMessages(body: unknown): Record<string, unknown>[] {
  if (Array.isArray(body)) return body.filter((m) => m !== null && typeof m === 'object') as Record<string, unknown>[]
  return body !== null && typeof body === 'object' ? [body as Record<string, unknown>] : []
}

/** `tools/call`, `response` (to a server request), or '' for a body that is no JSON-RPC message. */
export function rpcMethodOf(body: unknown): string {
  const first = rpcMessages(body)[0]
  if (!first) return ''
  if (typeof first.method === 'string') return first.method
  return 'result' in first || 'error' in first ? 'response' : ''
}

/** Compiled request matching for one cassette. */
export class RequestMatcher {
  readonly options: ResolvedMatchOptions
  readonly #ignore: { method?: string; re: RegExp }[]

  constructor(options: ResolvedMatchOptions) {
    this.options = options
    this.#ignore = [...ALWAYS_IGNORED, ...options.ignore].map((entry) => {
      const colon = entry.indexOf(':')
      const [method, path] = colon > 0 ? [entry.slice(0, colon), entry.slice(colon + 1)] : [undefined, entry]
      return { method, re: new RegExp(`^${path.split('.').map((s) => (s === '*' ? '[^.]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('\\.')}$`) }
    })
  }

  /** The key that must be equal before anything else is compared: HTTP method, path, JSON-RPC method. */
  static key(method: string, path: string, body: unknown): string {
    return `${method} ${path} ${rpcMethodOf(body)}`
  }

  /** `key` of a recorded request, computed once per interaction. */
  static keyOf(recorded: Interaction): string {
    let key = recordedKeys.get(recorded)
    if (key === undefined) recordedKeys.set(recorded, (key = RequestMatcher.key(recorded.request.method, recorded.request.path, recorded.request.body)))
    return key
  }

  /**
   * True when `differences(live, recorded)` would be empty, without building the list: it stops at the
   * first difference. What a mock asks for every candidate of every request; misses still get `differences`.
   */
  matches(live: LiveRequest, recorded: Interaction): boolean {
    const r = recorded.request
    if (r.method !== live.method || r.path !== live.path) return false
    const recordedRpc = RequestMatcher.keyOf(recorded).slice(r.method.length + r.path.length + 2)
    if (recordedRpc !== rpcMethodOf(live.body)) return false
    const custom = this.options.custom?.(live, recorded)
    if (custom !== undefined) return custom
    for (const name in r.query) if (live.query[name] === undefined || (this.options.query && !sameString(r.query[name]!, live.query[name]!))) return false
    for (const name in live.query) if (r.query[name] === undefined) return false
    for (const name of this.options.headers) {
      const a = r.headers[name.toLowerCase()]
      const b = live.headers[name.toLowerCase()]
      if ((a ?? '') !== (b ?? '') && !(a && b && sameString(a, b))) return false
    }
    if (!this.options.params) return true
    if (r.body !== undefined || live.body !== undefined) return this.#equal(r.body, live.body, '', recordedRpc)
    return (r.bodyText ?? '') === (live.bodyText ?? '') || sameString(r.bodyText ?? '', live.bodyText ?? '')
  }

  /** `#compare` that answers only whether there is a difference, at the first one. */
  #equal(recorded: unknown, live: unknown, path: string, rpc: string): boolean {
    if (path !== '' && this.#ignored(unbatched(path), rpc)) return true
    if (typeof recorded === 'string' && typeof live === 'string') return sameString(recorded, live)
    if (Array.isArray(recorded) && Array.isArray(live)) {
      if (recorded.length !== live.length) return false
      for (let i = 0; i < recorded.length; i++) if (!this.#equal(recorded[i], live[i], path ? `${path}.${i}` : String(i), rpc)) return false
      return true
    }
    if (isObject(recorded) && isObject(live)) {
      for (const key in recorded) {
        const sub = path ? `${path}.${key}` : key
        if (this.#ignored(unbatched(sub), rpc)) continue
        if (!(key in live) || !this.#equal(recorded[key], live[key], sub, rpc)) return false
      }
      for (const key in live) {
        if (key in recorded) continue
        if (!this.#ignored(unbatched(path ? `${path}.${key}` : key), rpc)) return false
      }
      return true
    }
    return recorded === live
  }

  /** Every field where `live` differs from `recorded`, shallow paths first; empty when they match. */
  differences(live: LiveRequest, recorded: Interaction, limit = Infinity): RequestDifference[] {
    const r = recorded.request
    const out: RequestDifference[] = []
    if (r.method !== live.method) out.push({ field: 'method', recorded: r.method, received: live.method })
    if (r.path !== live.path) out.push({ field: 'path', recorded: r.path, received: live.path })
    const recordedRpc = rpcMethodOf(r.body)
    const liveRpc = rpcMethodOf(live.body)
    if (recordedRpc !== liveRpc) out.push({ field: 'jsonrpc method', recorded: recordedRpc || '(none)', received: liveRpc || '(none)' })
    if (out.length >= limit) return out
    const custom = this.options.custom?.(live, recorded)
    if (custom === true) return out
    if (custom === false && out.length === 0) return [{ field: '(custom match function)', recorded: 'match', received: 'no match' }]
    for (const name of new Set([...Object.keys(r.query), ...Object.keys(live.query)])) {
      const a = r.query[name]
      const b = live.query[name]
      if (a === undefined || b === undefined || (this.options.query && !sameString(a, b))) out.push({ field: `query.${name}`, recorded: a, received: b })
    }
    for (const name of this.options.headers) {
      const a = r.headers[name.toLowerCase()]
      const b = live.headers[name.toLowerCase()]
      if ((a ?? '') !== (b ?? '') && !(a && b && sameString(a, b))) out.push({ field: `header ${name.toLowerCase()}`, recorded: a, received: b })
    }
    if (this.options.params) {
      if (r.body !== undefined || live.body !== undefined) this.#compare(r.body, live.body, '', recordedRpc, out)
      else if ((r.bodyText ?? '') !== (live.bodyText ?? '') && !sameString(r.bodyText ?? '', live.bodyText ?? '')) out.push({ field: 'body', recorded: r.bodyText, received: live.bodyText })
    }
    return out.sort((a, b) => depth(a.field) - depth(b.field))
  }

  /** Whether a path is ignored, by JSON-RPC method and path: the same few paths come back on every request. */
  readonly #ignoredCache = new Map<string, boolean>()

  #ignored(path: string, rpc: string): boolean {
    const key = `${rpc} ${path}`
    let ignored = this.#ignoredCache.get(key)
    if (ignored === undefined) {
      ignored = this.#ignore.some((i) => (i.method === undefined || i.method === rpc) && i.re.test(path))
      if (this.#ignoredCache.size < 10_000) this.#ignoredCache.set(key, ignored)
    }
    return ignored
  }

  #compare(recorded: unknown, live: unknown, path: string, rpc: string, out: RequestDifference[]): void {
    // A batch: each message by its position; a single message: from its root.
    if (path !== '' && this.#ignored(unbatched(path), rpc)) return
    if (typeof recorded === 'string' && typeof live === 'string') {
      if (!sameString(recorded, live)) out.push({ field: path || '(body)', recorded, received: live })
      return
    }
    if (Array.isArray(recorded) && Array.isArray(live)) {
      if (recorded.length !== live.length) out.push({ field: `${path || '(body)'}.length`, recorded: recorded.length, received: live.length })
      for (let i = 0; i < Math.min(recorded.length, live.length); i++) this.#compare(recorded[i], live[i], path ? `${path}.${i}` : String(i), rpc, out)
      return
    }
    if (isObject(recorded) && isObject(live)) {
      for (const key of new Set([...Object.keys(recorded), ...Object.keys(live)])) {
        const sub = path ? `${path}.${key}` : key
        if (this.#ignored(unbatched(sub), rpc)) continue
        if (!(key in live)) out.push({ field: sub, recorded: recorded[key], received: undefined })
        else if (!(key in recorded)) out.push({ field: sub, recorded: undefined, received: live[key] })
        else this.#compare(recorded[key], live[key], sub, rpc, out)
      }
      return
    }
    if (recorded !== live) out.push({ field: path || '(body)', recorded, received: live })
  }
}

const recordedKeys = new WeakMap<Interaction, string>()

/** A path inside a batch without its message index (`0.params.a` → `params.a`), as ignore rules name it. */
function unbatched(path: string): string {
  const c = path.charCodeAt(0)
  return c >= 48 && c <= 57 ? path.replace(/^\d+\./, '') : path
}

/** A redaction, as is or percent-encoded inside a URL or form (`%3Credacted%3Astate%3E`). */
const REDACTION = /<redacted:[^>]+>|%3Credacted%3A[\w.-]+%3E/g
const redactedPatterns = new Map<string, RegExp>()

/** Equal, or both timestamps, or equal except where the recorded one has redactions (each matches anything). */
function sameString(recorded: string, live: string): boolean {
  if (recorded === live) return true
  if (TIMESTAMP.test(recorded) && TIMESTAMP.test(live)) return true
  if (!recorded.includes('redacted')) return false
  let pattern = redactedPatterns.get(recorded)
  if (!pattern) {
    pattern = new RegExp(`^${recorded.split(REDACTION).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?')}$`)
    if (redactedPatterns.size < 10_000) redactedPatterns.set(recorded, pattern)
  }
  return pattern.test(live)
}

function depth(field: string): number {
  return field.split('.').length
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** `params.arguments.a (recorded 2 ≠ received 4)` */
export function describeDifference(d: RequestDifference): string {
  return `${d.field} (recorded ${show(d.recorded)} ≠ received ${show(d.received)})`
}
