import path from 'node:path'
import { finding, type Finding } from './types.ts'

/** Where the examined server answers, so client URLs can be compared with it. */
export interface ServerEndpoints {
  /** Base URL of the server the doctor examined. */
  url: URL
  /** Path of the Streamable HTTP endpoint, when one answered. */
  streamable?: string
  /** Path of the legacy SSE endpoint, when one answered. */
  sse?: string
}

/** One server entry of a client config, reduced to what matters: how it reaches which URL. */
export interface ClientServerEntry {
  name: string
  /** `url` (the client speaks HTTP itself) or `mcp-remote` (a stdio bridge) or another stdio command. */
  kind: 'url' | 'mcp-remote' | 'command'
  url?: string
  /** mcp-remote's `--transport` (http-first by default). */
  transport?: string
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])
const isLoopback = (url: URL) => LOOPBACK.has(url.hostname) || url.hostname.endsWith('.localhost')

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

/** Finds the first JSON syntax problem a human would name: trailing comma, comment, or the parser's position. */
export function jsonProblem(text: string): { line: number; column: number; message: string } | undefined {
  try {
    JSON.parse(text)
    return undefined
  } catch (error) {
    // Scan outside strings for the two mistakes people make most in hand-edited JSON.
    let inString = false
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!
      if (inString) {
        if (char === '\\') i++
        else if (char === '"') inString = false
        continue
      }
      if (char === '"') inString = true
      else if (char === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) return { ...lineColumn(text, i), message: 'a comment (JSON has none; Claude Desktop and Cursor reject the file)' }
      else if (char === ',') {
        const rest = /^\s*([}\]])/.exec(text.slice(i + 1))
        if (rest) return { ...lineColumn(text, i), message: `a trailing comma before "${rest[1]}"` }
      }
    }
    const message = (error as Error).message
    const position = /position (\d+)/.exec(message)
    const at = position ? lineColumn(text, Number(position[1])) : lineColumn(text, text.length)
    return { ...at, message: message.replace(/ in JSON at position.*$/, '') }
  }
}

