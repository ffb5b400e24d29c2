// Issue 4: an expired access token is refused with invalid_token, and the refresh token gets a working one.
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Emulator } from '../../emulator/index.ts'
import { startOAuthEmulator } from '../helpers/oauth-emulator.ts'
import { signIn, tokenRequest } from '../helpers/oauth-flow.ts'

let emulator: Emulator

beforeAll(async () => {
  ;({ emulator } = await startOAuthEmulator())
})
afterAll(() => emulator?.dispose())

const initialize = (token: string) =>
  emulator.fetch('/mcp', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'expiry', version: '0' } } }),
  })

/** Rewrites the stored expiry of one access token (keys read `token:<userId>:<grantId>:<hash>`). */
async function expireAccessToken(token: string): Promise<number> {
  const [userId, grantId] = token.split(':')
  const kv = await emulator.miniflare.getKVNamespace('OAUTH_KV')
  const { keys } = await kv.list({ prefix: `token:${userId}:${grantId}:` })
  for (const { name } of keys) {
    const record = JSON.parse((await kv.get(name)) ?? '{}') as { expiresAt?: number }
    await kv.put(name, JSON.stringify({ ...record, expiresAt: Math.floor(Date.now() / 1000) - 1 }))
  }
  return keys.length
}

test('an expired access token is refused and a refreshed one works', async () => {
  const flow = await signIn(emulator.url)
  expect(flow.tokens.expires_in).toBe(3600)
  expect((await initialize(flow.tokens.access_token)).status).toBe(200)
  // workerd has no virtual clock and the provider's minimum lifetime is 60 s: move this token's
  // expiry into the past in OAUTH_KV instead of waiting (the provider checks expiresAt on every call).
  expect(await expireAccessToken(flow.tokens.access_token)).toBe(1)
  const expired = await initialize(flow.tokens.access_token)
  expect(expired.status).toBe(401)
  expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"')
  const refreshed = await tokenRequest(flow.discovery.server, { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token, client_id: flow.client.client_id })
  expect(refreshed.status).toBe(200)
  expect((await initialize(refreshed.body.access_token as string)).status).toBe(200)
})
