import { afterAll, beforeAll, test } from 'vitest'
import { connectClient, TRANSPORTS, type ScriptedClient, type ScriptedClientOptions, type TransportKind } from './clients.ts'
import { targetFromEnv, type Target, type TargetCapability } from './targets.ts'

/** What a scenario body receives. */
export interface ScenarioContext {
  target: Target
  baseUrl: URL
  transport: TransportKind
  /** The official SDK client, connected over `transport` (unless the scenario set `connect: false`). */
  client: ScriptedClient
  /** Connects one more client (same transport unless overridden), e.g. for a second session. */
  connect(options?: Partial<ScriptedClientOptions>): Promise<ScriptedClient>
}

/** Client options a scenario may set; the transport comes from the expansion. */
export type ScenarioClientOptions = Omit<Partial<ScriptedClientOptions>, 'transport'>

export interface ScenarioOptions {
  /** Transports to run on (default: both); each becomes one test. */
  transports?: readonly TransportKind[]
  /** Options of the connected client (scripted elicitation / sampling answers, headers). */
  client?: ScenarioClientOptions
  /** Skip the SDK client: for raw HTTP scenarios. */
  connect?: boolean
  /** Capabilities the target must have, else the test is skipped (e.g. `['emulator']`). */
  requires?: readonly TargetCapability[]
  timeout?: number
}

export type ScenarioBody = (ctx: ScenarioContext) => Promise<void> | void

/** A target shared by all scenarios of one file, plus the scenario factory bound to it. */
export interface ScenarioSuite {
  readonly target: Target
  /**
   * Defines a scenario once; it expands into one vitest test per transport, named
   * `<name> [<transport>]`, and is skipped where the target lacks a transport or capability.
   */
  scenario(name: string, options: ScenarioOptions, body: ScenarioBody): void
  scenario(name: string, body: ScenarioBody): void
}

/**
 * Starts one target for the whole file (beforeAll / afterAll) and returns the `scenario` factory
 * bound to it. The target defaults to `MCP_HARNESS_TARGET` (the emulator when unset).
 * @example
 * const { scenario } = useTarget()
 * scenario('adds two numbers', async ({ client }) => expect(await client.text('add', { a: 2, b: 3 })).toBe('5'))
 */
export function useTarget(target: Target = targetFromEnv()): ScenarioSuite {
  beforeAll(() => target.start())
  afterAll(() => target.stop())

  function scenario(name: string, optionsOrBody: ScenarioOptions | ScenarioBody, maybeBody?: ScenarioBody): void {
    const options = typeof optionsOrBody === 'function' ? {} : optionsOrBody
    const body = typeof optionsOrBody === 'function' ? optionsOrBody : maybeBody
    if (!body) throw new TypeError(`scenario "${name}" has no body`)
    const missing = (options.requires ?? []).filter((capability) => !target.capabilities[capability])
    for (const transport of options.transports ?? TRANSPORTS) {
      const skip = missing.length > 0 || !target.capabilities.transports.includes(transport)
      test.skipIf(skip)(`${name} [${transport}]`, { timeout: options.timeout }, async () => {
        const connect = (extra: Partial<ScriptedClientOptions> = {}) =>
          connectClient(target.baseUrl, { ...options.client, ...extra, transport: extra.transport ?? transport })
        const client = options.connect === false ? undefined : await connect()
        const ctx: ScenarioContext = {
          target,
          baseUrl: target.baseUrl,
          transport,
          get client(): ScriptedClient {
            if (!client) throw new Error(`scenario "${name}" set connect: false, so it has no client; use ctx.connect()`)
            return client
          },
          connect,
        }
        try {
          await body(ctx)
        } finally {
          await client?.close().catch(() => {})
        }
      })
    }
  }

  return { target, scenario }
}
