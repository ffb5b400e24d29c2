import { readFile } from 'node:fs/promises'
import type { Emulator } from '../emulator/emulator.ts'
import { HarnessError, isHarnessError } from '../core/errors.ts'
import { parseOptions } from '../core/zod-error.ts'
import { checkClientConfig } from './client-config.ts'
import { ACCEPT_BOTH, DOCTOR_PROTOCOL_VERSION, initializeBody, probe } from './http.ts'
import { checkServer } from './probes.ts'
import { CATALOGUE, DoctorOptionsSchema, finding, type CatalogueId, type DoctorOptions, type DoctorReport, type Finding, type ResolvedDoctorOptions } from './types.ts'

/** What runDoctor works with besides its options. */
export interface DoctorUse {
  /** A running emulator to probe instead of starting one. */
  emulator?: Emulator
  onProgress?: (message: string) => void
  /** Runs a client's OAuth sign-in for an MCP URL and resolves to an access token (used with the `signIn` option). */
  signIn?: (url: string) => Promise<string>
}

/**
 * Diagnoses an MCP Worker: starts it from its wrangler config (or probes a running URL), checks the
 * known failures that can be decided from the outside, optionally validates a client config, and
 * returns one finding per check with the cause and the fix in plain words.
 * @example const report = await runDoctor({ config: 'wrangler.jsonc', clientConfig: 'claude_desktop_config.json' })
 */
export async function runDoctor(input: DoctorOptions, use: DoctorUse = {}): Promise<DoctorReport> {
  const options = parseOptions(DoctorOptionsSchema, input, 'doctor options')
  if (options.signIn && !use.signIn) throw new HarnessError('ERR_OPTIONS', 'Failed to start the doctor: signIn is set, but no sign-in function was given. Pass use.signIn (the OAuth flow), or a token with --token.')
  const started = performance.now()
  const findings: Finding[] = []
  const progress = use.onProgress ?? (() => {})
  let emulator = use.emulator
  let owned = false
  let base: URL | undefined = emulator?.url ?? (options.url ? new URL(options.url) : undefined)
  if (!emulator && options.config) {
    try {
      const { createEmulator } = await import('../emulator/emulator.ts')
      emulator = await createEmulator({ config: options.config, environment: options.environment, workerLog: 'transcript', onProgress: progress })
      owned = true
      base = emulator.url
      findings.push(...startedFindings(emulator))
    } catch (error) {
      if (!isHarnessError(error) || !['ERR_CONFIG', 'ERR_BUILD', 'ERR_START'].includes(error.code)) throw error
      findings.push(startFinding(error))
    }
  }
  try {
    let endpoints
    if (base) {
      progress(`Probing ${base.origin}`)
      const headers = { ...options.headers, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) }
      const running = emulator
      const unhandledUpstream = running ? () => running.errors.filter((error) => error.code === 'ERR_UNHANDLED_UPSTREAM').map((error) => error.message) : undefined
      const signIn = options.signIn ? use.signIn : undefined
      // What the Worker threw and logged: names a crash behind the endpoints (KI-10) that the answers hide (1101).
      const workerErrors = running
        ? () =>
            running.transcript.events.flatMap((event) =>
              event.layer === 'harness' && event.type === 'uncaught-exception' ? [`${String(event.name)}: ${String(event.message)}`] : event.layer === 'harness' && event.type === 'worker-log' && event.level === 'error' ? [String(event.line)] : [],
            )
        : undefined
      const server = await checkServer({ base, origin: options.origin, timeoutMs: options.timeoutMs, headers, signIn, unhandledUpstream, workerErrors })
      findings.push(...server.findings)
      endpoints = server.endpoints
      findings.push(await evictCheck(options, emulator, endpoints.streamable, server.protectedByAuth, server.authHeaders))
    }
    if (options.clientConfig) {
      let text: string
      try {
        text = await readFile(options.clientConfig, 'utf8')
      } catch (error) {
        throw new HarnessError('ERR_OPTIONS', `Failed to read client config "${options.clientConfig}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Pass the path of claude_desktop_config.json, .cursor/mcp.json or similar.`)
      }
      findings.push(...checkClientConfig({ text, file: options.clientConfig, server: endpoints?.streamable || endpoints?.sse ? endpoints : undefined }))
    }
  } finally {
    if (owned) await emulator?.dispose()
  }
  const summary = { ok: 0, warn: 0, fail: 0, skipped: 0 }
  for (const item of findings) summary[item.status]++
  const target = [options.config ?? options.url ?? (use.emulator ? use.emulator.worker.configPath : undefined), options.clientConfig && `client config ${options.clientConfig}`].filter(Boolean).join(' + ')
  return { target: target || '(nothing)', ...(base ? { url: base.href } : {}), findings, summary, durationMs: Math.round(performance.now() - started) }
}

/** What a successful start proves: the class is exported, bound and migrated, and the bundle built. */
function startedFindings(emulator: Emulator): Finding[] {
  const classes = emulator.worker.durableObjects.map((object) => `${object.className} (${object.binding})`).join(', ')
  const build = `${emulator.build.cached ? 'cached build, ' : ''}${Math.round(emulator.build.durationMs)} ms`
  if (!classes) {
    const none = 'The Worker binds no Durable Object (a stateless server): nothing to check.'
    return [finding('KI-33', 'ok', { cause: `wrangler bundled the Worker (${build}).` }), ...(['KI-01', 'KI-12', 'KI-13'] as const).map((id) => finding(id, 'skipped', { cause: none }))]
  }
  return [
    finding('KI-33', 'ok', { cause: `wrangler bundled the Worker, every import resolved (${build}).` }),
    finding('KI-01', 'ok', { cause: `The Worker module exports ${emulator.worker.durableObjects.map((o) => o.className).join(', ')}.` }),
    finding('KI-12', 'ok', { cause: `Durable Object bindings: ${classes}.` }),
    finding('KI-13', 'ok', { cause: 'Every bound Durable Object class has a migration.' }),
  ]
}

