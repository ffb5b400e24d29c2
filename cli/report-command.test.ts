import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { runCli as run } from '../scenarios/helpers/cli.ts'
import { countCassetteEvents } from '../scenarios/report/count.ts'
import { createMockServer } from '../recordings/mock.ts'
import type { Cassette } from '../recordings/format/schema.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-harness-report-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('mcp-harness report', () => {
  test('writes one HTML file for a committed cassette and prints its path', async () => {
    const out = path.join(dir, 'hibernation.html')
    const { code, stdout } = await run(['report', 'recordings/cassettes/sdk/hibernation.json', '--out', out])
    expect(code).toBe(0)
    expect(stdout).toContain(out)
    const html = readFileSync(out, 'utf8')
    const cassette = JSON.parse(readFileSync('recordings/cassettes/sdk/hibernation.json', 'utf8')) as Cassette
    expect(html).toContain(`data-events="${countCassetteEvents(cassette)}"`)
    // Self-contained: no external scripts, styles or images.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/)
  })

  test('a file that is not JSON, or JSON of no known shape, is a clear error and writes nothing', async () => {
    const bad = path.join(dir, 'bad.json')
    writeFileSync(bad, '{"nope": true}')
    const out = path.join(dir, 'never.html')
    const shape = await run(['report', bad, '--out', out])
    expect(shape.code).toBe(1)
    expect(shape.stderr).toMatch(/Cannot draw a report from this input/)
    writeFileSync(bad, 'not json')
    const text = await run(['report', bad, '--out', out])
    expect(text.code).toBe(1)
    expect(text.stderr).toMatch(/Cannot read .*bad\.json/)
    expect(() => readFileSync(out)).toThrow()
  })

  test('--replay against a server that answers differently exits 1 and highlights the mismatch', async () => {
    const cassette = JSON.parse(readFileSync('recordings/cassettes/sdk/streamable-http.json', 'utf8')) as Cassette
    const changed = structuredClone(cassette)
    const answer = changed.interactions.find((i) => (i.request.body as { params?: { name?: string } })?.params?.name === 'add')!.response!.sse![0]!
    ;(answer.data as { result: { content: { text: string }[] } }).result.content[0]!.text = '6'
    const mock = await createMockServer(changed)
    try {
      const out = path.join(dir, 'replayed.html')
      const { code, stdout } = await run(['report', 'recordings/cassettes/sdk/streamable-http.json', '--replay', '--target', mock.url.href, '--out', out])
      expect(code).toBe(1)
      expect(stdout).toMatch(/1 replay mismatch\)/)
      expect(readFileSync(out, 'utf8')).toContain('data-mismatches="1"')
    } finally {
      await mock.close()
    }
  })

  test('replay prints the path of the report of its mismatch (issue 13 item 5), and writes none with MCP_HARNESS_REPORT=off', async () => {
    const cassette = JSON.parse(readFileSync('recordings/cassettes/sdk/streamable-http.json', 'utf8')) as Cassette
    const changed = structuredClone(cassette)
    changed.interactions.find((i) => (i.request.body as { params?: { name?: string } })?.params?.name === 'add')!.response!.status = 500
    const mock = await createMockServer(changed)
    const saved = { dir: process.env.MCP_HARNESS_REPORT_DIR, mode: process.env.MCP_HARNESS_REPORT }
    process.env.MCP_HARNESS_REPORT_DIR = path.join(dir, 'replay-reports')
    try {
      delete process.env.MCP_HARNESS_REPORT
      const { code, stderr } = await run(['replay', 'recordings/cassettes/sdk/streamable-http.json', '--target', mock.url.href])
      expect(code).toBe(1)
      const printed = /\[mcp-harness\] report: (.+\.html)/.exec(stderr)?.[1]
      expect(printed, stderr).toBe(path.join(dir, 'replay-reports', 'replay-streamable-http.html'))
      expect(readFileSync(printed!, 'utf8')).toMatch(/data-mismatches="[1-9]/)
      process.env.MCP_HARNESS_REPORT = 'off'
      rmSync(printed!)
      const off = await run(['replay', 'recordings/cassettes/sdk/streamable-http.json', '--target', mock.url.href])
      expect(off.code).toBe(1)
      expect(off.stderr).not.toContain('report:')
    } finally {
      await mock.close()
      for (const [key, value] of [['MCP_HARNESS_REPORT_DIR', saved.dir], ['MCP_HARNESS_REPORT', saved.mode]] as const) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
  })
})
