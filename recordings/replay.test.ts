import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createMockServer, type MockServer } from './mock.ts'
import { loadCassette } from './persist/fs.ts'
import { serializeCassette } from './format/serialize.ts'
import { replay } from './replay.ts'
import { rerecordCommand } from './rerecord.ts'
import { runCli } from '../scenarios/helpers/cli.ts'

const SOURCE = 'recordings/cassettes/sdk/streamable-http.json'
let dir: string
let upstream: MockServer
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-harness-replay-'))
  // The server of these tests is the mock of the committed cassette: the real answers, no runtime needed.
  upstream = await createMockServer(SOURCE)
})
afterAll(async () => {
  await upstream.close()
  await rm(dir, { recursive: true, force: true })
})

test('a server that never answers fails the replay, naming the first request left unanswered', async () => {
  const server = http.createServer(() => {
    // Never answers.
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  try {
    const cassette = await loadCassette(SOURCE)
    const result = await replay(cassette, { target: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, waitMs: 200, throwOnMismatch: false })
    expect(result.ok).toBe(false)
    expect(result.first).toMatchObject({ interaction: 1, request: 'initialize (id 0)' })
    expect(result.mismatches.every((m) => m.where === 'connection' && m.difference.matcher === 'answered')).toBe(true)
    expect(result.report).toContain('(recorded 200 ≠ received "no answer within 200 ms"; matcher answered)')
  } finally {
    server.closeAllConnections()
    server.close()
  }
})

test('a refused connection is reported in one line, not as differing answers', async () => {
  const port = await closedPort()
  const result = await replay(SOURCE, { target: `http://127.0.0.1:${port}`, waitMs: 500, throwOnMismatch: false })
  expect(result.ok).toBe(false)
  expect(result.connectionError).toBe(`could not connect to http://127.0.0.1:${port}/: connection refused`)
  expect(result.report.split('\n')).toHaveLength(1)
  expect(result.report).toContain(`could not connect to http://127.0.0.1:${port}/: connection refused`)
  expect(result.report).not.toContain('fetch failed')
})

test('an edited copy of a cassette reports the differing path first, counts one answer, and re-records the copy', async () => {
  const cassette = await loadCassette(SOURCE)
  const call = cassette.interactions.find((i) => (i.request.body as { params?: { name?: string } })?.params?.name === 'add')!
  ;(call.response!.sse![0]!.data as { result: { content: { text: string }[] } }).result.content[0]!.text = '6'
  const copy = path.join(dir, 'edited copy.json')
  await writeFile(copy, serializeCassette(cassette))
  const result = await replay(copy, { target: upstream.url, throwOnMismatch: false })
  expect(result.ok).toBe(false)
  expect(result.differing).toBe(1)
  expect(result.first).toMatchObject({ interaction: call.id, difference: { path: 'result.content.0.text', expected: '6', received: '5' } })
  const [headline, ...rest] = result.report.split('\n')
  // The headline: the count with the right grammar, then the differing path with recorded vs received.
  expect(headline).toMatch(/: 1 answer differs from the recording\. First: result\.content\.0\.text in the answer to #\d+ tools\/call \(id \d+\), sse event 1 \(message\) \(recorded "6" ≠ received "5"\)\.$/)
  expect(headline!.indexOf(copy)).toBeGreaterThan(0)
  // No nearest-miss noise when the recorded message was found where expected.
  expect(result.report).not.toMatch(/Nearest|Closest/)
  // The re-record command writes the file that was replayed, not the committed original.
  expect(rest.at(-1)).toBe(`  Re-record: mcp-harness record --target ${upstream.url.href} --out ${JSON.stringify(copy)}`)
})

test('rerecordCommand keeps a command that writes the replayed file and retargets one that does not', () => {
  expect(rerecordCommand('npm run record:cassettes -- sdk/add', 'recordings/cassettes/sdk/add.json')).toBe('npm run record:cassettes -- sdk/add')
  expect(rerecordCommand('npm run record:cassettes -- sdk/add', '/tmp/copy.json', 'http://127.0.0.1:8788')).toBe('mcp-harness record --target http://127.0.0.1:8788 --out /tmp/copy.json')
  expect(rerecordCommand('mcp-harness record --target http://127.0.0.1:8788 --out a.json', 'b.json')).toBe('mcp-harness record --target http://127.0.0.1:8788 --out b.json')
  expect(rerecordCommand(undefined, 'b.json')).toBe('mcp-harness record --target <server> --out b.json')
})

async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('speed 2 keeps half the recorded gaps between requests, and a bad speed is refused', async () => {
  const cassette = await loadCassette(SOURCE)
  const last = Math.max(...cassette.interactions.map((i) => i.t))
  const result = await replay(cassette, { target: upstream.url, speed: 2 })
  expect(result.ok).toBe(true)
  expect(result.durationMs).toBeGreaterThanOrEqual(last / 2 - 2)
  await expect(replay(cassette, { target: upstream.url, speed: -1 })).rejects.toThrow(/Invalid option "speed"/)
})

/**
 * The committed cassette's mock behind a server that records each request's Authorization and, like a
 * `whoami` tool, answers `add` with it instead of "5": a server that echoes a credential.
 */
async function echoingServer(received: (string | undefined)[]) {
  const server = http.createServer((req, res) => {
    // The CLI's reachability probe (HEAD) is no replayed request.
    if (req.method !== 'HEAD') received.push(req.headers.authorization)
    const headers = { ...req.headers }
    delete headers.host
    const forward = http.request(new URL(req.url!, upstream.url), { method: req.method, headers }, (answer) => {
      const out = { ...answer.headers }
      delete out['content-length']
      delete out['transfer-encoding']
      res.writeHead(answer.statusCode!, out)
      // The open GET stream goes through as it is; answers are rewritten whole.
      if (req.method === 'GET') return void (res.flushHeaders(), answer.pipe(res))
      let text = ''
      answer.setEncoding('utf8')
      answer.on('data', (chunk: string) => (text += chunk))
      answer.on('end', () => res.end(text.replace('"text":"5"', JSON.stringify({ text: req.headers.authorization }).slice(1, -1))))
    })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

test('headers reach the target on every request, and a value the server echoes is redacted in the report and mismatches', async () => {
  const received: (string | undefined)[] = []
  const echo = await echoingServer(received)
  try {
    const result = await replay(SOURCE, { target: echo.url, headers: { Authorization: 'Bearer s3cret-token-42' }, throwOnMismatch: false })
    expect(received.length).toBeGreaterThan(5)
    expect(received.every((value) => value === 'Bearer s3cret-token-42')).toBe(true)
    expect(result.ok).toBe(false)
    expect(result.first).toMatchObject({ difference: { path: 'result.content.0.text', expected: '5', received: '<redacted:header authorization>' } })
    expect(result.report).toContain('<redacted:header authorization>')
    expect(result.report).not.toContain('s3cret-token-42')
    expect(JSON.stringify(result)).not.toContain('s3cret-token-42')
  } finally {
    await echo.close()
  }
  await expect(replay(SOURCE, { target: upstream.url, headers: { 'Bad Name': 'x' } })).rejects.toThrow(/Invalid replay option "headers"/)
})

test('mcp-harness replay --header sends the header and prints it nowhere, not even in the report file', async () => {
  const received: (string | undefined)[] = []
  const echo = await echoingServer(received)
  const saved = { dir: process.env.MCP_HARNESS_REPORT_DIR, mode: process.env.MCP_HARNESS_REPORT }
  process.env.MCP_HARNESS_REPORT_DIR = path.join(dir, 'header-reports')
  delete process.env.MCP_HARNESS_REPORT
  try {
    const { code, stdout, stderr } = await runCli(['replay', SOURCE, '--target', echo.url, '--header', 'Authorization=Bearer s3cret-token-42'])
    expect(code).toBe(1)
    expect(received.length).toBeGreaterThan(5)
    expect(received.every((value) => value === 'Bearer s3cret-token-42')).toBe(true)
    expect(stderr).toContain('<redacted:header authorization>')
    expect(stdout + stderr).not.toContain('s3cret-token-42')
    const report = /\[mcp-harness\] report: (.+\.html)/.exec(stderr)?.[1]
    expect(report, stderr).toBeDefined()
    expect(await readFile(report!, 'utf8')).not.toContain('s3cret-token-42')
  } finally {
    await echo.close()
    for (const [key, value] of [['MCP_HARNESS_REPORT_DIR', saved.dir], ['MCP_HARNESS_REPORT', saved.mode]] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
})
