import { createHash } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { buildCassette } from '../format/normalize.ts'
import { inventSecret } from '../replay.ts'
import { Bindings } from './bindings.ts'

describe('bindings', () => {
  test('a redaction captures the live value it stood for, and a later request gets it, plain or percent-encoded', () => {
    const bindings = new Bindings()
    bindings.values.set('<origin>', 'http://127.0.0.1:9000')
    expect(bindings.match('<origin>/callback?state=%3Credacted%3Astate%3E&code=%3Credacted%3Acode%3E', 'http://127.0.0.1:9000/callback?state=s%2F1&code=abc')).toBe(true)
    expect(bindings.secrets.get('state')).toBe('s/1')
    expect(bindings.secrets.get('code')).toBe('abc')
    expect(bindings.substitute('/callback?code=<redacted:code>', true)).toBe('/callback?code=abc')
    expect(bindings.substitute('grant_type=authorization_code&code=%3Credacted%3Acode%3E&resource=%3Corigin%3E', true)).toBe('grant_type=authorization_code&code=abc&resource=http%3A%2F%2F127.0.0.1%3A9000')
    // Answers (the mock) and reports keep redactions as they are.
    expect(bindings.substitute('code=<redacted:code>')).toBe('code=<redacted:code>')
  })

  test('the latest answer wins for a redaction name (the upstream code, then the client code)', () => {
    const bindings = new Bindings()
    bindings.match('<redacted:code>', 'first')
    bindings.match('x?code=%3Credacted%3Acode%3E', 'x?code=second')
    expect(bindings.substitute('<redacted:code>', true)).toBe('second')
  })

  test('a placeholder bound once must be the same value everywhere after', () => {
    const bindings = new Bindings()
    expect(bindings.match('{"client_id":"<client-1>"}', '{"client_id":"abcdefgh12"}')).toBe(true)
    expect(bindings.match('id=<client-1>', 'id=other')).toBe(false)
    expect(bindings.match('id=<client-1>', 'id=abcdefgh12')).toBe(true)
  })

  test('JSON text gets JSON-escaped values, so it stays valid JSON', () => {
    const bindings = new Bindings()
    bindings.secrets.set('access_token', 'a"b\\c')
    expect(JSON.parse(bindings.substituteJsonText('{"token":"<redacted:access_token>"}', true))).toEqual({ token: 'a"b\\c' })
  })

  test('an unsupplied redaction is made afresh only when the bindings may invent (a replay), and a header is sent only with known values', () => {
    const invented = new Bindings({ inventSecret: () => 'fresh' })
    expect(invented.substitute('state=<redacted:state>', true)).toBe('state=fresh')
    expect(invented.knows('Bearer <redacted:access_token>')).toBe(false)
    expect(new Bindings().substitute('state=<redacted:state>', true)).toBe('state=<redacted:state>')
  })
})

describe('OAuth values in a recording', () => {
  const t = 0
  const json = { 'content-type': 'application/json' }
  const cassette = buildCassette(
    {
      exchanges: [
        { id: 1, t, request: { method: 'POST', path: '/register', query: '', headers: json, bodyText: '{"redirect_uris":["http://127.0.0.1:9/cb"]}' }, response: { t, status: 201, headers: json, bodyText: '{"client_id":"pmNXSpwGiOck9RLg","client_id_issued_at":1796225562}', end: { t, reason: 'complete' } } },
        {
          id: 2,
          t: 1,
          request: { method: 'POST', path: '/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded' }, bodyText: 'grant_type=authorization_code&code=c0de-c0de&client_id=pmNXSpwGiOck9RLg&code_verifier=v3rifier-v3rifier' },
          response: { t: 1, status: 200, headers: json, bodyText: '{"access_token":"tok3n-value-123","refresh_token":"r3fresh-value-456","token_type":"bearer"}', end: { t: 1, reason: 'complete' } },
        },
        { id: 3, t: 2, request: { method: 'POST', path: '/mcp', query: '', headers: { ...json, authorization: 'Bearer tok3n-value-123' }, bodyText: '{"jsonrpc":"2.0","id":1,"method":"ping"}' }, response: { t: 2, status: 200, headers: json, bodyText: '{"jsonrpc":"2.0","id":1,"result":{}}', end: { t: 2, reason: 'complete' } } },
      ],
      events: [],
    },
    { client: 'test', scenario: 'oauth', transport: 'streamable-http', recordedWith: 'proxy' },
  )
  const text = JSON.stringify(cassette)

  test('a registered client id becomes <client-1> everywhere; the bearer header names the token it carries', () => {
    expect(text).not.toContain('pmNXSpwGiOck9RLg')
    expect((cassette.interactions[0]!.response!.body as { client_id: string }).client_id).toBe('<client-1>')
    expect(cassette.interactions[1]!.request.bodyText).toContain('client_id=<client-1>')
    expect(cassette.interactions[2]!.request.headers.authorization).toBe('Bearer <redacted:access_token>')
    for (const secret of ['tok3n-value-123', 'r3fresh-value-456', 'c0de-c0de', 'v3rifier-v3rifier']) expect(text).not.toContain(secret)
  })

  test('the PKCE challenge a replay makes up is the S256 of the verifier it sends later (RFC 7636)', () => {
    const bindings = new Bindings({ inventSecret })
    const challenge = bindings.substitute('code_challenge=<redacted:code_challenge>', true).slice('code_challenge='.length)
    const verifier = bindings.substitute('<redacted:code_verifier>', true)
    expect(verifier).toMatch(/^[\w-]{43}$/)
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'))
  })
})
