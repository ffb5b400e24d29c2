/**
 * A headless "browser" for OAuth flows against a Worker under the emulator: keeps cookies in a real
 * cookie jar (tough-cookie: RFC 6265bis, `__Host-` prefixes, Secure on loopback as browsers treat
 * it), follows redirects by hand, submits whatever approval form the Worker renders (parse5), and
 * visits mocked upstream authorize pages through the emulator's front door. A page that only works
 * with JavaScript is run in Chromium (playwright-core) when one is installed, up to the navigation
 * its scripts start; the headless browser then goes on from there.
 */
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { CookieJar as ToughCookieJar } from 'tough-cookie'
import { HarnessError } from '../../core/errors.ts'
import { UPSTREAM_BROWSER_PATH } from '../plugins/upstream/plugin.ts'
import { readPage } from './consent-form.ts'

export interface BrowserOptions {
  /** What to do on the consent page (default `approve`). */
  consent?: 'approve' | 'deny'
  /** Which upstream user signs in (login, id or email; default: the provider's first user). */
  user?: string
  /** Decline at the upstream provider. */
  denyUpstream?: boolean
  /** Redirects and form posts to follow before giving up (default 16). */
  maxSteps?: number
  /** Called before each request (e.g. to move a mocked provider's clock before the callback). */
  beforeStep?: (url: URL) => void | Promise<void>
  /** `auto` (default): Chromium takes over a page that needs JavaScript; `never`: stop there. */
  javascript?: 'auto' | 'never'
  /** Chromium to use for JavaScript pages (default: `CHROMIUM_PATH`, then /usr/bin/chromium). */
  chromiumPath?: string
}

/** One hop the browser made, for assertions and for debugging a failed flow. */
export interface BrowserStep {
  method: string
  url: string
  status: number
  location?: string
  /** Set when the page was a consent form the browser submitted. */
  consent?: boolean
  /** Set when Chromium drove this page. */
  chromium?: boolean
}

export interface BrowserResult {
  /** Where the flow ended: the client's redirect URI (with `code` or `error`), or the last page. */
  finalUrl: URL
  /** True when the flow reached the client's redirect URI. */
  reachedClient: boolean
  steps: BrowserStep[]
  /** The last response when the flow stopped on a page (an error page, or no redirect). */
  lastStatus: number
  lastBody: string
  /** Set when the flow stopped on a page that needs JavaScript and no Chromium was available. */
  needsJavaScript?: boolean
}

/**
 * A cookie jar with the browser's rules (tough-cookie), for one flow.
 * @example const jar = new CookieJar(); await runBrowser(url, authorizeUrl, {}, jar); jar.header()
 */
export class CookieJar {
  readonly #jar = new ToughCookieJar(undefined, { prefixSecurity: 'strict' })
  #lastUrl?: string

  /** Stores the response's `Set-Cookie` lines as the browser would for `url`. */
  async store(response: Response, url: URL | string): Promise<void> {
    this.#lastUrl = String(url)
    for (const line of response.headers.getSetCookie()) await this.#jar.setCookie(line, String(url), { ignoreError: true })
  }

  /** The `Cookie` header for `url` (default: the last URL that set cookies), undefined when empty. */
  header(url?: URL | string): string | undefined {
    const target = url ? String(url) : this.#lastUrl
    if (!target) return undefined
    return this.#jar.getCookieStringSync(target) || undefined
  }

  /** Replaces the cookies sent to `url` with these `Set-Cookie` lines (what Chromium kept for it). */
  async replace(url: URL | string, lines: string[]): Promise<void> {
    const target = String(url)
    for (const cookie of this.#jar.getCookiesSync(target)) {
      await this.#jar.setCookie(`${cookie.key}=; Path=${cookie.path ?? '/'}${cookie.secure ? '; Secure' : ''}; Max-Age=0`, target, { ignoreError: true })
    }
    for (const line of lines) await this.#jar.setCookie(line, target, { ignoreError: true })
  }

  /** The cookies that would be sent to `url`, with their attributes. */
  cookies(url: URL | string) {
    return this.#jar.getCookiesSync(String(url))
  }

  names(url?: URL | string): string[] {
    const target = url ? String(url) : this.#lastUrl
    return target ? this.#jar.getCookiesSync(target).map((cookie) => cookie.key) : []
  }

  clear(): void {
    this.#jar.removeAllCookiesSync()
  }
}

/** Where Chromium lives, or undefined. */
export function findChromium(explicit?: string): string | undefined {
  const candidates = explicit ? [explicit] : process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']
  return candidates.find((candidate) => existsSync(candidate))
}

/** A request body the browser sends: a form it submitted, or what a page's script posted. */
interface RequestBody {
  data: string | Uint8Array<ArrayBuffer>
  type: string
}

