// KI-24: OAuth works locally but fails deployed when the OAuth URLs name another origin than the
// one clients reach. Here the server is configured with a hard-coded public URL (PUBLIC_URL) while it
// is served locally: discovery must catch the mismatch before a client follows it off the machine.
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { upstream } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { discover } from '../helpers/oauth-flow.ts'

let emulator: Emulator

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator({ provider: upstream.github(), vars: { PUBLIC_URL: 'https://mcp.example.com' } }))
})
afterAll(() => emulator?.dispose())

test('KI-24: discovery reports OAuth metadata on another origin than the API', async () => {
  await expect(discover(emulator.url)).rejects.toThrow(/names no resource_metadata.*resource is https:\/\/mcp\.example\.com, outside http:\/\/127\.0\.0\.1:\d+ \(KI-24\)/)
})

test('KI-24: locally the challenge points nowhere and the metadata lists only the other origin', async () => {
  const challenge = await emulator.fetch('/mcp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(challenge.status).toBe(401)
  // A request on another origin than the resource gets a challenge without resource_metadata.
  expect(challenge.headers.get('www-authenticate')).toBe('Bearer realm="OAuth"')
  expect((await emulator.fetch('/.well-known/oauth-protected-resource')).status).toBe(404)
  const server = (await (await emulator.fetch('/.well-known/oauth-authorization-server')).json()) as { issuer: string; protected_resources: string[] }
  expect(server.protected_resources).toEqual(['https://mcp.example.com'])
  // The same Worker reached on its configured origin is consistent: the mismatch is the deployment's, not the code's.
  const there = await emulator.miniflare.dispatchFetch('https://mcp.example.com/.well-known/oauth-protected-resource')
  expect(await there.json()).toMatchObject({ resource: 'https://mcp.example.com', authorization_servers: ['https://mcp.example.com'] })
})

test('KI-24: nothing left the machine while checking', () => {
  expect(emulator.errors).toEqual([])
  expect(emulator.transcript.filter({ layer: 'upstream' })).toEqual([])
})
