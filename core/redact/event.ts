import { applyFieldRedactors, applyHeaderRedactors, applyJsonRedactors, defaultRedactors, redacted, type Redactor } from './index.ts'

/**
 * Redaction of transcript events, with the same redactors as cassettes: what the transcript keeps in
 * memory (and serves at the control plane's `/v1/transcript`) never holds a secret either.
 */

/** Event fields that hold a URL or a path with a query (`/callback?code=…`). */
const URL_FIELDS = new Set(['url', 'location', 'target', 'endpoint'])
/** Response headers whose value is a URL. */
const URL_HEADERS = new Set(['location', 'content-location', 'referer'])
/** Event fields that hold raw text, possibly a form body. */
const TEXT_FIELDS = new Set(['bodyText', 'dataText', 'text'])
const FORM = /^[\w.%+-]+=[^\s&]*(?:&[\w.%+-]+=[^\s&]*)*$/

/** Redacts query or form pairs; returns undefined when nothing changed (so unchanged text stays byte for byte). */
function redactPairs(text: string, redactors: Redactor[]): string | undefined {
  const params = new URLSearchParams(text)
  const out = applyFieldRedactors(params, redactors)
  // A value that is itself a URL (`?url=https://idp/authorize?state=…`, `redirect_uri`) is redacted too.
  const nested = new URLSearchParams()
  for (const [name, value] of out) nested.append(name, /^https?:\/\/[^?]*\?/.test(value) ? redactUrlQuery(value, redactors) : value)
  const before = [...params].map(([, value]) => value)
  const changed = [...nested].some(([, value], index) => value !== before[index])
  return changed ? nested.toString() : undefined
}

/**
 * Redacts the query of a URL or path (`/cb?code=x&keep=1` → `/cb?code=%3Credacted%3Acode%3E&keep=1`).
 * @example redactUrlQuery('https://app.example/cb?code=abc&state=xyz')
 */
export function redactUrlQuery(value: string, redactors: Redactor[] = defaultRedactors): string {
  const q = value.indexOf('?')
  if (q < 0) return value
  const hash = value.indexOf('#', q)
  const query = value.slice(q + 1, hash < 0 ? undefined : hash)
  const next = redactPairs(query, redactors)
  return next === undefined ? value : `${value.slice(0, q + 1)}${next}${hash < 0 ? '' : value.slice(hash)}`
}

/**
 * Redacts a body given as text: JSON values and form fields by name; other text is kept.
 * @example redactBodyText('grant_type=authorization_code&code=abc')
 */
export function redactBodyText(text: string, redactors: Redactor[] = defaultRedactors): string {
  if (FORM.test(text)) return redactPairs(text, redactors) ?? text
  return text
}

/** Redacts a header map: credentials by name, and the query of URL-valued headers (`Location`). */
export function redactHeaderRecord(headers: Record<string, string>, redactors: Redactor[] = defaultRedactors): Record<string, string> {
  const out = applyHeaderRedactors(headers, redactors)
  for (const name of URL_HEADERS) if (typeof out[name] === 'string') out[name] = redactUrlQuery(out[name], redactors)
  return out
}

/**
 * Redacts one transcript event before it is stored: `headers`, URL fields and `query`, form text, and
 * every JSON value (bodies, SSE data, hop messages and arguments) by field name.
 * @example transcript.record(redactEvent({ layer: 'client', type: 'request', query: '?code=abc' }))
 */
export function redactEvent<T extends Record<string, unknown>>(event: T, redactors: Redactor[] = defaultRedactors): T {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event)) {
    if (key === 'headers' && value !== null && typeof value === 'object' && !Array.isArray(value)) out[key] = redactHeaderRecord(value as Record<string, string>, redactors)
    else if (typeof value === 'string' && (key === 'query' || URL_FIELDS.has(key))) out[key] = redactUrlQuery(value, redactors)
    else if (typeof value === 'string' && TEXT_FIELDS.has(key)) out[key] = redactBodyText(value, redactors)
    else out[key] = applyJsonRedactors(value, redactors, `$.${key}`, key)
  }
  return out as T
}

/**
 * Key names that carry credentials by convention in objects a Worker builds itself (OAuth props such
 * as `accessToken`, `githubToken`, `apiKey`): the hop layer adds this to the defaults, because props
 * travel to the Durable Object on every session start.
 * @example applyJsonRedactors(props, [...defaultRedactors, redactCredentialKeys()])
 */
export function redactCredentialKeys(pattern = /token|secret|password|authorization|cookie|api[-_]?key/i): Redactor {
  return {
    name: `credentialKeys(${pattern.source})`,
    json: (_path, key, value) => (typeof value === 'string' && value !== '' && pattern.test(key) ? redacted(key) : undefined),
  }
}
