import { z } from 'zod'
import { CF_FIXTURE } from './internal/cf-fixture.ts'
import { parseOptions } from '../core/zod-error.ts'
import { TranscriptOptionsSchema } from '../core/transcript.ts'
import { UpstreamOptionsSchema } from './plugins/upstream/plugin.ts'
import { HopOptionsSchema } from './plugins/hop.ts'
import { HibernationOptionsSchema } from './plugins/hibernation.ts'
import { CorsOptionsSchema } from './plugins/cors.ts'
import { TimeoutsOptionsSchema } from './plugins/io-context.ts'

/** A wrangler config given inline: the same fields as wrangler.jsonc, with paths relative to `baseDir`. */
export const InlineWorkerConfigSchema = z
  .object({
    name: z.string().min(1).optional(),
    main: z.string().min(1),
    compatibility_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date like "2026-07-01"'),
    baseDir: z.string().default('.'),
  })
  .passthrough()

export const EmulatorOptionsSchema = z.object({
  /**
   * Path of a wrangler config (or the folder holding one), or the config inline. When omitted, the
   * harness config (`mcp-harness.config.ts` in the current folder) names it, else the current folder.
   */
  config: z.union([z.string().min(1), InlineWorkerConfigSchema]).default('.'),
  /** A harness config file to read (see emulator/config-file.ts); read by default only when `config` is omitted. `false` reads none. */
  harnessConfig: z.union([z.string().min(1), z.literal(false)]).optional(),
  /** A dotenv file whose entries become bindings after `.dev.vars` (folded into `vars` before the emulator starts). */
  envFile: z.string().min(1).optional(),
  /** Secret bindings on top of `.dev.vars`, like `vars` but never shown (folded into `vars` before the emulator starts). */
  secrets: z.record(z.string(), z.string()).optional(),
  /** The wrangler environment (`--env`). */
  environment: z.string().optional(),
  /** Loopback only: nothing the harness starts listens beyond this machine. */
  host: z.enum(['127.0.0.1', 'localhost', '::1']).default('127.0.0.1'),
  /** Port of the emulator's front door; 0 takes a free one. */
  port: z.number().int().min(0).max(65535).default(0),
  /** The `request.cf` object; a fixture so Miniflare never asks the network. */
  cf: z.record(z.string(), z.unknown()).default({ ...CF_FIXTURE }),
  /** Folder for Durable Object / KV storage; a fresh temporary one when omitted (removed on dispose). */
  persistDir: z.string().optional(),
  /** Extra or overriding plain-text bindings (vars and secrets), applied after wrangler's and `.dev.vars`. */
  vars: z.record(z.string(), z.string()).default({}),
  /** Where the Worker's console output and uncaught exceptions go: the transcript, and with `inherit` also stderr (prefixed). */
  workerLog: z.enum(['inherit', 'transcript', 'silent']).default('transcript'),
  /** Called for each line of build progress; the CLI prints these. */
  onProgress: z.custom<(message: string) => void>((value) => typeof value === 'function').optional(),
  /** Mocked OAuth upstreams and other outbound APIs (plugin `upstream`). */
  upstream: UpstreamOptionsSchema.default({ providers: [], handlers: [], auditSessionOwners: true }),
  /** The Worker→DO hop tap (transcript layer `hop`, faults, sessions). */
  hop: HopOptionsSchema.default({ tap: true }),
  /**
   * Opt-in diagnosis. `hibernation: true` watches timers, Durable Object `waitUntil` and `accept()`ed
   * sockets inside the isolate to explain why an object cannot hibernate (KI-32); it patches globals,
   * so it is off unless asked for.
   */
  diagnose: z.object({ hibernation: z.boolean().default(false) }).strict().default({ hibernation: false }),
  /** Idle policy: `'off'`, `'production'` (10 s) or `{ idleMs }`; evicts through on-demand eviction. */
  hibernation: HibernationOptionsSchema,
  /** How a browser would judge cross-origin requests (plugin `cors`); `enforce: true` applies it to non-browser clients. */
  cors: CorsOptionsSchema.default({ enforce: false, credentials: 'same-origin', read: ['mcp-session-id', 'www-authenticate'] }),
  /** Bound of the in-memory transcript (`{ maxEvents }`): generous by default; `serve` uses a smaller one. */
  transcript: TranscriptOptionsSchema.default({ maxEvents: 1_000_000 }),
  /** IoContext limits workerd lacks (plugin `timeouts`): off unless given; `{}` is production's, `{ scale: 0.01 }` is 100x faster. */
  timeouts: TimeoutsOptionsSchema.optional(),
})

export type EmulatorOptions = z.input<typeof EmulatorOptionsSchema>
export type ResolvedEmulatorOptions = z.output<typeof EmulatorOptionsSchema>

export function parseEmulatorOptions(input: unknown): ResolvedEmulatorOptions {
  return parseOptions(EmulatorOptionsSchema, input, 'emulator options')
}