/** Reads the server entries of a parsed client config (`mcpServers` of Claude Desktop / Cursor / Windsurf). */
export function serverEntries(servers: Record<string, unknown>): ClientServerEntry[] {
  return Object.entries(servers).map(([name, raw]) => {
    const entry = (raw ?? {}) as { url?: unknown; serverUrl?: unknown; command?: unknown; args?: unknown }
    const url = typeof entry.url === 'string' ? entry.url : typeof entry.serverUrl === 'string' ? entry.serverUrl : undefined
    if (url) return { name, kind: 'url', url }
    const args = Array.isArray(entry.args) ? entry.args.map(String) : []
    const remote = args.findIndex((arg) => /(^|\/)mcp-remote(@[^\s]*)?$/.test(arg))
    if (typeof entry.command === 'string' && (remote >= 0 || /mcp-remote$/.test(entry.command))) {
      const after = args.slice(remote + 1)
      const transportAt = after.indexOf('--transport')
      return { name, kind: 'mcp-remote', url: after.find((arg) => /^https?:\/\//.test(arg)), transport: transportAt >= 0 ? after[transportAt + 1] : undefined }
    }
    return { name, kind: 'command' }
  })
}

/**
 * Checks a Claude Desktop / Cursor style client config (KI-20 format; KI-05 host; KI-02/KI-03 path
 * and transport against the examined server, when given).
 * @example checkClientConfig({ text: await readFile(file, 'utf8'), file, server: { url, streamable: '/mcp' } })
 */
export function checkClientConfig(input: { text: string; file: string; server?: ServerEndpoints }): Finding[] {
  const { text, file, server } = input
  const name = path.basename(file)
  const claudeDesktop = /claude_desktop_config/i.test(name)
  const problem = jsonProblem(text)
  if (problem) {
    return [
      finding('KI-20', 'fail', {
        title: `Client config format (${name})`,
        cause: `${name} is not valid JSON: ${problem.message} at line ${problem.line}, column ${problem.column}. The client ignores the whole file.`,
        fix: `Fix line ${problem.line} of ${name} (remove the trailing comma / comment), then restart the client.`,
        evidence: [`${name}:${problem.line}:${problem.column}: ${text.split('\n')[problem.line - 1]?.trim() ?? ''}`],
      }),
    ]
  }
  const parsed = JSON.parse(text) as unknown
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return [finding('KI-20', 'fail', { title: `Client config format (${name})`, cause: `${name} holds ${Array.isArray(parsed) ? 'an array' : typeof parsed}, not an object with "mcpServers".`, fix: 'Write { "mcpServers": { "<name>": { ... } } }.' })]
  }
  const root = parsed as Record<string, unknown>
  const wrapper = root.mcpServers
  if (!wrapper || typeof wrapper !== 'object' || Array.isArray(wrapper)) {
    const looksLikeServers = Object.values(root).some((value) => !!value && typeof value === 'object' && ('command' in value || 'url' in value))
    const vsCode = 'servers' in root
    return [
      finding('KI-20', 'fail', {
        title: `Client config format (${name})`,
        cause: vsCode
          ? `${name} lists servers under "servers" (VS Code's key); Claude Desktop, Cursor and Windsurf read only "mcpServers".`
          : looksLikeServers
            ? `${name} lists server entries at the top level: the "mcpServers" wrapper is missing, so the client finds no server.`
            : `${name} has no "mcpServers" object (keys: ${Object.keys(root).join(', ') || 'none'}).`,
        fix: `Wrap the entries: { "mcpServers": { "<name>": { "command": "npx", "args": ["mcp-remote", "https://<worker>.workers.dev/mcp"] } } }.`,
        evidence: [`top-level keys: ${Object.keys(root).join(', ') || '(none)'}`],
      }),
    ]
  }
  const entries = serverEntries(wrapper as Record<string, unknown>)
  const findings: Finding[] = []
  const format: string[] = []
  for (const entry of entries) {
    const raw = (wrapper as Record<string, Record<string, unknown>>)[entry.name] ?? {}
    if (entry.kind === 'command' && typeof raw.command !== 'string') format.push(`"${entry.name}" has neither "url" nor "command" (keys: ${Object.keys(raw).join(', ') || 'none'})`)
    if (entry.kind === 'url' && claudeDesktop) format.push(`"${entry.name}" uses "url", but Claude Desktop's config file starts only stdio servers: use "command": "npx", "args": ["mcp-remote", "${entry.url}"]`)
    if (entry.kind === 'mcp-remote' && !entry.url) format.push(`"${entry.name}" runs mcp-remote without a URL argument`)
    if (typeof raw.command === 'string' && /\s/.test(raw.command.trim())) format.push(`"${entry.name}" puts arguments into "command" ("${raw.command}"): the program name goes in "command", each argument in "args"`)
  }
  if (entries.length === 0) format.push('"mcpServers" is empty')
  findings.push(
    format.length
      ? finding('KI-20', 'fail', { title: `Client config format (${name})`, cause: `The client cannot start or reach these servers: ${format.join('; ')}.`, fix: 'Give each server either "url" (clients that speak HTTP) or "command" + "args" with mcp-remote (stdio-only clients such as Claude Desktop).', evidence: format })
      : finding('KI-20', 'ok', { title: `Client config format (${name})`, cause: `Valid JSON with "mcpServers" (${entries.map((e) => `${e.name}: ${e.kind}`).join(', ')}).` }),
  )
  for (const entry of entries) {
    if (!entry.url) continue
    let url: URL
    try {
      url = new URL(entry.url)
    } catch {
      findings.push(finding('KI-20', 'fail', { title: `Client URL of "${entry.name}"`, cause: `"${entry.url}" is not a URL.`, fix: 'Use the full URL, e.g. https://<worker>.workers.dev/mcp.' }))
      continue
    }
    findings.push(checkHost(entry, url, server))
    if (server) findings.push(...checkPath(entry, url, server))
  }
  return findings
}

/** KI-05: the client URL's host against the examined server (or, without one, local vs deployed). */
function checkHost(entry: ClientServerEntry, url: URL, server?: ServerEndpoints): Finding {
  const title = `Client URL host of "${entry.name}"`
  const evidence = [`client URL: ${url.href}`, ...(server ? [`server: ${server.url.origin}`] : [])]
  if (server) {
    if (url.origin === server.url.origin || (isLoopback(url) && isLoopback(server.url) && url.port === server.url.port && url.protocol === server.url.protocol)) {
      return finding('KI-05', 'ok', { title, cause: `The client URL names the examined server (${server.url.origin}).`, evidence })
    }
    return finding('KI-05', 'fail', {
      title,
      cause: `The client connects to ${url.origin}, but the server examined runs at ${server.url.origin}${isLoopback(url) && !isLoopback(server.url) ? ': the config still points at a local dev server' : isLoopback(server.url) && !isLoopback(url) ? ': the config points at a deployed host, not the local one' : ''}.`,
      fix: `Set the URL of "${entry.name}" to ${new URL(url.pathname, server.url).href} (or keep one config per environment).`,
      evidence,
    })
  }
  if (url.protocol === 'http:' && !isLoopback(url)) {
    return finding('KI-05', 'fail', { title, cause: `${url.origin} is plain http on a non-local host: deployed Workers answer on https, and mcp-remote refuses http off localhost.`, fix: `Use https://${url.host}${url.pathname}.`, evidence })
  }
  if (isLoopback(url)) {
    return finding('KI-05', 'warn', { title, cause: `The client points at ${url.origin}: it works only while a local dev server runs on that port; deployed users need the workers.dev (or custom) URL.`, fix: 'Keep a separate config entry for the deployed URL (https://<worker>.<account>.workers.dev/mcp).', evidence })
  }
  return finding('KI-05', 'ok', { title, cause: `The client points at the deployed host ${url.origin} over https.`, evidence })
}

/** KI-02 / KI-03: the client URL's path and transport against what the server answers. */
function checkPath(entry: ClientServerEntry, url: URL, server: ServerEndpoints): Finding[] {
  const where = [server.streamable && `Streamable HTTP at ${server.streamable}`, server.sse && `SSE at ${server.sse}`].filter(Boolean).join(', ') || 'no MCP endpoint'
  const evidence = [`client path: ${url.pathname}`, `server answers: ${where}`]
  const title = `Client URL path of "${entry.name}"`
  const atStreamable = url.pathname === server.streamable
  const atSse = url.pathname === server.sse
  if (!atStreamable && !atSse) {
    const near = [server.streamable, server.sse].find((p) => p && (url.pathname.replace(/\/+$/, '') === p.replace(/\/+$/, '') || p.startsWith(url.pathname)))
    return [
      finding('KI-02', 'fail', {
        title,
        cause: `The client URL path ${url.pathname} matches no endpoint of the server (${where}), so the client gets 404 / "Connection failed".`,
        fix: `Use ${new URL(near ?? server.streamable ?? server.sse ?? '/mcp', url).href}.`,
        evidence,
      }),
    ]
  }
  const transport = entry.kind === 'mcp-remote' ? (entry.transport ?? 'http-first') : 'http-first'
  if ((atSse && transport === 'http-only') || (atStreamable && transport === 'sse-only')) {
    return [
      finding('KI-03', 'fail', {
        title: `Client transport of "${entry.name}"`,
        cause: `mcp-remote is told --transport ${transport} but ${url.pathname} serves ${atSse ? 'legacy SSE' : 'Streamable HTTP'}: the client reports "Unexpected response format" / a non-200 status.`,
        fix: atSse ? `Point it at ${server.streamable ? new URL(server.streamable, url).href : 'the Streamable HTTP endpoint'} or drop --transport.` : `Drop --transport sse-only${server.sse ? ` or point it at ${new URL(server.sse, url).href}` : ''}.`,
        evidence: [...evidence, `--transport ${transport}`],
      }),
    ]
  }
  return [finding('KI-02', 'ok', { title, cause: `${url.pathname} is the server's ${atSse ? 'legacy SSE' : 'Streamable HTTP'} endpoint.`, evidence })]
}