/** The URL the browser actually requests: another origin's page is a mocked upstream's, served by the emulator. */
function viaFrontDoor(url: URL, base: URL, options: BrowserOptions): URL {
  if (url.origin === base.origin) return url
  const params = new URLSearchParams({ url: url.href, ...(options.user ? { user: options.user } : {}), ...(options.denyUpstream ? { deny: '1' } : {}) })
  return new URL(`${UPSTREAM_BROWSER_PATH}?${params}`, base)
}

/**
 * Drives an authorization URL to its end like a user at a browser: consent, upstream sign-in, callback.
 * @example const { finalUrl } = await runBrowser(emulator.url, authorizeUrl); finalUrl.searchParams.get('code')
 */
export async function runBrowser(emulatorUrl: URL | string, authorizeUrl: URL | string, options: BrowserOptions = {}, jar = new CookieJar()): Promise<BrowserResult> {
  const base = new URL(emulatorUrl)
  const start = new URL(authorizeUrl)
  const clientRedirect = start.searchParams.get('redirect_uri') ?? ''
  const maxSteps = options.maxSteps ?? 16
  const steps: BrowserStep[] = []
  let method = 'GET'
  let body: RequestBody | undefined
  let url = start
  let referer: string | undefined
  for (let step = 0; step < maxSteps; step++) {
    // The client's redirect URI ends the browser's part: the client (or its local server) takes over.
    if (clientRedirect && `${url.origin}${url.pathname}` === clientRedirect.split('?')[0]) {
      return { finalUrl: url, reachedClient: true, steps, lastStatus: 0, lastBody: '' }
    }
    const target = viaFrontDoor(url, base, options)
    await options.beforeStep?.(url)
    const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', 'user-agent': 'mcp-harness headless browser' }
    const cookie = jar.header(target)
    if (cookie) headers.cookie = cookie
    if (body) {
      headers['content-type'] = body.type
      // Form posts carry Origin and Referer, as browsers send them; CSRF checks often read them.
      headers.origin = url.origin
    }
    if (referer) headers.referer = referer
    const response = await fetch(target, { method, headers, body: body?.data, redirect: 'manual' })
    await jar.store(response, target)
    const location = response.headers.get('location') ?? undefined
    const text = location ? '' : await response.text()
    if (location) {
      steps.push({ method, url: url.href, status: response.status, location })
      referer = url.href
      url = new URL(location, url.origin === base.origin ? target : url)
      method = 'GET'
      body = undefined
      continue
    }
    const page = response.ok && (response.headers.get('content-type') ?? '').includes('html') ? readPage(text, url, options.consent ?? 'approve') : undefined
    steps.push({ method, url: url.href, status: response.status, ...(page?.form ? { consent: true } : {}) })
    if (page?.form) {
      referer = url.href
      method = page.form.method
      url = page.form.action
      body = method === 'POST' ? { data: new URLSearchParams(page.form.fields).toString(), type: 'application/x-www-form-urlencoded' } : undefined
      if (method === 'GET') for (const [key, value] of page.form.fields) url.searchParams.append(key, value)
      continue
    }
    if (page?.refresh) {
      url = page.refresh
      method = 'GET'
      body = undefined
      continue
    }
    if (page?.needsJavaScript && options.javascript !== 'never') {
      const executable = findChromium(options.chromiumPath)
      if (executable) {
        const outcome = await runChromium(executable, base, target, { status: response.status, contentType: response.headers.get('content-type') ?? 'text/html', body: text }, options, jar)
        steps[steps.length - 1].chromium = true
        if ('stopped' in outcome) return { finalUrl: url, reachedClient: false, steps, lastStatus: outcome.stopped.status, lastBody: outcome.stopped.body }
        referer = url.href
        method = outcome.navigate.method
        url = outcome.navigate.url
        body = outcome.navigate.body
        continue
      }
    }
    return { finalUrl: url, reachedClient: false, steps, lastStatus: response.status, lastBody: text, ...(page?.needsJavaScript ? { needsJavaScript: true } : {}) }
  }
  throw new HarnessError('ERR_SIGN_IN', `Failed to sign in at step "consent": the browser followed ${maxSteps} steps without reaching ${clientRedirect}: ${steps.map((s) => `${s.status} ${s.method} ${s.url.split('?')[0]}`).join(' -> ')}`)
}

/** Chromium's flags: headless, nothing that phones home. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/** How long Chromium may run one page's scripts before the flow gives up on it. */
const CHROMIUM_PAGE_MS = 20_000

/** What Chromium hands back: the navigation the page's scripts started, or the page it stopped on. */
type ChromiumOutcome = { navigate: { method: string; url: URL; body?: RequestBody } } | { stopped: { url: URL; status: number; body: string } }

