/** Key-sorted, indented JSON for the side-by-side view (equal values print equal); strings stay as they are. */
export function stableJsonText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined) return '(absent)'
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v), 2)
}
