/**
 * The test-file order of this repository's own suite: slowest first, so that on two workers the long
 * files start at once and the run does not end with one of them running alone. A file's time is
 * vitest's cached duration from the last run here, else the committed one
 * (scenarios/helpers/test-durations.json, written by `node scripts/test-durations.ts` after a full
 * run), else the median of the committed ones. Files that failed last time still run first.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

const DURATIONS_FILE = path.join(import.meta.dirname, 'test-durations.json')

/** Committed durations (ms) by file path relative to the repository root; empty when unreadable. */
export function committedDurations(file = DURATIONS_FILE): Record<string, number> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
}

export default class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const committed = committedDurations()
    const known = Object.values(committed).sort((a, b) => a - b)
    const fallback = known.length ? known[Math.floor(known.length / 2)]! : 0
    const facts = new Map(
      files.map((spec) => {
        const cached = this.ctx.cache.getTestSpecificationResult(spec)
        const relative = path.relative(spec.project.config.root, spec.moduleId).split(path.sep).join('/')
        return [spec, { failed: cached?.failed ?? false, ms: cached?.duration ?? committed[relative] ?? fallback }] as const
      }),
    )
    return [...files].sort((a, b) => {
      const fa = facts.get(a)!
      const fb = facts.get(b)!
      if (fa.failed !== fb.failed) return fa.failed ? -1 : 1
      return fb.ms - fa.ms
    })
  }
}
