/**
 * Placeholders a replay binds to live values (`<session-1>`, `<event-3>`, `<client-1>` for a client id
 * from dynamic registration, `<origin>` for the server's own origin), and redactions (`<redacted:code>`),
 * which match anything. Inside URLs and form bodies both appear percent-encoded (`%3Credacted%3Acode%3E`).
 *
 * A redaction is also a slot: the live value it stood for in an answer (the `code` of a redirect, the
 * `access_token` of a token response, the `handle` of a consent form) is kept in memory, latest first,
 * and put in its place in the requests that follow. That is how a recorded OAuth sign-in replays
 * against a fresh server without the cassette holding a single secret.
 */
const PLAIN = /<(?:(?:session|event|client)-\d+|origin|redacted:[^>]+)>/
const ENCODED = /%3C(?:(?:session|event|client)-\d+|origin|redacted%3A[\w.-]+)%3E/
const TOKEN = new RegExp(`${PLAIN.source}|${ENCODED.source}`, 'g')
const HAS_TOKEN = new RegExp(TOKEN.source)

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** One token of a recorded string: its plain form (`<redacted:code>`) and whether it was percent-encoded. */
interface Token {
  plain: string
  encoded: boolean
  /** The redaction name, for `<redacted:name>`. */
  redaction?: string
}

/** A recorded string cut into literal text and tokens, once. */
type Parsed = (string | Token)[]

function parse(text: string): Parsed {
  const out: Parsed = []
  let last = 0
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) out.push(text.slice(last, m.index))
    const encoded = m[0].startsWith('%')
    const plain = encoded ? decodeURIComponent(m[0]) : m[0]
    out.push({ plain, encoded, ...(plain.startsWith('<redacted:') ? { redaction: plain.slice(10, -1) } : {}) })
    last = m.index + m[0].length
  }
  if (last < text.length) out.push(text.slice(last))
  return out
}

/** Recorded strings are parsed once per process (a replay or a mock session reuses them), bounded. */
const parsedStrings = new Map<string, Parsed>()

export interface BindingsOptions {
  /** Makes fresh values for unbound placeholders (the mock server), instead of learning them. */
  invent?: (placeholder: string) => string
  /**
   * Makes a value for a redaction no answer has supplied yet (the replay: a client's own `state`, a
   * PKCE verifier and its challenge). Without it, unsupplied redactions stay as they are.
   */
  inventSecret?: (name: string, bindings: Bindings) => string
}

/**
 * What each placeholder of a cassette stands for in this run: learned from the live traffic, used
 * to rewrite the next requests and to compare answers.
 * @example bindings.match('<session-1>', res.headers.get('mcp-session-id')); bindings.substitute(path)
 */
export class Bindings {
  readonly values = new Map<string, string>()
  /** Live values of redactions, by redaction name (latest wins); memory only, never written anywhere. */
  readonly secrets = new Map<string, string>()
  readonly #options: BindingsOptions

  constructor(options: BindingsOptions | ((placeholder: string) => string) = {}) {
    this.#options = typeof options === 'function' ? { invent: options } : options
  }

  /** True when `text` holds a placeholder or a redaction. */
  static has(text: string): boolean {
    return HAS_TOKEN.test(text)
  }