/** A config/build/start failure as a finding with its known-issue id (the message names it). */
export function startFinding(error: HarnessError): Finding {
  const id = /\((KI-\d{2})\)/.exec(error.message)?.[1]
  const message = error.message.replace(/^\[mcp-harness\] \w+: /, '')
  // Messages read "Failed to <verb> <object>: <reason>. <what to do>"; a build error puts wrangler's
  // log between the first line and the harness's hint (the last line).
  const lines = message.split('\n').filter((line) => line.trim())
  const hint = lines.length > 1 ? lines.at(-1)! : message
  const sentences = hint.split(/(?<=\.)\s+(?=[A-Z`])/)
  const named = sentences.findIndex((sentence) => /\(KI-\d{2}\)/.test(sentence))
  const split = named >= 0 ? named + 1 : 1
  const cause = sentences.slice(0, split).join(' ')
  const fix = sentences.slice(split).join(' ') || 'Fix the error above and run the doctor again.'
  const evidence = lines.length > 1 ? [`${error.code}: ${lines[0]}`, ...lines.slice(1, -1).slice(0, 8)] : [`${error.code}: ${message.slice(0, 300)}`]
  const known = id && id in CATALOGUE ? (id as CatalogueId) : undefined
  return {
    id: known ?? 'start',
    status: 'fail',
    title: known ? CATALOGUE[known].title : error.code === 'ERR_BUILD' ? 'Worker builds' : 'Worker starts',
    symptom: known ? CATALOGUE[known].symptom : 'the Worker does not build or start',
    cause,
    fix,
    evidence,
  }
}

/** KI-11: call a counting tool, evict the session's Durable Object, call again, and compare. */
async function evictCheck(options: ResolvedDoctorOptions, emulator: Emulator | undefined, streamable: string | undefined, auth: boolean, authHeaders: Record<string, string>): Promise<Finding> {
  const tool = options.evictCheck
  if (!tool) return finding('KI-11', 'skipped', { cause: 'Which tool keeps state is not visible from outside; pass --evict-check <tool> (a tool whose answer counts calls) with --config to check it.' })
  if (!emulator) return finding('KI-11', 'skipped', { cause: 'Evicting a Durable Object on demand needs the emulator: run with --config instead of --url.' })
  if (!streamable || auth) return finding('KI-11', 'skipped', { cause: auth ? 'The endpoint asks for a token: pass --token, --header or --sign-in so the eviction check can open a session.' : 'No Streamable HTTP endpoint answered.' })
  const title = `State survives hibernation (tool ${tool})`
  const base = emulator.url
  const init = await probe(base, streamable, { body: initializeBody(), headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...authHeaders } }, options.timeoutMs)
  const session = init.headers.get('mcp-session-id')
  if (!session) return finding('KI-11', 'skipped', { title, cause: initResult(init) ? `${streamable} is stateless (initialize returns no session id): no session Durable Object to evict.` : `initialize at ${streamable} gave no session id (status ${init.status}).` })
  const headers = { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...authHeaders, 'mcp-session-id': session, 'mcp-protocol-version': DOCTOR_PROTOCOL_VERSION }
  await probe(base, streamable, { body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers }, options.timeoutMs)
  let id = 1
  const call = async () => {
    const reply = await probe(base, streamable, { body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: tool, arguments: {} } }), headers }, options.timeoutMs)
    const message = reply.messages.find((m) => m.id === id)
    if (!message?.result) throw new Error(message?.error ? `${message.error.code} ${message.error.message}` : `${reply.status} ${reply.text.slice(0, 120)}`)
    const content = (message.result.content as { type: string; text?: string }[] | undefined) ?? []
    return content.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('\n')
  }
  try {
    const first = await call()
    const second = await call()
    const evicted = await emulator.evict({ session, webSockets: 'hibernate' })
    const third = await call()
    const evidence = [`call 1 → ${first}`, `call 2 → ${second}`, `evicted ${evicted.join(', ') || '(nothing)'}`, `call 3 → ${third}`]
    const numbers = [first, second, third].map((text) => Number(/-?\d+(\.\d+)?/.exec(text)?.[0]))
    if (first === second) return finding('KI-11', 'skipped', { title, cause: `${tool} answered the same twice without eviction, so it shows no state to compare.`, evidence })
    const reset = third === first || (numbers.every(Number.isFinite) && numbers[2]! - numbers[1]! !== numbers[1]! - numbers[0]!)
    if (reset) {
      return finding('KI-11', 'fail', {
        title,
        cause: `After the session's Durable Object hibernated, ${tool} started over (${third} instead of continuing from ${second}): it keeps its state in instance fields, which hibernation drops.`,
        fix: 'Keep state in this.state / this.setState (or this.sql / storage), never in class fields, in a McpAgent.',
        evidence,
      })
    }
    return finding('KI-11', 'ok', { title, cause: `${tool} continued across an eviction (${second} → ${third}).`, evidence })
  } catch (error) {
    return finding('KI-11', 'skipped', { title, cause: `Calling ${tool} failed: ${(error as Error).message}.` })
  } finally {
    await probe(base, streamable, { method: 'DELETE', headers }, options.timeoutMs)
  }
}

const initResult = (reply: { status: number; messages: { id?: unknown; result?: unknown }[] }) => reply.status < 300 && reply.messages.some((m) => m.id === 0 && m.result)
