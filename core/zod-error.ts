import { z } from 'zod'
import { HarnessError } from './errors.ts'

/** Parses `input` with `schema` once; a failure names each option path, what was expected and what came. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what = 'options'): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)'
    return `  - "${path}": ${issue.message}`
  })
  throw new HarnessError('ERR_OPTIONS', `Invalid ${what}:\n${lines.join('\n')}`)
}
