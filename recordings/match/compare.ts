import { Bindings } from './bindings.ts'

/**
 * How answers are compared: paths to ignore and lists whose order does not matter. Paths are
 * dot-separated from the JSON-RPC message (`result.tools`, `result.content.*.text`); `*` matches one segment.
 * @example { ignore: ['result.serverInfo.version'], unordered: ['result.tools'] }
 */
export interface Matchers {
  ignore?: string[]
  unordered?: string[]
}

/** One difference between a recorded value and a live one. */
export interface Difference {
  /** Dot path inside the message, `(message)` for the whole message. */
  path: string
  /** Which matcher failed: `equal`, `type`, `placeholder`, `unordered`, `length`, `missing`, `unexpected`. */
  matcher: string
  expected: unknown
  received: unknown
}

function toRegex(path: string): RegExp {
  return new RegExp(`^${path.split('.').map((s) => (s === '*' ? '[^.]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('\\.')}$`)
}

/** Compiled matchers. */
export class Matcher {
  readonly #ignore: RegExp[]
  readonly #unordered: RegExp[]

  constructor(matchers: Matchers = {}) {
    this.#ignore = (matchers.ignore ?? []).map(toRegex)
    this.#unordered = (matchers.unordered ?? []).map(toRegex)
  }

  /** Differences between a recorded JSON value and a live one; binds placeholders on the way. */
  compare(recorded: unknown, live: unknown, bindings: Bindings, path = ''): Difference[] {
    if (path && this.#ignore.some((re) => re.test(path))) return []
    const at = path || '(message)'
    if (typeof recorded === 'string' && typeof live === 'string') {
      if (bindings.match(recorded, live)) return []
      return [{ path: at, matcher: Bindings.has(recorded) ? 'placeholder' : 'equal', expected: recorded, received: live }]
    }
    if (Array.isArray(recorded) && Array.isArray(live)) {
      if (path && this.#unordered.some((re) => re.test(path))) return this.#compareUnordered(recorded, live, bindings, at)
      const out: Difference[] = []
      if (recorded.length !== live.length) out.push({ path: at, matcher: 'length', expected: recorded.length, received: live.length })
      for (let i = 0; i < Math.min(recorded.length, live.length); i++) out.push(...this.compare(recorded[i], live[i], bindings, path ? `${path}.${i}` : String(i)))
      return out
    }
    if (isObject(recorded) && isObject(live)) {
      const out: Difference[] = []
      for (const key of new Set([...Object.keys(recorded), ...Object.keys(live)])) {
        const sub = path ? `${path}.${key}` : key
        if (this.#ignore.some((re) => re.test(sub))) continue
        if (!(key in live)) out.push({ path: sub, matcher: 'missing', expected: recorded[key], received: undefined })
        else if (!(key in recorded)) out.push({ path: sub, matcher: 'unexpected', expected: undefined, received: live[key] })
        else out.push(...this.compare(recorded[key], live[key], bindings, sub))
      }
      return out
    }
    if (recorded === live) return []
    return [{ path: at, matcher: kind(recorded) === kind(live) ? 'equal' : 'type', expected: recorded, received: live }]
  }

  #compareUnordered(recorded: unknown[], live: unknown[], bindings: Bindings, at: string): Difference[] {
    const left = [...live]
    const missing: unknown[] = []
    for (const item of recorded) {
      const index = left.findIndex((candidate) => this.compare(item, candidate, new Bindings(), '').length === 0)
      if (index === -1) missing.push(item)
      else this.compare(item, left.splice(index, 1)[0], bindings, '')
    }
    if (missing.length === 0 && left.length === 0) return []
    return [{ path: at, matcher: 'unordered', expected: missing, received: left }]
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

/** Short printable form of a value for reports. */
export function show(value: unknown, max = 80): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
