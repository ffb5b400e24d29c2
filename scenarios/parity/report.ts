/**
 * The report a person reads: one table (scenario x target), then for each difference the first
 * differing exchange side by side, then the verdict.
 */
import { stableJson, type RunDifference } from './compare.ts'
import type { ParityCell, ParityReport } from './runner.ts'

const COLUMN = 58

function cellText(cell: ParityCell | undefined): string {
  if (!cell) return '-'
  if (cell.state === 'skipped') return `skipped (${cell.reason})`
  return cell.state
}

function pad(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width)
}

/** Lines of a value as shown in one column: pretty JSON, long strings kept on one line. */
function lines(value: unknown): string[] {
  return typeof value === 'string' ? [value] : stableJson(value, 2).split('\n')
}

/** A line diff (longest common subsequence) of two short texts, for the side-by-side view. */
export function sideBySide(left: string[], right: string[], context = 3, width = COLUMN): string[] {
  const n = left.length
  const m = right.length
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = left[i] === right[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const rows: { l: string; r: string; mark: ' ' | '|' | '<' | '>' }[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && left[i] === right[j]) rows.push({ l: left[i++]!, r: right[j++]!, mark: ' ' })
    else if (i < n && j < m && lcs[i + 1]![j + 1]! === lcs[i]![j]!) rows.push({ l: left[i++]!, r: right[j++]!, mark: '|' })
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) rows.push({ l: '', r: right[j++]!, mark: '>' })
    else rows.push({ l: left[i++]!, r: '', mark: '<' })
  }
  // Keep changed rows and a little context around them.
  const keep = rows.map((row, index) => rows.slice(Math.max(0, index - context), index + context + 1).some((near) => near.mark !== ' '))
  const out: string[] = []
  let skipped = false
  rows.forEach((row, index) => {
    if (!keep[index]) {
      if (!skipped) out.push(`  ${pad('  …', width)}   …`)
      skipped = true
      return
    }
    skipped = false
    out.push(`  ${pad(row.l, width)} ${row.mark} ${row.r.length > width ? `${row.r.slice(0, width - 1)}…` : row.r}`)
  })
  return out
}

/** The first differing exchange of one scenario on one target, side by side with the reference. */
export function formatDifference(scenario: string, reference: string, target: string, difference: RunDifference): string {
  const out = [`${scenario}: ${target} differs from ${reference} at ${difference.exchange} (${difference.fields.join(', ')})`]
  out.push(`  ${pad(reference, COLUMN)}   ${target}`)
  out.push(...sideBySide(lines(difference.left), lines(difference.right)))
  if (difference.exchange !== 'outcome') out.push(`  outcome: ${pad(difference.outcomes[0], COLUMN - 9)}   ${difference.outcomes[1]}`)
  return out.join('\n')
}

/**
 * The whole report as text.
 * @example console.log(formatReport(report))
 */
export function formatReport(report: ParityReport): string {
  const names = report.targets.map((target) => target.name)
  const idWidth = Math.min(72, Math.max(10, ...report.scenarios.map((s) => s.id.length)))
  const widths = names.map((name) => Math.max(name.length, 9))
  const out: string[] = []
  out.push(`parity: ${report.worker} (${report.config}), reference ${report.reference}, suites ${report.suites.join(', ')}`)
  for (const target of report.targets) if (target.status !== 'ran') out.push(`  ${target.name}: ${target.status}: ${target.reason}`)
  out.push('')
  out.push(`${pad('scenario', idWidth)}  ${names.map((name, i) => pad(name, widths[i]!)).join('  ')}`)
  for (const scenario of report.scenarios) {
    out.push(`${pad(scenario.id, idWidth)}  ${names.map((name, i) => (i === names.length - 1 ? cellText(scenario.cells[name]) : pad(cellText(scenario.cells[name]), widths[i]!))).join('  ')}`)
  }
  const differences = report.scenarios.flatMap((scenario) =>
    Object.entries(scenario.cells)
      .filter(([, cell]) => cell.difference)
      .map(([target, cell]) => ({ scenario: scenario.id, target, cell })),
  )
  const open = differences.filter((d) => d.cell.state === 'differs')
  const accepted = differences.filter((d) => d.cell.state === 'baselined')
  if (open.length) {
    out.push('', 'Differences (not in the baseline):')
    for (const d of open) out.push('', formatDifference(d.scenario, report.reference, d.target, d.cell.difference!))
  }
  if (accepted.length) {
    out.push('', `Baselined differences${report.baselineFile ? ` (${report.baselineFile})` : ''}:`)
    for (const d of accepted) out.push(`  ${d.target} / ${d.scenario} at ${d.cell.difference!.exchange}: ${d.cell.reason}`)
  }
  if (report.stale.length) {
    out.push('', 'Stale baseline entries (they no longer differ: remove them):')
    for (const entry of report.stale) out.push(`  ${entry.target} / ${entry.scenario} at ${entry.exchange}`)
  }
  const cells = report.scenarios.flatMap((s) => Object.entries(s.cells).filter(([name]) => name !== report.reference).map(([, cell]) => cell))
  const count = (state: ParityCell['state']) => cells.filter((cell) => cell.state === state).length
  out.push(
    '',
    `${report.scenarios.length} scenarios: ${count('equal')} equal, ${open.length} differ, ${accepted.length} baselined, ${count('skipped')} skipped; ${report.stale.length} stale baseline entries. ${report.exitCode === 0 ? 'OK' : 'FAILED'} in ${(report.durationMs / 1000).toFixed(1)} s`,
  )
  if (open[0]) out.push(`First difference: ${open[0].target} / ${open[0].scenario} at ${open[0].cell.difference!.exchange}`)
  return `${out.join('\n')}\n`
}
