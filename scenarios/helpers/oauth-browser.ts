/**
 * A headless "browser" for OAuth flows against the emulator: keeps cookies, follows redirects by
 * hand, approves (or denies) the consent page, and visits mocked upstream authorize pages through
 * the emulator's front door. Runs in a test or as the BROWSER hook of a real client (mcp-remote).
 */

/** Path on the emulator that serves the mocked upstreams' authorize pages (plugin `upstream`). */
export const UPSTREAM_BROWSER_PATH = '/__mcp-harness/upstream/authorize'

export interface BrowserOptions {
  /** What to do on the consent page (default `approve`). */
  consent?: 'approve' | 'deny'
  /** Which upstream user signs in (login, id or email; default: the provider's first user). */
  user?: string
  /** Decline at the upstream provider. */
  denyUpstream?: boolean
  /** Redirects to follow before giving up (default 12). */
  maxSteps?: number
  /** Called before each request (e.g. to move a mocked provider's clock before the callback). */
  beforeStep?: (url: URL) => void | Promise<void>
}

/** One hop the browser made, for assertions and for debugging a failed flow. */
export interface BrowserStep {
  method: string
  url: string
  status: number
  location?: string
  /** Set when the page was a consent form. */
  consent?: boolean
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
}

/** A cookie jar for one origin; `__Host-`/`Secure` cookies are kept over http, as browsers do on loopback. */
export class CookieJar {
  readonly #cookies = new Map<string, string>()

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()))
      if (expired || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }

  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  names(): string[] {
    return [...this.#cookies.keys()]
  }

  clear(): void {
    this.#cookies.clear()
  }
}

/** Reads the consent form's hidden handle and ticked scopes. */
export function parseConsentForm(html: string): { handle: string; scopes: string[]; action: string } | undefined {
  const form = /<form[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) return undefined
  const handle = /name="handle"\s+value="([^"]*)"/.exec(form[1])?.[1]
  if (!handle) return undefined
  const action = /action="([^"]*)"/.exec(form[0])?.[1] ?? ''
  const scopes = [...form[1].matchAll(/name="scope"\s+value="([^"]*)"\s+checked/g)].map((m) => decodeEntities(m[1]))
  return { handle: decodeEntities(handle), scopes, action: decodeEntities(action) }
}

const decodeEntities = (value: string) => value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&')

/**
 * Drives an authorization URL to its end like a user at a browser: consent, upstream sign-in, callback.
 * @example const { finalUrl } = await runBrowser(emulator.url, authorizeUrl); finalUrl.searchParams.get('code')
 */
export async function runBrowser(emulatorUrl: URL | string, authorizeUrl: URL | string, options: BrowserOptions = {}, jar = new CookieJar()): Promise<BrowserResult> {
  const base = new URL(emulatorUrl)
  const start = new URL(authorizeUrl)
  const clientRedirect = start.searchParams.get('redirect_uri') ?? ''
  const steps: BrowserStep[] = []
  let method = 'GET'
  let body: URLSearchParams | undefined
  let url = start
  for (let step = 0; step < (options.maxSteps ?? 12); step++) {
    // The client's redirect URI ends the browser's part: the client (or its local server) takes over.
    if (clientRedirect && `${url.origin}${url.pathname}` === clientRedirect.split('?')[0]) {
      return { finalUrl: url, reachedClient: true, steps, lastStatus: 0, lastBody: '' }
    }
    // A page of another origin is a mocked upstream's: the emulator serves it on the provider's behalf.
    const target =
      url.origin === base.origin
        ? url
        : new URL(`${UPSTREAM_BROWSER_PATH}?${new URLSearchParams({ url: url.href, ...(options.user ? { user: options.user } : {}), ...(options.denyUpstream ? { deny: '1' } : {}) })}`, base)
    await options.beforeStep?.(url)
    const headers: Record<string, string> = { accept: 'text/html' }
    const cookie = target.origin === base.origin ? jar.header() : undefined
    if (cookie) headers.cookie = cookie
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(target, { method, headers, body, redirect: 'manual' })
    jar.store(response)
    const location = response.headers.get('location') ?? undefined
    const text = location ? '' : await response.text()
    const consent = !location && response.ok ? parseConsentForm(text) : undefined
    steps.push({ method, url: url.href, status: response.status, ...(location ? { location } : {}), ...(consent ? { consent: true } : {}) })
    if (location) {
      url = new URL(location, target)
      method = 'GET'
      body = undefined
      continue
    }
    if (consent) {
      method = 'POST'
      url = new URL(consent.action || url.pathname, url)
      body = new URLSearchParams([['handle', consent.handle], ['decision', options.consent ?? 'approve'], ...consent.scopes.map((scope) => ['scope', scope])])
      continue
    }
    return { finalUrl: url, reachedClient: false, steps, lastStatus: response.status, lastBody: text }
  }
  throw new Error(`[mcp-harness] The browser followed ${options.maxSteps ?? 12} steps without reaching ${clientRedirect}: ${steps.map((s) => `${s.status} ${s.url}`).join(' -> ')}`)
}
