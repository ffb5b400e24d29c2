import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { runBrowser, type BrowserOptions, type BrowserResult } from './oauth-browser.ts'
import { CLIENT_REDIRECT_URI } from './oauth-flow.ts'

/**
 * An in-memory OAuthClientProvider for the TypeScript SDK client whose "browser" is the headless
 * one: the SDK does discovery, registration, PKCE and token exchange itself; we only play the user.
 * @example const auth = new HeadlessOAuthProvider(emulator.url); await connectWithOAuth(url, auth)
 */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  readonly #emulatorUrl: URL
  readonly #browser: BrowserOptions
  #client?: OAuthClientInformationMixed
  #tokens?: OAuthTokens
  #verifier = ''
  /** The code the browser brought back, for `transport.finishAuth(code)`. */
  code?: string
  /** Each authorization the SDK asked for. */
  readonly runs: BrowserResult[] = []

  constructor(emulatorUrl: URL | string, browser: BrowserOptions = {}) {
    this.#emulatorUrl = new URL(emulatorUrl)
    this.#browser = browser
  }

  get redirectUrl(): string {
    return CLIENT_REDIRECT_URI
  }

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'mcp-harness SDK client', redirect_uris: [CLIENT_REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }
  }

  clientInformation() {
    return this.#client
  }

  saveClientInformation(info: OAuthClientInformationMixed) {
    this.#client = info
  }

  tokens() {
    return this.#tokens
  }

  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens
  }

  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier
  }

  codeVerifier() {
    return this.#verifier
  }

  async redirectToAuthorization(url: URL) {
    const result = await runBrowser(this.#emulatorUrl, url, this.#browser)
    this.runs.push(result)
    this.code = result.finalUrl.searchParams.get('code') ?? undefined
  }
}
