import { z } from 'zod'
import { parseOptions } from '../../core/zod-error.ts'
import type { Transcript } from '../../core/transcript.ts'

/** One step of the hop a fault can act on, as the tap reports it. */
export interface HopStep {
  step: 'upgrade' | 'frame' | 'rpc'
  /** DO name, e.g. `streamable-http:<id>`. */
  name: string
  session: string
  direction: 'worker->do' | 'do->worker'
  /** JSON-RPC methods the step carries (for a response: the method of the request it answers). */
  methods: string[]
  /** RPC method name, for `rpc` steps. */
  rpc?: string
}

export const HopFaultMatchSchema = z
  .object({
    /** Frame direction; upgrades and RPC calls go `worker->do`. */
    direction: z.enum(['worker->do', 'do->worker']).optional(),
    /** A session id or a DO name (`sse:<id>`). */
    session: z.string().min(1).optional(),
    /** A JSON-RPC method the step carries, e.g. `tools/call` (a response matches its request's method). */
    method: z.string().min(1).optional(),
    /** Which hop step: the WebSocket upgrade, a frame, or an RPC call (SSE messages travel as RPC). */
    step: z.enum(['upgrade', 'frame', 'rpc']).optional(),
    /** Acts only on the nth step that matches the other fields (1-based). */
    nth: z.number().int().positive().optional(),
  })
  .strict()

export const HopFaultActionSchema = z.discriminatedUnion('type', [
  /** The frame (or SSE message RPC) never reaches the other side. */
  z.object({ type: z.literal('drop') }).strict(),
  /** The frame (or RPC) is held back this long; order per direction is kept. */
  z.object({ type: z.literal('delay'), ms: z.number().int().min(0).max(120_000) }).strict(),
  /** The WebSocket upgrade to the DO answers this status instead of 101. */
  z.object({ type: z.literal('fail-upgrade'), status: z.number().int().min(400).max(599).default(503) }).strict(),
  /** Both sockets of the hop close with this code instead of passing the frame. */
  z.object({ type: z.literal('close'), code: z.number().int().min(1000).max(4999).default(1011), reason: z.string().max(120).default('mcp-harness fault') }).strict(),
])

export const HopFaultSchema = z
  .object({
    match: HopFaultMatchSchema.default({}),
    action: HopFaultActionSchema,
    /** How many times the fault fires before it removes itself (default: every time). */
    times: z.number().int().positive().optional(),
  })
  .strict()

export type HopFault = z.input<typeof HopFaultSchema>
type ResolvedFault = z.output<typeof HopFaultSchema>

/** A fault that was added; `remove()` takes it off, `fired` counts how often it acted. */
export interface HopFaultHandle {
  readonly id: number
  readonly fired: number
  remove(): void
}

/** The verdict the tap applies to one hop step. */
export type HopVerdict =
  | { action: 'drop'; fault: number }
  | { action: 'delay'; ms: number; fault: number }
  | { action: 'fail-upgrade'; status: number; body: string; fault: number }
  | { action: 'close'; code: number; reason: string; fault: number }

interface Entry {
  id: number
  fault: ResolvedFault
  seen: number
  fired: number
}

/**
 * Faults on the Worker→DO hop, chosen by a predicate. While at least one is set the tap asks Node
 * for a verdict at each step (it then costs one round trip per step).
 */
export class HopFaults {
  readonly #transcript: Transcript
  readonly #onChange: () => void
  readonly #entries: Entry[] = []
  #nextId = 1
  #generation = 0

  /** `onChange` runs after each change of the list (the tap then tells the isolate at once). */
  constructor(transcript: Transcript, onChange: () => void = () => {}) {
    this.#transcript = transcript
    this.#onChange = onChange
  }

  /** True while at least one fault is set. */
  get armed(): boolean {
    return this.#entries.length > 0
  }

  /** Grows with every change of the fault list, so the tap can ignore stale news. */
  get generation(): number {
    return this.#generation
  }

  /**
   * Adds a fault. The isolate learns of it from the next client request, or a few milliseconds later
   * from Node (on an open socket no request may come); `await emulator.settled()` waits until it has.
   * @example const fault = emulator.faults.add({ match: { direction: 'do->worker', method: 'tools/call' }, action: { type: 'drop' }, times: 1 })
   */
  add(input: HopFault): HopFaultHandle {
    const fault = parseOptions(HopFaultSchema, input, 'hop fault')
    const entry: Entry = { id: this.#nextId++, fault, seen: 0, fired: 0 }
    this.#entries.push(entry)
    this.#generation++
    this.#onChange()
    const entries = this.#entries
    const changed = () => {
      this.#generation++
      this.#onChange()
    }
    return {
      id: entry.id,
      get fired() {
        return entry.fired
      },
      remove() {
        const index = entries.indexOf(entry)
        if (index >= 0) entries.splice(index, 1)
        changed()
      },
    }
  }

  /** Removes every fault. */
  clear(): void {
    this.#entries.length = 0
    this.#generation++
    this.#onChange()
  }

  /** Decides what happens to one hop step and records the fault that acts, if any. */
  verdict(step: HopStep): HopVerdict | undefined {
    for (const entry of [...this.#entries]) {
      const { match, action } = entry.fault
      if (!appliesTo(action.type, step.step)) continue
      // Of the RPC calls only the SSE message carries client traffic; the rest are McpAgent plumbing.
      if (step.step === 'rpc' && step.rpc !== 'onSSEMcpMessage') continue
      if (match.step && match.step !== step.step) continue
      if (match.direction && match.direction !== step.direction) continue
      if (match.session && match.session !== step.session && match.session !== step.name) continue
      if (match.method && !step.methods.includes(match.method)) continue
      entry.seen++
      if (match.nth !== undefined && entry.seen !== match.nth) continue
      entry.fired++
      if (entry.fault.times !== undefined && entry.fired >= entry.fault.times) {
        this.#entries.splice(this.#entries.indexOf(entry), 1)
        this.#generation++
      }
      this.#transcript.record({ layer: 'hop', type: 'fault', fault: entry.id, action: action.type, step: step.step, name: step.name, session: step.session, direction: step.direction, methods: step.methods, ...(action.type === 'delay' ? { ms: action.ms } : {}) })
      switch (action.type) {
        case 'drop':
          return { action: 'drop', fault: entry.id }
        case 'delay':
          return { action: 'delay', ms: action.ms, fault: entry.id }
        case 'fail-upgrade':
          return { action: 'fail-upgrade', status: action.status, body: `[mcp-harness] fault ${entry.id}: upgrade refused with ${action.status}`, fault: entry.id }
        case 'close':
          return { action: 'close', code: action.code, reason: action.reason, fault: entry.id }
      }
    }
    return undefined
  }
}

function appliesTo(action: ResolvedFault['action']['type'], step: HopStep['step']): boolean {
  if (action === 'fail-upgrade') return step === 'upgrade'
  if (action === 'close') return step === 'frame'
  // drop/delay act on frames and on SSE message RPCs (the Worker→DO leg of legacy SSE).
  return step === 'frame' || step === 'rpc'
}
