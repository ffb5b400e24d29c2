import { readFile } from 'node:fs/promises'
import { expect, test } from 'vitest'
import { HarnessError } from './errors.ts'
import { KNOWN_ISSUES, KNOWN_ISSUES_PAGE, KnownIssueSchema, knownIssueLink } from './known-issues.ts'
import { renderKnownIssuesPage } from '../scripts/known-issues.ts'

test('every catalogue entry is valid and ids are unique and in order', () => {
  for (const issue of KNOWN_ISSUES) expect(KnownIssueSchema.safeParse(issue).success).toBe(true)
  const ids = KNOWN_ISSUES.map((issue) => issue.id)
  expect(new Set(ids).size).toBe(ids.length)
  expect([...ids].sort()).toEqual(ids)
})

test('an entry marked not reproducible needs a concrete reason, and a reproducible one a scenario', () => {
  const base = { id: ['KI', '99'].join('-'), title: 'x y z', symptom: 'x y z', cause: 'x y z', fix: 'x y z' }
  expect(KnownIssueSchema.safeParse({ ...base, reproducible: { status: 'no', reason: 'hard' } }).success).toBe(false)
  expect(KnownIssueSchema.safeParse({ ...base, reproducible: { status: 'yes' } }).success).toBe(false)
  expect(KnownIssueSchema.safeParse({ ...base, reproducible: { status: 'yes' }, scenarios: ['a/b.test.ts'] }).success).toBe(true)
})

test('the committed docs/known-issues.md is the one the catalogue generates (run node scripts/known-issues.ts)', async () => {
  const committed = await readFile(KNOWN_ISSUES_PAGE, 'utf8')
  expect(committed).toBe(renderKnownIssuesPage())
})

test('a HarnessError citing known-issue ids points at their entries on the page', () => {
  const error = new HarnessError('ERR_EVICT_BLOCKED', 'Failed to evict x: a timer (KI-32), also KI-11 and KI-32 again.')
  expect(error.message).toMatch(new RegExp(`again\\. See ${knownIssueLink('KI-32')}, ${knownIssueLink('KI-11')}\\.$`))
  expect(new HarnessError('ERR_OPTIONS', 'Invalid option').message).toBe('[mcp-harness] ERR_OPTIONS: Invalid option')
})
