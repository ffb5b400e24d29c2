import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { committedCassettes } from './committed.ts'
import { buildCassette, redactHeaders, redactJsonPaths } from './index.ts'
import { findSecrets } from '../core/redact/scan.ts'
import type { CapturedSession } from './capture/types.ts'

// Token-shaped fakes, assembled at run time so no token-shaped literal sits in the repository.
const FAKE_GITHUB_TOKEN = ['gho', '16C7e42F292c6912E7710c838347Ae178B4a'].join('_')
const FAKE_GITHUB_PAT = ['ghp', 'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6'].join('_')

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyIsImV4cCI6MTg5MzQ1NjAwMH0.c2lnbmF0dXJlLXNpZ25hdHVyZQ'
const SESSION = 'a3f1c2d4e5b6a7980a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071'

/** A session full of credentials, as a real OAuth-protected client would send them. */
function leakySession(): CapturedSession {
  return {
    events: [],
    exchanges: [
      {
        id: 1,
        t: 0,
        request: {
          method: 'POST',
          path: '/mcp',
          query: '?code=abc123secretcode&state=xyzstate987',
          headers: { authorization: `Bearer ${JWT}`, cookie: '__Host-session=s3cr3tc00kie', 'x-upstream-key': 'upstream-key-value-1234', 'content-type': 'application/json' },
          bodyText: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'login', arguments: { password: 'hunter2', apiKey: 'plain-key-123' } } }),
        },
        response: {
          t: 5,
          status: 200,
          headers: { 'mcp-session-id': SESSION, 'set-cookie': 'sid=abcdef; HttpOnly', 'content-type': 'application/json' },
          bodyText: JSON.stringify({ access_token: FAKE_GITHUB_TOKEN, refresh_token: 'r1-refresh-token', token_type: 'bearer', error: { code: -32000 } }),
          end: { t: 6, reason: 'complete' },
        },
      },
      {
        id: 2,
        t: 10,
        request: { method: 'POST', path: '/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', 'mcp-session-id': SESSION }, bodyText: 'grant_type=authorization_code&code=c0de&client_secret=shh-very-secret&code_verifier=verifier123' },
      },
    ],
  }
}

function tryParse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '')
  } catch {
    return text
  }
}

describe('secret scan', () => {
  test.each(committedCassettes())('%s contains no token, cookie or secret', (file) => {
    expect(findSecrets(JSON.parse(readFileSync(file, 'utf8')))).toEqual([])
  })

  test('finds the credentials of an unredacted session', () => {
    // What a naive recorder would persist: the same session with its JSON bodies parsed, nothing redacted.
    const naive = leakySession().exchanges.map((x) => ({ ...x, request: { ...x.request, bodyText: tryParse(x.request.bodyText) }, response: x.response && { ...x.response, bodyText: tryParse(x.response.bodyText) } }))
    const rules = findSecrets(naive).map((f) => f.rule)
    expect(rules).toEqual(expect.arrayContaining(['unredacted authorization', 'unredacted cookie', 'unredacted set-cookie', 'unredacted access_token', 'unredacted refresh_token', 'unredacted password', 'long hex']))
    expect(findSecrets({ note: `token: ${JWT}` })[0]?.rule).toBe('jwt')
    expect(findSecrets({ note: `use ${FAKE_GITHUB_PAT} here` })[0]?.rule).toBe('provider token')
    expect(findSecrets({ blob: 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpLTE1OT1BR' })[0]?.rule).toBe('long base64')
    expect(findSecrets({ path: '/.well-known/oauth-authorization-server/mcp', text: '/sse/message?sessionId=<session-1>' })).toEqual([])
  })

  test('redacts every default and configured secret before a cassette exists', () => {
    const cassette = buildCassette(leakySession(), { client: 'test', scenario: 'leaky', transport: 'streamable-http', recordedWith: 'proxy' }, { redactors: [redactHeaders(['x-upstream-key']), redactJsonPaths(['$.params.arguments.apiKey'])] })
    expect(findSecrets(cassette)).toEqual([])
    const text = JSON.stringify(cassette)
    for (const secret of [JWT, 's3cr3tc00kie', 'upstream-key-value', 'hunter2', 'plain-key-123', 'gho_', 'r1-refresh', 'shh-very-secret', 'abc123secretcode', 'xyzstate987', 'verifier123', SESSION]) expect(text).not.toContain(secret)
    const [first, second] = cassette.interactions
    expect(first!.request.headers.authorization).toBe('Bearer <redacted:authorization>')
    expect(first!.request.query).toEqual({ code: '<redacted:code>', state: '<redacted:state>' })
    expect(first!.response!.headers['mcp-session-id']).toBe('<session-1>')
    // A JSON-RPC error code is protocol, not a secret: numbers stay.
    expect(first!.response!.body).toMatchObject({ error: { code: -32000 }, token_type: 'bearer' })
    expect(second!.request.bodyText).toBe('grant_type=authorization_code&code=%3Credacted%3Acode%3E&client_secret=%3Credacted%3Aclient_secret%3E&code_verifier=%3Credacted%3Acode_verifier%3E')
    expect(second!.request.headers['mcp-session-id']).toBe('<session-1>')
  })
})

test('OAuth values inside URLs, HTML forms and PKCE challenges are redacted too', () => {
  const verifierish = 'S0gp7a5ztz00OiBZj6mKa2u9ipFko32TNyZFNXbLnc8'
  const cassette = buildCassette(
    {
      events: [],
      exchanges: [
        {
          id: 1,
          t: 0,
          request: { method: 'GET', path: '/authorize', query: `?code_challenge=${verifierish}&url=${encodeURIComponent('https://github.com/login/oauth/authorize?state=upstream-state-123&client_id=x')}`, headers: {} },
          response: {
            t: 1,
            status: 200,
            headers: { 'content-type': 'text/html', location: 'http://127.0.0.1:9/cb?code=the-code-1234&state=abc&iss=x' },
            bodyText: '<form action="/authorize?state=s3cr3t-state"><input type="hidden" name="handle" value="hAnDlE-1234567890"><input name="decision" value="approve"></form>',
            end: { t: 2, reason: 'complete' },
          },
        },
      ],
    },
    { client: 'test', scenario: 'urls', transport: 'other', recordedWith: 'proxy' },
  )
  const text = JSON.stringify(cassette)
  for (const secret of [verifierish, 'upstream-state-123', 'the-code-1234', 's3cr3t-state', 'hAnDlE-1234567890']) expect(text).not.toContain(secret)
  expect(text).toContain('value=\\"approve\\"')
  expect(findSecrets(cassette)).toEqual([])
})
