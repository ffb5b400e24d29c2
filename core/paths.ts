import { mkdir, realpath } from 'node:fs/promises'
import path from 'node:path'
import { HarnessError } from './errors.ts'

/**
 * Checks a path given from outside (a control-plane request, a cassette id) before it is joined to a
 * folder: relative, no `..` segment, no NUL byte. Returns it with forward slashes.
 * @example assertRelativePath('sdk/add.json', 'cassette path')
 */
export function assertRelativePath(given: string, what: string): string {
  const slashed = given.replaceAll('\\', '/')
  const reason =
    given.length === 0
      ? 'it is empty'
      : given.includes('\0')
        ? 'it contains a NUL byte'
        : path.isAbsolute(given) || path.posix.isAbsolute(slashed) || /^[a-z]:/i.test(slashed)
          ? 'it is absolute'
          : slashed.split('/').includes('..')
            ? 'it has a ".." segment'
            : undefined
  if (reason) throw new HarnessError('ERR_PATH', `Failed to accept ${what} ${JSON.stringify(given)}: ${reason}. Give a path relative to the folder, without "..", e.g. "sdk/add.json".`)
  return slashed
}

/**
 * Resolves `given` inside `root`, refusing anything that would leave it: an absolute path, a `..`
 * segment, or a folder on the way that is a symbolic link pointing outside. Creates `root` (and the
 * folders on the way) so the check sees the real tree. Returns the absolute file path.
 * @example const file = await resolveInside('cassettes', request.path, 'cassette path')
 */
export async function resolveInside(root: string, given: string, what: string): Promise<string> {
  const relative = assertRelativePath(given, what)
  const base = path.resolve(root)
  const file = path.resolve(base, relative)
  if (file === base || !file.startsWith(base + path.sep)) {
    throw new HarnessError('ERR_PATH', `Failed to accept ${what} ${JSON.stringify(given)}: it does not name a file inside ${base}.`)
  }
  await mkdir(base, { recursive: true })
  const realBase = await realpath(base)
  // A symbolic link on the way (or the file itself) could point anywhere: compare real paths of
  // what exists before creating anything below it.
  let existing = file
  let real: string | undefined
  for (;;) {
    real = await realpath(existing).catch(() => undefined)
    if (real !== undefined || existing === base) break
    existing = path.dirname(existing)
  }
  if (real === undefined || (real !== realBase && !real.startsWith(realBase + path.sep))) {
    throw new HarnessError('ERR_PATH', `Failed to accept ${what} ${JSON.stringify(given)}: ${path.relative(base, existing) || '.'} is a symbolic link to ${real}, outside ${realBase}.`)
  }
  await mkdir(path.dirname(file), { recursive: true })
  return file
}
