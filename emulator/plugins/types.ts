import type { Miniflare, WorkerOptions } from 'miniflare'
import type { z } from 'zod'
import type { FrontMiddleware } from '../internal/front.ts'
import type { BuildResult, WorkerConfig } from '../internal/wrangler.ts'
import type { Transcript } from '../../core/transcript.ts'

/** Answers a request the Worker (or one of its Durable Objects) sent upstream, or passes (undefined). */
export type OutboundHandler = (request: Request) => Response | undefined | Promise<Response | undefined>

/**
 * A module that wraps the Worker's default export: `source` is an ES module whose export
 * `exportName` takes the user's default export and returns the one the runtime calls.
 */
export interface EntryWrapper {
  /** Short name, used in the generated file name. */
  name: string
  source: string
  exportName: string
  /** An export of `source` that takes each local Durable Object class and returns the one the runtime uses. */
  durableObjectExportName?: string
}

/** What a plugin may shape before the runtime starts, and reach after. */
export interface PluginContext {
  /** The Worker under test, as wrangler read it. */
  readonly worker: WorkerConfig
  /** How the Worker under test was built (its bundle's entry module, for plugins that wrap it). */
  readonly build: BuildResult
  /** The Miniflare name of the Worker under test. */
  readonly appWorkerName: string
  readonly transcript: Transcript
  /** Opt-in diagnosis that patches globals inside the isolate (off by default: it changes the Worker). */
  readonly diagnose: { hibernation: boolean }
  /** Changes the Worker-under-test's Miniflare options (e.g. `serviceBindings`). */
  patchAppWorker(patch: Partial<WorkerOptions>): void
  /** Adds a helper Worker to the runtime (e.g. a relay that taps the Worker→DO hop). */
  addWorker(options: WorkerOptions & { name: string }): void
  /** Wraps the Worker's default export (innermost first, in registration order); named exports stay as they are. */
  wrapEntry(wrapper: EntryWrapper): void
  /** Adds a middleware at the emulator's front door, in registration order. */
  addMiddleware(middleware: FrontMiddleware): void
  /** Adds an outbound handler; the first that answers wins, unanswered requests fail loudly. */
  addOutboundHandler(handler: OutboundHandler): void
  /** The running Miniflare (throws before start). */
  miniflare(): Miniflare
}

/** What a plugin's setup returns: hooks into the runtime's life. */
export interface PluginInstance {
  /** After every (re)start of the runtime. */
  afterStart?(miniflare: Miniflare): void | Promise<void>
  /** Before the runtime is disposed or restarted. */
  beforeStop?(): void | Promise<void>
}

/**
 * One emulated platform behaviour: a name, a zod schema for its options (under `options[name]`),
 * and a setup that shapes the runtime.
 * @example export const corsPlugin: EmulatorPlugin<typeof CorsOptionsSchema> = { name: 'cors', options: CorsOptionsSchema, setup }
 */
export interface EmulatorPlugin<S extends z.ZodType = z.ZodType> {
  name: string
  options: S
  setup(ctx: PluginContext, options: z.output<S>): PluginInstance | void | Promise<PluginInstance | void>
}
