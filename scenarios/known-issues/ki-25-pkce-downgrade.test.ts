// KI-25 (GHSA-qgp8-v765-qxx9, fixed in @cloudflare/workers-oauth-provider 0.0.5): a PKCE downgrade.
// An attacker strips code_challenge from the client's authorization request, so the code is issued
// without PKCE; when the client then redeems it with its code_verifier, an affected provider issues
// tokens anyway and the downgrade goes unnoticed. The fixed release refuses the verifier.
import { describe, expect, test } from 'vitest'
import { createEmulator, type Emulator } from '../../emulator/index.ts'

const REDIRECT_URI = 'http://127.0.0.1:9/callback'

async function downgradedExchange(emulator: Emulator) {
  const registered = await emulator.fetch('/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', client_name: 'victim' }),
  })
  const { client_id } = (await registered.json()) as { client_id: string }
  // The authorization request as the attacker forwards it: no code_challenge.
  const authorize = new URLSearchParams({ response_type: 'code', client_id, redirect_uri: REDIRECT_URI, state: 's', scope: 'mcp' })
  const redirect = await emulator.fetch(`/authorize?${authorize}`, { redirect: 'manual' })
  const code = new URL(redirect.headers.get('location') ?? 'http://invalid/').searchParams.get('code')
  expect(code).toBeTruthy()
  // The client redeems it with the verifier it generated, believing PKCE protects the flow.
  const token = await emulator.fetch('/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, client_id, redirect_uri: REDIRECT_URI, code_verifier: 'v'.repeat(43) }),
  })
  return { status: token.status, body: (await token.json()) as Record<string, unknown> }
}

describe.each([
  { version: '@cloudflare/workers-oauth-provider 0.0.4 (affected)', config: 'scenarios/fixtures/pkce-downgrade/affected.jsonc', affected: true },
  { version: '@cloudflare/workers-oauth-provider 0.0.5 (fixed)', config: 'scenarios/fixtures/pkce-downgrade/fixed.jsonc', affected: false },
] as const)('$version', ({ config, affected }) => {
  test(`KI-25: a code issued without PKCE and redeemed with a code_verifier ${affected ? 'yields tokens (the downgrade goes unnoticed)' : 'is refused'}`, async () => {
    const emulator = await createEmulator({ config })
    try {
      const result = await downgradedExchange(emulator)
      if (affected) {
        expect(result.status).toBe(200)
        expect(result.body.access_token).toBeTruthy()
      } else {
        expect(result).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
      }
    } finally {
      await emulator.dispose()
    }
  })
})
