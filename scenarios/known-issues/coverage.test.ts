// Coverage of the known-issue catalogue (core/known-issues.ts): every entry is reproduced by a scenario
// whose test titles cite its id, or says concretely why it cannot be; no test cites an unknown id.
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { expect, test } from 'vitest'
import { KNOWN_ISSUES } from '../../core/known-issues.ts'

/** Folders whose test files may cite ids (unit tests beside the code, behaviour tests in scenarios/). */
const TEST_ROOTS = ['scenarios', 'core', 'emulator', 'doctor', 'cli', 'recordings']

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'fixtures' ? [] : testFiles(full)
      return entry.name.endsWith('.test.ts') ? [full] : []
    }),
  )
  return nested.flat()
}

/**
 * Ids cited in test titles: the string argument of test/it/scenario/describe (with modifiers such as
 * `.fails` or `.each([...])`), and the first cell of each row of a `test.each` table.
 */
function citedInTitles(source: string): Set<string> {
  const ids = new Set<string>()
  const titles = /\b(?:test|it|scenario|describe)(?:\.\w+)*(?:\([^()]*\))?\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g
  // The title of a table test: `test.each([...])('title', ...)`, also with a type argument.
  const tableTitles = /\]\s*\)\s*\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g
  for (const pattern of [titles, tableTitles]) for (const match of source.matchAll(pattern)) for (const id of match[2]!.match(/KI-\d{2}/g) ?? []) ids.add(id)
  if (/\.each\(\s*\[/.test(source)) for (const match of source.matchAll(/^\s*\[\s*'(KI-\d{2})'/gm)) ids.add(match[1]!)
  return ids
}

const files = (await Promise.all(TEST_ROOTS.map((root) => testFiles(root)))).flat().filter((file) => !file.endsWith(path.join('known-issues', 'coverage.test.ts')))
const sources = new Map(await Promise.all(files.map(async (file) => [file.split(path.sep).join('/'), await readFile(file, 'utf8')] as const)))

test.each(KNOWN_ISSUES.map((issue) => [issue.id, issue] as const))('%s is reproduced by a scenario citing it, or says why not', (id, issue) => {
  if (issue.reproducible.status === 'no') {
    expect(issue.reproducible.reason.length).toBeGreaterThanOrEqual(40)
    return
  }
  expect(issue.scenarios.length).toBeGreaterThan(0)
  for (const file of issue.scenarios) {
    expect(existsSync(file), `${id}: ${file} does not exist`).toBe(true)
    expect([...citedInTitles(sources.get(file) ?? '')], `${id}: no test title in ${file} cites it`).toContain(id)
  }
  // A variant named by path exists.
  for (const variant of [issue.broken, issue.fixed]) {
    const file = variant?.match(/^((?:server|scenarios)\/\S+\.jsonc)/)?.[1]
    if (file) expect(existsSync(file), `${id}: ${file} does not exist`).toBe(true)
  }
})

test('every KI id cited anywhere in a test or scenario file is in the catalogue', () => {
  const known = new Set(KNOWN_ISSUES.map((issue) => issue.id))
  const unknown = [...sources].flatMap(([file, source]) => [...new Set(source.match(/KI-\d{2}/g) ?? [])].filter((id) => !known.has(id)).map((id) => `${file}: ${id}`))
  expect(unknown).toEqual([])
})

test('the title scanner finds ids in titles and test.each rows, not in comments or bodies', () => {
  const source = [
    "// KI-01 in a comment",
    "test('KI-02: a title', () => { expect('KI-03').toBe('KI-03') })",
    'scenario(`KI-04 and KI-05 [${transport}]`, async () => {})',
    "test.fails(\"KI-06 (broken): x\", () => {})",
    "test.each([\n  ['KI-07', 'a'],\n])('%s: y', () => {})",
    "test.each<{ a: string }>([\n  { a: 'x' },\n])('KI-08: $a', () => {})",
  ].join('\n')
  expect([...citedInTitles(source)].sort()).toEqual(['KI-02', 'KI-04', 'KI-05', 'KI-06', 'KI-07', 'KI-08'])
})
