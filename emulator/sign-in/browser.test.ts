import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserLane } from '../../scenarios/browser/chromium.ts'
import { CookieJar, runBrowser } from './browser.ts'

// The Chromium hand-off of the headless browser, against a plain loopback server: a page that needs
// JavaScript gets the jar's cookies (a `__Host-` one included), its fetch sets and clears cookies,
// and the navigation its script starts goes on headless with the cookies Chromium kept.
const lane = browserLane()

const SCRIPT_PAGE = `<!doctype html><title>Consent</title><main id="app"></main>
<script>
  fetch('/api', { method: 'POST' }).then((r) => r.json()).then(({ saw }) => {
    const allow = document.createElement('button')
    allow.textContent = 'Allow'
    allow.addEventListener('click', () => window.location.assign('/done?saw=' + encodeURIComponent(saw)))
    document.getElementById('app').append(allow)
  })
</script>`

let server: http.Server
let origin: string
const hits: { path: string; cookie: string }[] = []
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    hits.push({ path: url.pathname, cookie: req.headers.cookie ?? '' })
    if (url.pathname === '/authorize') {
      res.setHeader('set-cookie', ['__Host-first=one; Secure; HttpOnly; Path=/; SameSite=Lax', 'stale=x; Path=/'])
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(SCRIPT_PAGE)
    }
    if (url.pathname === '/api') {
      res.setHeader('set-cookie', ['second=two; Path=/; SameSite=Lax', 'stale=; Path=/; Max-Age=0'])
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ saw: req.headers.cookie ?? '' }))
    }
    if (url.pathname === '/done') return res.writeHead(302, { location: 'http://127.0.0.1:9/cb?code=abc' }).end()
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('runBrowser() on a page that needs JavaScript', () => {
  test.skipIf(!lane.run)('Chromium runs the page as received with the jar\'s cookies, and the headless browser goes on with the cookies Chromium kept', { timeout: 60_000 }, async () => {
    hits.length = 0
    const jar = new CookieJar()
    const result = await runBrowser(origin, `${origin}/authorize?redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}`, {}, jar)
    expect(result.reachedClient).toBe(true)
    expect(result.finalUrl.searchParams.get('code')).toBe('abc')
    expect(result.steps.map((step) => `${step.method} ${new URL(step.url).pathname} ${step.status}${step.chromium ? ' chromium' : ''}`)).toEqual(['GET /authorize 200 chromium', 'GET /done 302'])
    // The page was not requested again by Chromium.
    expect(hits.filter((hit) => hit.path === '/authorize')).toHaveLength(1)
    // The script's fetch carried the `__Host-` cookie the jar got with the page.
    expect(hits.find((hit) => hit.path === '/api')?.cookie).toContain('__Host-first=one')
    // After the hand-back: the cookie set by the fetch is sent, the one it cleared is not.
    const done = hits.find((hit) => hit.path === '/done')!.cookie
    expect(done.split('; ').sort()).toEqual(['__Host-first=one', 'second=two'])
  })

  test('with javascript: never it stops on the page and says it needs JavaScript', async () => {
    const result = await runBrowser(origin, `${origin}/authorize?redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}`, { javascript: 'never' })
    expect(result).toMatchObject({ reachedClient: false, needsJavaScript: true, lastStatus: 200 })
  })
})
