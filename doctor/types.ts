import { z } from 'zod'
import { KNOWN_ISSUES, type DoctorIssueId } from '../core/known-issues.ts'

/**
 * How bad a finding is. `fail`: a real client cannot connect or work (or the Worker cannot start);
 * `warn`: it works, but a known failure is waiting (a browser app, a deploy, a malformed request);
 * `ok`: checked and fine; `skipped`: cannot be decided from the outside here (the finding says why).
 */
export const FindingStatusSchema = z.enum(['ok', 'warn', 'fail', 'skipped'])
export type FindingStatus = z.infer<typeof FindingStatusSchema>

/** One diagnosis: the known issue it concerns, what a user sees, why, and what to change. */
export const FindingSchema = z.object({
  /**
   * The known-issue id (`KI-07`, see docs/known-issues.md); `start` for a build/start failure with no known id; `auth` when
   * the credentials given (or obtained by sign-in) do not open the endpoint; `upstream` when the
   * doctor's probes made the Worker call an upstream no mock answers; `worker` when the Worker
   * throws at every MCP path for a reason no known issue names.
   */
  id: z.string().regex(/^(KI-\d{2}|start|auth|upstream|worker)$/),
  status: FindingStatusSchema,
  title: z.string(),
  /** What a user of the server sees when this goes wrong. */
  symptom: z.string(),
  /** Why, in plain words (for `ok`: what was verified). */
  cause: z.string(),
  /** What to change (empty for `ok`). */
  fix: z.string(),
  /** What the doctor observed: requests and answers, lines of a file. */
  evidence: z.array(z.string()),
})
export type Finding = z.infer<typeof FindingSchema>

/** The doctor's report: what was examined, every finding, and whether any failed. */
export const DoctorReportSchema = z.object({
  /** The wrangler config or base URL examined (and/or the client config file). */
  target: z.string(),
  /** Base URL the probes ran against, when a server was reachable. */
  url: z.string().optional(),
  findings: z.array(FindingSchema),
  /** Count per status. */
  summary: z.object({ ok: z.number(), warn: z.number(), fail: z.number(), skipped: z.number() }),
  durationMs: z.number(),
})
export type DoctorReport = z.infer<typeof DoctorReportSchema>

/** The options of `runDoctor` (the emulator to reuse, if any, is passed beside them). */
export const DoctorOptionsSchema = z
  .object({
    /** A wrangler config (or its folder): the doctor starts the emulator on it. */
    config: z.string().min(1).optional(),
    /** The base URL of a running server (emulator, `wrangler dev`, or deployed). */
    url: z.string().url().optional(),
    /** wrangler environment, with `config`. */
    environment: z.string().optional(),
    /** A Claude Desktop / Cursor style client config file to validate (KI-20, KI-05). */
    clientConfig: z.string().min(1).optional(),
    /** The browser page origin the CORS checks model; localhost-class so DNS-rebinding guards let it in. */
    origin: z.string().url().default('http://localhost:6274'),
    /** A tool whose answer counts calls (like `counter`): call, evict the session's Durable Object, call again (KI-11, needs `config`). */
    evictCheck: z.string().min(1).optional(),
    /** Extra request headers every MCP probe sends, as a client configured with them would (e.g. an API key header). */
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name'), z.string()).default({}),
    /** A bearer token: every MCP probe sends `Authorization: Bearer <token>`, so the checks behind auth run. */
    token: z.string().min(1).optional(),
    /** Obtain a token by signing in (the `signIn` function passed beside the options runs the OAuth flow). */
    signIn: z.boolean().default(false),
    /** Upper bound for each probe. */
    timeoutMs: z.number().int().positive().default(5_000),
  })
  .refine((o) => !(o.config && o.url), { message: 'give either config or url, not both' })
  .refine((o) => !(o.signIn && (o.token || Object.keys(o.headers).some((name) => name.toLowerCase() === 'authorization'))), { message: 'give either signIn or a token (token, or an Authorization header), not both' })
export type DoctorOptions = z.input<typeof DoctorOptionsSchema>
export type ResolvedDoctorOptions = z.output<typeof DoctorOptionsSchema>

/** Titles (as the doctor prints each check) and symptoms of the known issues the doctor checks, from `core/known-issues.ts`. */
export const CATALOGUE = Object.fromEntries(
  KNOWN_ISSUES.flatMap((issue) => (issue.doctor ? [[issue.id, { title: issue.doctor.check, symptom: issue.symptom }] as const] : [])),
) as Record<DoctorIssueId, { title: string; symptom: string }>

export type CatalogueId = keyof typeof CATALOGUE

/** Findings about the doctor's own run rather than a known issue of the server. */
const RUN_CHECKS = {
  auth: { title: 'Credentials accepted', symptom: 'the checks behind the server\'s auth cannot run' },
  upstream: { title: 'Upstream calls without a mock', symptom: 'the Worker fails with 502 where it calls an upstream the emulator does not mock' },
  worker: { title: 'Worker answers MCP without throwing', symptom: 'every MCP request gets 500 "error code: 1101" (the Worker throws)' },
} as const

/** Builds a finding with the catalogue's title and symptom (title may be specialised). */
export function finding(id: CatalogueId | keyof typeof RUN_CHECKS, status: FindingStatus, parts: { title?: string; cause: string; fix?: string; evidence?: string[] }): Finding {
  const entry = id in RUN_CHECKS ? RUN_CHECKS[id as keyof typeof RUN_CHECKS] : CATALOGUE[id as CatalogueId]
  return { id, status, title: parts.title ?? entry.title, symptom: entry.symptom, cause: parts.cause, fix: parts.fix ?? '', evidence: parts.evidence ?? [] }
}
