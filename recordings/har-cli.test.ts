import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { expect, test } from 'vitest'
import { main } from '../cli/cli.ts'
import { findSecrets } from '../core/redact/scan.ts'
import { serializeCassette } from './format/serialize.ts'
import { loadCassette } from './persist/fs.ts'

test('mcp-harness export --har and import give back the same cassette', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-har-'))
  try {
    const source = 'recordings/cassettes/sdk/progress-elicitation.json'
    const har = path.join(dir, 'session.har')
    const back = path.join(dir, 'back.json')
    const out: string[] = []
    const sink = new Writable({ write: (chunk, _e, done) => (out.push(String(chunk)), done()) })
    expect(await main(['export', source, '--har', '--out', har], { stdout: sink, stderr: sink })).toBe(0)
    expect(JSON.parse(await readFile(har, 'utf8')).log.entries.length).toBeGreaterThan(0)
    expect(await main(['import', har, '--out', back], { stdout: sink, stderr: sink })).toBe(0)
    const original = await loadCassette(source)
    const imported = await loadCassette(back)
    // The import names its own re-record command; everything else is the cassette that was exported.
    expect(imported.meta.rerecord).toBe(`mcp-harness import ${har} --out ${back}`)
    imported.meta = { ...imported.meta, rerecord: original.meta.rerecord, client: original.meta.client, scenario: original.meta.scenario }
    expect(serializeCassette(imported)).toBe(serializeCassette(original))
    expect(findSecrets(imported)).toEqual([])
    expect(await main(['export', source], { stdout: sink, stderr: sink })).toBe(1)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
