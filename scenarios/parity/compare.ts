/**
 * Compares two normalized runs of one scenario: the outcome first, then exchange by exchange
 * (status, compared headers, JSON-RPC bodies, SSE events). Reports the first difference only:
 * what follows it usually differs because of it.
 */
import type { NormalizedExchange, NormalizedRun } from './normalize.ts'

/** The first point where two runs disagree. */
export interface RunDifference {
  /** `outcome`, or `#<n> <label>` of the first differing exchange (what the baseline names). */
  exchange: string
  /** What differs there: `status`, `headers.content-type`, `body`, `events`, `missing`, `outcome`, ... */
  fields: string[]
  /** The reference side and the other side, as shown side by side. */
  left: unknown
  right: unknown
  /** The outcome of each side, for context. */
  outcomes: [string, string]
}

/** Key-sorted JSON: equal values print equal. */
export function stableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v), indent)
}

const same = (a: unknown, b: unknown) => stableJson(a) === stableJson(b)

/** Which parts of two exchanges differ (empty when equal). */
export function exchangeFields(a: NormalizedExchange, b: NormalizedExchange): string[] {
  const fields: string[] = []
  if (a.label !== b.label || !same(a.request, b.request)) fields.push('request')
  if (!same(a.error, b.error)) fields.push('error')
  const ra = a.response
  const rb = b.response
  if (!ra || !rb) {
    if (ra || rb) fields.push('response')
    return fields
  }
  if (ra.status !== rb.status) fields.push('status')
  for (const name of new Set([...Object.keys(ra.headers), ...Object.keys(rb.headers)])) if (ra.headers[name] !== rb.headers[name]) fields.push(`headers.${name}`)
  if (!same(ra.body, rb.body)) fields.push('body')
  if (!same(ra.events, rb.events)) fields.push('events')
  if (ra.ended !== rb.ended) fields.push('ended')
  return fields
}

const outcomeText = (run: NormalizedRun) => (run.outcome === 'pass' ? 'pass' : `fail: ${run.error ?? ''}`)

/**
 * The first difference between the reference run and another target's run, or undefined when
 * they agree on the outcome and on every exchange.
 * @example const difference = firstDifference(emulatorRun, wranglerRun)
 */
export function firstDifference(reference: NormalizedRun, other: NormalizedRun): RunDifference | undefined {
  const outcomes: [string, string] = [outcomeText(reference), outcomeText(other)]
  const count = Math.max(reference.exchanges.length, other.exchanges.length)
  for (let i = 0; i < count; i++) {
    const a = reference.exchanges[i]
    const b = other.exchanges[i]
    if (!a || !b) {
      const present = (a ?? b)!
      return { exchange: `#${i + 1} ${present.label}`, fields: ['missing'], left: a ?? '(no such exchange)', right: b ?? '(no such exchange)', outcomes }
    }
    const fields = exchangeFields(a, b)
    if (fields.length) return { exchange: `#${i + 1} ${a.label}`, fields, left: a, right: b, outcomes }
  }
  if (outcomes[0] !== outcomes[1]) return { exchange: 'outcome', fields: ['outcome'], left: outcomes[0], right: outcomes[1], outcomes }
  return undefined
}
