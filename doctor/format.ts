import type { DoctorReport, Finding, FindingStatus } from './types.ts'

const MARKS: Record<FindingStatus, string> = { ok: '✓', warn: '!', fail: '✗', skipped: '-' }
const EVIDENCE_LINES = 4

function block(label: string, text: string): string[] {
  return text ? [`    ${label.padEnd(9)}${text}`] : []
}

/** One finding as text: a line with its mark, then (unless ok) symptom, cause, fix and evidence. */
export function formatFinding(item: Finding): string {
  const head = `${MARKS[item.status]} ${item.id.padEnd(5)} ${item.title}`
  if (item.status === 'ok') return `${head}: ${item.cause}`
  if (item.status === 'skipped') return `${head}: skipped. ${item.cause}`
  const evidence = item.evidence.slice(0, EVIDENCE_LINES).map((line, index) => `    ${index === 0 ? 'seen:    ' : '         '}${line}`)
  const more = item.evidence.length > EVIDENCE_LINES ? [`             (+${item.evidence.length - EVIDENCE_LINES} more with --json)`] : []
  return [head, ...block('symptom:', item.symptom), ...block('cause:', item.cause), ...block('fix:', item.fix), ...evidence, ...more].join('\n')
}

/**
 * The doctor's report as the CLI prints it: one line per finding (✓ ok, ! warn, ✗ fail, - skipped),
 * cause and fix under each non-ok one, and a count.
 * @example process.stdout.write(formatReport(await runDoctor({ config: '.' })))
 */
export function formatReport(report: DoctorReport): string {
  const { summary } = report
  return [
    `mcp-harness doctor: ${report.target}${report.url ? ` (probed at ${report.url})` : ''}`,
    '',
    ...report.findings.map(formatFinding),
    '',
    `${summary.ok} ok, ${summary.warn} warn, ${summary.fail} fail, ${summary.skipped} skipped (${report.durationMs} ms)`,
    '',
  ].join('\n')
}
