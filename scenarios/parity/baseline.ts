/**
 * The parity baseline (`parity-baseline.yml`): differences that are understood and accepted, each
 * with a one-line reason. A difference not listed fails the run; a listed one that no longer
 * differs fails it too, so the file stays true.
 */
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { z } from 'zod'
import { HarnessError } from '../../core/errors.ts'
import { parseOptions } from '../../core/zod-error.ts'

export const BaselineEntrySchema = z
  .object({
    /** The target that differs from the reference target (`wrangler-dev`, `remote`, `url=…`). */
    target: z.string().min(1),
    /** Scenario id, e.g. `protocol/an empty mcp-protocol-version gets 400`. */
    scenario: z.string().min(1),
    /** The first differing exchange as the report names it (`#3 POST /mcp ping`) or `outcome`. */
    exchange: z.string().min(1),
    /** One line: why this difference is accepted. */
    reason: z.string().min(1).refine((reason) => !reason.includes('\n'), 'the reason must be one line'),
    /** Worker name the entry is about (from its wrangler config); every Worker when omitted. */
    worker: z.string().min(1).optional(),
  })
  .strict()
export type BaselineEntry = z.infer<typeof BaselineEntrySchema>

export const BaselineSchema = z.object({ version: z.literal(1), differences: z.array(BaselineEntrySchema).default([]) }).strict()
export type Baseline = z.infer<typeof BaselineSchema>

/** Reads and validates a baseline file; a missing file is an empty baseline only when `optional`. */
export async function loadBaseline(file: string, { optional = false } = {}): Promise<Baseline> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, differences: [] }
    throw new HarnessError('ERR_OPTIONS', `Failed to read the parity baseline ${file}: ${(error as Error).message}.`, { cause: error })
  }
  let data: unknown
  try {
    data = parse(text)
  } catch (error) {
    throw new HarnessError('ERR_OPTIONS', `Failed to parse the parity baseline ${file}: ${(error as Error).message}`, { cause: error })
  }
  // Each entry needs target, scenario, exchange and a one-line reason; zod names what is missing.
  return parseOptions(BaselineSchema, data ?? { version: 1 }, `parity baseline ${file}`)
}

/** Whether an entry is about this target, scenario and Worker. */
export function entryApplies(entry: BaselineEntry, at: { target: string; scenario: string; worker: string }): boolean {
  return entry.target === at.target && entry.scenario === at.scenario && (!entry.worker || entry.worker === at.worker)
}
