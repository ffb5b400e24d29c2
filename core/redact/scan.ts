import { DEFAULT_REDACTED_FIELDS, DEFAULT_REDACTED_HEADERS } from './index.ts'

/** A value that looks like a secret, and where it was found. */
export interface SecretFinding {
  path: string
  rule: string
  value: string
}

const PLACEHOLDER = /^(?:\S+ )?<(?:redacted:[^>]+|session-\d+|event-\d+)>$/
const RULES: [string, RegExp][] = [
  ['jwt', /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  ['bearer value', /\b(?:bearer|token|basic)\s+(?!<redacted)[A-Za-z0-9._~+/=-]{12,}/i],
  ['provider token', /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b/],
  ['long hex', /\b[0-9a-f]{32,}\b/i],
]
// Base64-ish runs of 40+ characters that mix digits and both cases (a path or a sentence does not).
const BASE64_RUN = /[A-Za-z0-9+/_-]{40,}={0,2}/g
const looksRandom = (run: string) => /\d/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run)
const SENSITIVE_HEADERS = new Set(DEFAULT_REDACTED_HEADERS)
const SENSITIVE_FIELDS = new Set(DEFAULT_REDACTED_FIELDS)

/**
 * Scans any JSON value (a cassette) for secret-looking values: tokens, JWTs, bearer values, long hex
 * or base64 strings, and sensitive headers or OAuth fields that were not redacted.
 * @example expect(findSecrets(cassette)).toEqual([])
 */
export function findSecrets(value: unknown, path = '$'): SecretFinding[] {
  if (typeof value === 'string') {
    const key = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
    const inHeaders = /\.headers\.[^.]+$/.test(path)
    if (PLACEHOLDER.test(value)) return []
    if ((inHeaders && SENSITIVE_HEADERS.has(key)) || (SENSITIVE_FIELDS.has(key) && value !== '')) return [{ path, rule: `unredacted ${key}`, value }]
    // Strings with a placeholder inside (e.g. `/sse/message?sessionId=<session-1>`) are checked without it.
    const text = value.replace(/<(?:redacted:[^>]+|session-\d+|event-\d+)>/g, '')
    for (const [rule, re] of RULES) {
      const found = re.exec(text)
      if (found) return [{ path, rule, value: found[0] }]
    }
    for (const run of text.match(BASE64_RUN) ?? []) if (looksRandom(run)) return [{ path, rule: 'long base64', value: run }]
    return []
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => findSecrets(item, `${path}.${index}`))
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [...findSecrets(k, `${path}.<key>`), ...findSecrets(v, `${path}.${k}`)])
  return []
}
