import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers'
import { buildImage, dockerAvailable, PROJECT_ROOT } from '../../container/build-image.ts'
import { connectClient, TRANSPORTS } from '../helpers/clients.ts'

// testcontainers' reaper image cannot be pulled here (no registry); containers are stopped in afterAll.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost'

const TOKEN = 'container-lane-token-0123456789'
const docker = await dockerAvailable()
if (!docker && process.env.CI === 'true') throw new Error('[mcp-harness] The container lane must run in CI, but no Docker engine answers. .ci/run installs and starts one (docker.io).')
if (!docker) console.warn('[mcp-harness] Container lane skipped: no Docker engine. Enable it with `apt-get install -y docker.io && dockerd &` (or run .ci/run).')

/** Publishes container ports on the host's loopback only (testcontainers binds 0.0.0.0 by default). */
class LoopbackContainer extends GenericContainer {
  override withExposedPorts(...ports: number[]): this {
    super.withExposedPorts(...ports)
    for (const port of ports) this.hostConfig.PortBindings![`${port}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: '0' }]
    return this
  }
}

describe.skipIf(!docker)('the emulator image serves a mounted Worker config', () => {
  let container: StartedTestContainer
  let base: URL
  let control: URL

  beforeAll(async () => {
    const { tag } = await buildImage()
    container = await new LoopbackContainer(tag)
      .withExposedPorts(8787, 8788)
      .withEnvironment({ MCP_HARNESS_CONTROL_TOKEN: TOKEN })
      // Read-only on purpose: the entrypoint serves a copy so wrangler can write .wrangler/tmp.
      .withBindMounts([{ source: path.join(PROJECT_ROOT, 'server'), target: '/srv/mcp-harness/worker', mode: 'ro' }])
      .withWaitStrategy(Wait.forLogMessage(/"control":\{"url"/))
      .withStartupTimeout(120_000)
      .start()
    base = new URL(`http://${container.getHost()}:${container.getMappedPort(8787)}/`)
    control = new URL(`http://${container.getHost()}:${container.getMappedPort(8788)}/v1/`)
  }, 300_000)
  afterAll(async () => {
    await container?.stop({ timeout: 5_000 })
  })

  const callControl = async (op: string, body?: unknown) => {
    const res = await fetch(new URL(op, control), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: await res.json() }
  }

  test('answers /health and the control plane, which refuses a missing token', async () => {
    const health = await fetch(new URL('/health', base))
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ name: 'mcp-harness-reference' })
    expect((await callControl('health')).body).toMatchObject({ ok: true, worker: 'mcp-harness-reference' })
    expect((await fetch(new URL('health', control))).status).toBe(401)
  })

  test.each(TRANSPORTS)('KI-11 over %s: an eviction through the control plane keeps counter and resets memo', async (transport) => {
    const client = await connectClient(base, { transport })
    expect(await client.text('add', { a: 2, b: 3 })).toBe('5')
    expect(await client.text('counter')).toBe('1')
    expect(await client.text('memo')).toBe('1')
    const evicted = await callControl('evict', { session: client.sessionId() })
    expect(evicted).toMatchObject({ status: 200, body: { evicted: [client.objectName()] } })
    expect(await client.text('counter')).toBe('2')
    expect(await client.text('memo')).toBe('1')
    await client.close()
  })
})
