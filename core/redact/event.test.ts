import { describe, expect, test } from 'vitest'
import { redactBodyText, redactEvent, redactUrlQuery } from './event.ts'

describe('redactEvent', () => {
  test('redacts credential headers, OAuth fields in queries, forms and JSON, and URL-valued headers', () => {
    const event = redactEvent({
      layer: 'client',
      type: 'request',
      query: '?code=abc&state=xyz&keep=1',
      headers: { authorization: 'Bearer abc.def', cookie: 'a=b', location: '/cb?code=abc', 'mcp-session-id': 'keep-me' },
      bodyText: 'grant_type=authorization_code&code=abc&code_verifier=v',
      body: { params: { refresh_token: 'r', progressToken: 'p' } },
    })
    expect(event.query).toBe('?code=%3Credacted%3Acode%3E&state=%3Credacted%3Astate%3E&keep=1')
    expect(event.headers).toEqual({ authorization: 'Bearer <redacted:authorization>', cookie: '<redacted:cookie>', location: '/cb?code=%3Credacted%3Acode%3E', 'mcp-session-id': 'keep-me' })
    expect(new URLSearchParams(event.bodyText)).toEqual(new URLSearchParams({ grant_type: 'authorization_code', code: '<redacted:code>', code_verifier: '<redacted:code_verifier>' }))
    expect(event.body).toEqual({ params: { refresh_token: '<redacted:refresh_token>', progressToken: 'p' } })
  })

  test('is idempotent: redacting twice gives the same event (cassettes redact transcript events again)', () => {
    const once = redactEvent({ layer: 'client', type: 'request', query: '?code=abc', headers: { authorization: 'Bearer x' }, bodyText: 'code=abc' })
    expect(redactEvent(once)).toEqual(once)
  })

  test('leaves text without secrets byte for byte, and redacts URLs nested in a query', () => {
    expect(redactUrlQuery('/sse/message?sessionId=abc&x=a b')).toBe('/sse/message?sessionId=abc&x=a b')
    expect(redactBodyText('not a form')).toBe('not a form')
    const nested = redactUrlQuery(`/page?url=${encodeURIComponent('https://idp.example/authorize?state=s3cr3t&client_id=c')}`)
    expect(decodeURIComponent(new URLSearchParams(nested.split('?')[1]).get('url')!)).toBe('https://idp.example/authorize?state=<redacted:state>&client_id=c')
  })
})
