/**
 * How parity scenarios are written: plain async functions over a `ParityContext`, grouped into
 * suites, runnable by the CLI and by vitest alike. Same shape as the vitest DSL in
 * scenarios/helpers/scenario.ts (a name, the transports it expands to, what it requires).
 */
import type { ParityContext, Transport } from '../context.ts'

export interface ParityScenario {
  /** `<suite>/<name>`, unique; what the table and the baseline name. */
  id: string
  suite: string
  name: string
  /** What the target must serve, else the scenario is skipped there. */
  requires?: readonly ('stateless' | Transport)[]
  /** Bound of one run (default 30 s). */
  timeoutMs?: number
  run(ctx: ParityContext): Promise<void>
}

export interface ParitySuite {
  name: string
  /** One line: what the suite covers. */
  summary: string
  /** Scenarios may run at once on one target (each waits on its own session, e.g. idle eviction). */
  concurrent?: boolean
  /** Only when asked for by name (slow). */
  optIn?: boolean
  scenarios: ParityScenario[]
}

type Options = { requires?: ParityScenario['requires']; timeoutMs?: number; transports?: readonly Transport[] }
type Body<C> = (ctx: ParityContext, extra: C) => Promise<void>

/**
 * Collects the scenarios of one suite. `scenario()` defines one; `each()` expands one per
 * transport, named `<name> [<transport>]`, like the vitest DSL.
 * @example const s = defineSuite('lifecycle', 'one session', (scenario, each) => { each('ping answers', async (ctx, transport) => {}) })
 */
export function defineSuite(
  name: string,
  summary: string,
  define: (scenario: (title: string, options: Options | Body<undefined>, body?: Body<undefined>) => void, each: (title: string, options: Options | Body<Transport>, body?: Body<Transport>) => void) => void,
  extra: Pick<ParitySuite, 'concurrent' | 'optIn'> = {},
): ParitySuite {
  const scenarios: ParityScenario[] = []
  const add = (title: string, options: Options, run: (ctx: ParityContext) => Promise<void>) => {
    const id = `${name}/${title}`
    if (scenarios.some((s) => s.id === id)) throw new Error(`Duplicate parity scenario "${id}"`)
    scenarios.push({ id, suite: name, name: title, ...(options.requires ? { requires: options.requires } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), run })
  }
  define(
    (title, options, body) => {
      const [o, b] = typeof options === 'function' ? [{}, options] : [options, body!]
      add(title, o, (ctx) => b(ctx, undefined))
    },
    (title, options, body) => {
      const [o, b] = typeof options === 'function' ? [{} as Options, options] : [options, body!]
      for (const transport of o.transports ?? (['streamable-http', 'sse'] as const)) add(`${title} [${transport}]`, { ...o, requires: [...(o.requires ?? []), transport] }, (ctx) => b(ctx, transport))
    },
  )
  return { name, summary, ...extra, scenarios }
}
