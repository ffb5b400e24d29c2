/**
 * The headless browser scenarios use is the package's own (`emulator/sign-in/browser.ts`): a real
 * cookie jar, parse5 for any approval form, mocked upstream pages through the front door, Chromium
 * for pages that need JavaScript.
 */
export { runBrowser, CookieJar, findChromium } from '../../emulator/sign-in/browser.ts'
export type { BrowserOptions, BrowserResult, BrowserStep } from '../../emulator/sign-in/browser.ts'
export { UPSTREAM_BROWSER_PATH } from '../../emulator/plugins/upstream/index.ts'
