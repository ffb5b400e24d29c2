/**
 * Redaction before anything touches disk (STYLE.md #13): every captured header, query parameter,
 * form field and JSON value passes the redactors, and a redacted value becomes a stable placeholder.
 */
export interface Redactor {
  name: string
  /** Returns the replacement for a header value, or undefined to keep it. `name` is lower-case. */
  header?(name: string, value: string): string | undefined
  /** Returns the replacement for a query or form field, or undefined to keep it. */
  field?(name: string, value: string): string | undefined
  /** Returns the replacement for a JSON value at `path` (e.g. `$.params.arguments.password`), or undefined. */
  json?(path: string, key: string, value: unknown): unknown
}

/** Placeholder text for a redacted value; stable so re-recording gives the same file. */
export const redacted = (what: string) => `<redacted:${what}>`

/**
 * Replaces the values of the given headers wherever they appear in a value (strings, arrays, plain
 * objects) by `<redacted:header NAME>`, and for `Scheme credentials` values (`Bearer abc`) the
 * credentials alone too: for credentials a caller passed in, which a server may echo back.
 */
export function headerValueScrubber(headers: Record<string, string>): (<T>(value: T) => T) | undefined {
  const secrets: [string, string][] = []
  for (const [name, value] of Object.entries(headers)) {
    const marker = redacted(`header ${name}`)
    // Very short values (a flag, a digit) would redact unrelated text; they are no credentials either.
    if (value.length >= 4) secrets.push([value, marker])
    const credentials = /^[A-Za-z][\w-]*\s+(\S.*)$/.exec(value)?.[1]
    if (credentials && credentials.length >= 4) secrets.push([credentials, marker])
  }
  if (!secrets.length) return undefined
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let out = value
      for (const [secret, marker] of secrets) if (out.includes(secret)) out = out.split(secret).join(marker)
      return out
    }
    if (Array.isArray(value)) return value.map(scrub)
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]))
    return value
  }
  return scrub as <T>(value: T) => T
}

/** Header names redacted by default. */
export const DEFAULT_REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'cf-access-client-secret']
/** OAuth and credential field names redacted by default wherever they appear (query, form, JSON). */
export const DEFAULT_REDACTED_FIELDS = ['code', 'state', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'code_verifier', 'password', 'api_key', 'token']

/**
 * Redacts the given headers; Authorization keeps its scheme so Bearer and Basic stay distinguishable.
 * @example redactHeaders(['x-upstream-key'])
 */
export function redactHeaders(names: string[]): Redactor {
  const set = new Set(names.map((name) => name.toLowerCase()))
  return {
    name: `headers(${[...set].join(',')})`,
    header(name, value) {
      if (!set.has(name)) return undefined
      if (name.endsWith('authorization') && /^\S+\s+\S/.test(value)) return `${value.split(/\s+/)[0]} ${redacted(name)}`
      return redacted(name)
    },
  }
}

/**
 * Redacts string values of the given field names wherever they appear: query, form bodies, JSON at any depth.
 * @example redactFields(['session_token'])
 */
export function redactFields(names: string[]): Redactor {
  const set = new Set(names.map((name) => name.toLowerCase()))
  return {
    name: `fields(${[...set].join(',')})`,
    field: (name, value) => (set.has(name.toLowerCase()) && value !== '' ? redacted(name) : undefined),
    // Only strings: a JSON-RPC error's numeric `code` is protocol, not a secret.
    json: (_path, key, value) => (typeof value === 'string' && value !== '' && set.has(key.toLowerCase()) ? redacted(key) : undefined),
  }
}

/**
 * Redacts JSON values at the given paths (`$.a.b`, `*` matches one segment, array indices are segments).
 * @example redactJsonPaths(['$.params.arguments.apiKey', '$.result.content.*.text'])
 */
export function redactJsonPaths(paths: string[]): Redactor {
  const patterns = paths.map((p) => new RegExp(`^${p.split('.').map((s) => (s === '*' ? '[^.]+' : s.replace(/[$()[\]\\^+?{}|]/g, '\\$&'))).join('\\.')}$`))
  return {
    name: `jsonPaths(${paths.join(',')})`,
    json: (path, key, value) => (value !== undefined && patterns.some((re) => re.test(path)) ? redacted(key) : undefined),
  }
}

/** The redactors every capture applies, before any configured ones. */
export const defaultRedactors: Redactor[] = [redactHeaders(DEFAULT_REDACTED_HEADERS), redactFields(DEFAULT_REDACTED_FIELDS)]

/** Applies redactors to a header map. */
export function applyHeaderRedactors(headers: Record<string, string>, redactors: Redactor[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    let next = value
    for (const r of redactors) next = r.header?.(name, next) ?? next
    out[name] = next
  }
  return out
}

/** Applies redactors to a query string or form body (`a=1&b=2`), returning the pairs. */
export function applyFieldRedactors(params: URLSearchParams, redactors: Redactor[]): URLSearchParams {
  const out = new URLSearchParams()
  for (const [name, value] of params) {
    let next = value
    for (const r of redactors) next = r.field?.(name, next) ?? next
    out.append(name, next)
  }
  return out
}

/** Applies redactors to every value of a JSON document, depth first; returns a copy. */
export function applyJsonRedactors(value: unknown, redactors: Redactor[], path = '$', key = ''): unknown {
  if (path !== '$') {
    for (const r of redactors) {
      if (!r.json) continue
      const replaced = r.json(path, key, value)
      if (replaced !== undefined) return replaced
    }
  }
  // Plain loops: every transcript event passes here, most of them on the request path.
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let index = 0; index < value.length; index++) out[index] = applyJsonRedactors(value[index], redactors, `${path}.${index}`, String(index))
    return out
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(value)) out[k] = applyJsonRedactors((value as Record<string, unknown>)[k], redactors, `${path}.${k}`, k)
    return out
  }
  return value
}