  #parse(text: string): Parsed {
    let parsed = parsedStrings.get(text)
    if (!parsed) {
      parsed = parse(text)
      if (parsedStrings.size < 100_000) parsedStrings.set(text, parsed)
    }
    return parsed
  }

  /** The live value for a token, inventing one when allowed; undefined when it stays as it is. */
  #value(token: Token): string | undefined {
    if (token.redaction !== undefined) {
      const known = this.secrets.get(token.redaction)
      if (known !== undefined || !this.#options.inventSecret) return known
      const fresh = this.#options.inventSecret(token.redaction, this)
      this.secrets.set(token.redaction, fresh)
      return fresh
    }
    const bound = this.values.get(token.plain)
    if (bound !== undefined || !this.#options.invent) return bound
    const fresh = this.#options.invent(token.plain)
    this.values.set(token.plain, fresh)
    return fresh
  }

  #render(text: string, escapeValue: (value: string) => string, secrets: boolean): string {
    if (!text.includes('<') && !text.includes('%3C')) return text
    const parsed = this.#parse(text)
    if (parsed.length === 1 && typeof parsed[0] === 'string') return text
    let out = ''
    for (const part of parsed) {
      if (typeof part === 'string') {
        out += part
        continue
      }
      const value = part.redaction !== undefined && !secrets ? undefined : this.#value(part)
      out += value === undefined ? (part.encoded ? encodeURIComponent(part.plain) : part.plain) : escapeValue(part.encoded ? encodeURIComponent(value) : value)
    }
    return out
  }

  /** Replaces bound (or invented) placeholders in a string; redactions stay unless `secrets` is set (a replay's requests). */
  substitute(text: string, secrets = false): string {
    return this.#render(text, (v) => v, secrets)
  }

  /** Like `substitute`, on JSON text: values are JSON-escaped, so the text stays valid JSON. */
  substituteJsonText(json: string, secrets = false): string {
    return this.#render(json, (v) => JSON.stringify(v).slice(1, -1), secrets)
  }

  /** True when every redaction in `text` has a live value from an answer (a header is sent only then). */
  knows(text: string): boolean {
    return this.#parse(text).every((part) => typeof part === 'string' || part.redaction === undefined || this.secrets.has(part.redaction))
  }

  /** Replaces placeholders in every string of a JSON value. */
  substituteJson(value: unknown): unknown {
    if (typeof value === 'string') return this.substitute(value)
    if (Array.isArray(value)) return value.map((item) => this.substituteJson(item))
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.substituteJson(v)]))
    return value
  }

  /** Replaces live values by their placeholders (the inverse of substitute), e.g. to match a mock's incoming request. */
  unsubstitute(text: string): string {
    let out = text
    for (const [placeholder, value] of this.values) if (value && out.includes(value)) out = out.split(value).join(placeholder)
    return out
  }

  /**
   * Matches a recorded string (which may hold placeholders) against a live one, binding unbound
   * placeholders and keeping the live values of redactions; false when they differ or contradict an
   * earlier binding.
   */
  match(recorded: string, live: string): boolean {
    if (!recorded.includes('<') && !recorded.includes('%3C')) return recorded === live
    const parsed = this.#parse(recorded)
    // Everything bound and nothing redacted (an SSE event id, a session id seen before): a plain
    // comparison of the substituted text, without building a pattern.
    if (parsed.every((part) => typeof part === 'string' || (part.redaction === undefined && this.values.has(part.plain)))) return this.substitute(recorded) === live
    const names: Token[] = []
    let pattern = ''
    let simple = true
    for (const part of parsed) {
      if (typeof part === 'string') {
        pattern += escape(part)
        continue
      }
      const bound = part.redaction === undefined ? this.values.get(part.plain) : undefined
      if (bound !== undefined) pattern += escape(part.encoded ? encodeURIComponent(bound) : bound)
      else {
        simple = false
        const earlier = part.redaction === undefined ? names.findIndex((n) => n.plain === part.plain && n.encoded === part.encoded) : -1
        if (earlier >= 0) pattern += `\\k<p${earlier}>`
        else {
          pattern += `(?<p${names.length}>[\\s\\S]${part.redaction !== undefined ? '*' : '+'}?)`
          names.push(part)
        }
      }
    }
    // Everything bound and nothing redacted: a plain comparison of the substituted text.
    if (simple) return this.substitute(recorded) === live
    const found = new RegExp(`^${pattern}$`).exec(live)
    if (!found) return false
    names.forEach((token, index) => {
      const raw = found.groups![`p${index}`]!
      let value = raw
      if (token.encoded) {
        try {
          value = decodeURIComponent(raw.replace(/\+/g, ' '))
        } catch {
          value = raw
        }
      }
      if (token.redaction !== undefined) {
        if (value !== '') this.secrets.set(token.redaction, value)
      } else this.values.set(token.plain, value)
    })
    return true
  }
}