/** Copies tough-cookie's cookies for `base` into Chromium, attributes included (`__Host-` needs Secure and Path=/). */
function toChromiumCookies(jar: CookieJar, base: URL) {
  return jar.cookies(base).map((cookie) => ({
    name: cookie.key,
    value: cookie.value,
    domain: base.hostname,
    path: cookie.path ?? '/',
    secure: Boolean(cookie.secure),
    httpOnly: Boolean(cookie.httpOnly),
    sameSite: (({ strict: 'Strict', lax: 'Lax', none: 'None' }) as const)[String(cookie.sameSite).toLowerCase() as 'strict' | 'lax' | 'none'] ?? 'Lax',
  }))
}

/**
 * Runs a page that needs JavaScript in Chromium (playwright-core): the page's HTML as the headless
 * browser received it, the jar's cookies, its scripts and fetches against the Worker, and a click on
 * its approve (or deny) button. The navigation the page then starts (a form post, `location.assign`
 * to the upstream, the client's callback) is caught, not loaded, and handed back with Chromium's
 * cookies: the headless browser goes on from there, so mocked upstream pages and the client's
 * redirect URI are handled in one place, and no request leaves the loopback.
 */
async function runChromium(executable: string, base: URL, pageUrl: URL, response: { status: number; contentType: string; body: string }, options: BrowserOptions, jar: CookieJar): Promise<ChromiumOutcome> {
  // playwright-core is an optional peer, loaded only here: most consent pages never need it.
  let chromium: typeof import('playwright-core').chromium
  try {
    ;({ chromium } = await import('playwright-core'))
  } catch {
    throw new HarnessError('ERR_SIGN_IN', `Failed to sign in at step "consent": the page at ${pageUrl.href.split('?')[0]} needs JavaScript; install playwright-core (npm install -D playwright-core) so that Chromium can drive it.`)
  }
  const browser = await chromium.launch({ executablePath: executable, args: CHROMIUM_ARGS, headless: true }).catch((error: Error) => {
    throw new HarnessError('ERR_SIGN_IN', `Failed to sign in at step "consent": the page at ${pageUrl.href.split('?')[0]} needs JavaScript, and Chromium at ${executable} did not start: ${error.message.split('\n')[0]}`)
  })
  try {
    const context = await browser.newContext()
    const cookies = toChromiumCookies(jar, base)
    if (cookies.length) await context.addCookies(cookies)
    const page = await context.newPage()
    let served = false
    let handBack: (outcome: ChromiumOutcome) => void = () => {}
    const navigated = new Promise<ChromiumOutcome>((resolve) => (handBack = resolve))
    await context.route('**/*', async (route) => {
      const request = route.request()
      const url = new URL(request.url())
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
        // The first navigation is the page the headless browser already fetched: serve it as received.
        if (!served) {
          served = true
          return route.fulfill({ status: response.status, contentType: response.contentType, body: response.body })
        }
        const data = request.postDataBuffer()
        handBack({ navigate: { method: request.method(), url, ...(data ? { body: { data: new Uint8Array(data), type: (await request.allHeaders())['content-type'] ?? 'application/x-www-form-urlencoded' } } : {}) } })
        return route.abort('aborted')
      }
      // The page's own fetches and assets go to the Worker; nothing else leaves the loopback.
      if (url.origin === base.origin) return route.continue()
      return route.abort('blockedbyclient')
    })
    await page.goto(pageUrl.href, { waitUntil: 'load' })
    const wanted = options.consent === 'deny' ? /deny|reject|decline|cancel/i : /approve|allow|accept|authori[sz]e|grant|continue|confirm|yes/i
    const deadline = Date.now() + CHROMIUM_PAGE_MS
    let outcome: ChromiumOutcome | undefined
    while (!outcome && Date.now() < deadline) {
      // Scripts render the buttons when they are ready (often after a fetch): click one when it shows, then
      // wait for the navigation; click again only if the page is still there.
      const button = page.getByRole('button', { name: wanted }).first()
      if (await button.isVisible().catch(() => false)) await button.click({ timeout: 5_000 }).catch(() => {})
      const pause = new AbortController()
      outcome = await Promise.race([navigated, sleep(2_000, undefined, { signal: pause.signal }).catch(() => undefined)])
      pause.abort()
    }
    // Chromium started with the jar's cookies for the Worker, so what it kept (CSRF, state binding,
    // cleared ones gone) replaces them.
    const kept = await context.cookies(base.origin)
    await jar.replace(base, kept.map((cookie) => `${cookie.name}=${cookie.value}; Path=${cookie.path}${cookie.secure ? '; Secure' : ''}${cookie.httpOnly ? '; HttpOnly' : ''}; SameSite=${cookie.sameSite}${cookie.expires > 0 ? `; Expires=${new Date(cookie.expires * 1000).toUTCString()}` : ''}`))
    if (outcome) return outcome
    return { stopped: { url: new URL(page.url()), status: response.status, body: (await page.locator('body').innerText().catch(() => '')).slice(0, 2_000) } }
  } finally {
    await browser.close()
  }
}
