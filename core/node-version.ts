/**
 * Fails at once, in one line, on a Node older than the harness needs: wrangler, Miniflare, vitest and
 * msw use Node >= 22.12 APIs (e.g. `Map.groupBy`), and an older Node otherwise fails later with a
 * confusing error. Imported first by every public entry; the bin runs the same check before it loads.
 */
export const REQUIRED_NODE = '22.12.0'

/** The one-line message for an unsupported Node, or undefined when `version` is recent enough. */
export function nodeVersionProblem(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const [needMajor = 0, needMinor = 0] = REQUIRED_NODE.split('.').map(Number)
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined
  return `mcp-harness needs Node.js >= ${REQUIRED_NODE}, but this is Node.js v${version}: install Node 22 LTS or newer (https://nodejs.org, or \`nvm install 22\`) and run again.`
}

const problem = nodeVersionProblem()
if (problem) {
  const error = new Error(problem)
  // One line, not a stack: nothing in it would help.
  error.stack = problem
  throw error
}
