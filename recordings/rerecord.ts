import path from 'node:path'

/**
 * The command that re-records the file actually used: the cassette's own `meta.rerecord` when it
 * writes that file, else the same command pointed at it (`--out <file>`), else a generic `record`.
 * @example rerecordCommand('mcp-harness record --target http://127.0.0.1:8788 --out a.json', 'copy.json') // … --out copy.json
 */
export function rerecordCommand(recorded: string | undefined, source: string, target?: string): string {
  const generic = `mcp-harness record --target ${target ?? '<server>'} --out ${quote(source)}`
  if (!recorded) return generic
  const out = /(--out(?:\s+|=))("[^"]+"|'[^']+'|\S+)/.exec(recorded)
  if (out) {
    const written = out[2]!.replace(/^["']|["']$/g, '')
    if (samePath(written, source)) return recorded
    return `${recorded.slice(0, out.index)}${out[1]}${quote(source)}${recorded.slice(out.index + out[0].length)}`
  }
  // `npm run record:cassettes -- inspector/tools-call-add` writes recordings/cassettes/inspector/tools-call-add.json.
  const scenario = /record:cassettes\s+--\s+(\S+)/.exec(recorded)?.[1]
  if (scenario && samePath(`recordings/cassettes/${scenario}.json`, source)) return recorded
  return generic
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b)
}

function quote(file: string): string {
  return /\s/.test(file) ? JSON.stringify(file) : file
}
