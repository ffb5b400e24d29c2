/**
 * Placeholders a replay binds to live values (`<session-1>`, `<event-3>`, `<origin>` for the
 * server's own origin), and redactions, which match anything.
 */
const TOKEN = /<(?:session|event)-\d+>|<origin>|<redacted:[^>]+>/g

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * What each placeholder of a cassette stands for in this run: learned from the live traffic, used
 * to rewrite the next requests and to compare answers.
 * @example bindings.match('<session-1>', res.headers.get('mcp-session-id')); bindings.substitute(path)
 */
export class Bindings {
  readonly values = new Map<string, string>()
  /** Makes fresh values for unbound placeholders (the mock server), instead of learning them. */
  readonly #invent?: (placeholder: string) => string

  constructor(invent?: (placeholder: string) => string) {
    this.#invent = invent
  }

  /** True when `text` holds a placeholder or a redaction. */
  static has(text: string): boolean {
    return new RegExp(TOKEN.source).test(text)
  }

  /** Replaces bound (or invented) placeholders in a string; redactions stay. */
  substitute(text: string): string {
    return text.replace(new RegExp(TOKEN.source, 'g'), (token) => {
      if (token.startsWith('<redacted:')) return token
      const bound = this.values.get(token)
      if (bound !== undefined) return bound
      if (!this.#invent) return token
      const fresh = this.#invent(token)
      this.values.set(token, fresh)
      return fresh
    })
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
    for (const [placeholder, value] of this.values) if (value) out = out.split(value).join(placeholder)
    return out
  }

  /**
   * Matches a recorded string (which may hold placeholders) against a live one, binding unbound
   * placeholders; false when they differ or contradict an earlier binding.
   */
  match(recorded: string, live: string): boolean {
    if (!Bindings.has(recorded)) return recorded === live
    const names: string[] = []
    let pattern = ''
    let last = 0
    for (const m of recorded.matchAll(new RegExp(TOKEN.source, 'g'))) {
      pattern += escape(recorded.slice(last, m.index))
      const token = m[0]
      if (token.startsWith('<redacted:')) pattern += '[\\s\\S]*?'
      else if (this.values.has(token)) pattern += escape(this.values.get(token)!)
      else if (names.includes(token)) pattern += `\\k<p${names.indexOf(token)}>`
      else {
        pattern += `(?<p${names.length}>[\\s\\S]+?)`
        names.push(token)
      }
      last = m.index + token.length
    }
    pattern += escape(recorded.slice(last))
    const found = new RegExp(`^${pattern}$`).exec(live)
    if (!found) return false
    names.forEach((name, index) => this.values.set(name, found.groups![`p${index}`]!))
    return true
  }
}
