import path from 'node:path'

interface ParseLocation {
  file?: string
  line?: number
  column?: number
  lineText?: string
}

/**
 * The message of an error wrangler threw while reading a config; a syntax error (wrangler's
 * `ParseError`, 1-based line, 0-based column) is named as `file:line:column` with the offending line.
 * @example describeWranglerError(error) // 'syntax error at wrangler.jsonc:5:3: CommaExpected in `"compatibility_date": "2026-07-01"`'
 */
export function describeWranglerError(error: unknown): string {
  const text = (error as { text?: unknown })?.text
  const location = (error as { location?: ParseLocation })?.location
  const message = typeof text === 'string' && text ? text : String((error as Error)?.message ?? error)
  if (!location || typeof location.line !== 'number') return message
  const file = location.file ? path.relative(process.cwd(), location.file) || location.file : 'the config'
  const at = `${file}:${location.line}:${(location.column ?? 0) + 1}`
  const near = location.lineText?.trim() ? ` in \`${location.lineText.trim().slice(0, 80)}\`` : ''
  return `syntax error at ${at}: ${message}${near}`
}
