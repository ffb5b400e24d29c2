import type { OAuthHelpers } from '@cloudflare/workers-oauth-provider'
import type { Env } from '../../src/env'

/** Bindings, vars and secrets of the OAuth reference Worker (see server/oauth/wrangler.jsonc). */
export interface OAuthEnv extends Env {
  OAUTH_KV: KVNamespace
  /** Set by OAuthProvider for the default handler. */
  OAUTH_PROVIDER: OAuthHelpers
  UPSTREAM: 'github' | 'google' | 'oidc'
  UPSTREAM_CLIENT_ID: string
  UPSTREAM_CLIENT_SECRET: string
  /** Signs the "remember this app" approval cookie; KI-16 when missing. */
  COOKIE_ENCRYPTION_KEY: string
  OIDC_ISSUER?: string
  OIDC_AUTHORIZE_URL?: string
  OIDC_TOKEN_URL?: string
  OIDC_USERINFO_URL?: string
  OIDC_SCOPES?: string
  /** The public origin when it differs from the request's (a custom domain); empty: the request's origin. */
  PUBLIC_URL?: string
  /** `required` (reference) or `skip` (KI-15 broken variant). */
  CONSENT?: string
  /** `on` (reference) or `off` (KI-26: McpAgent as shipped). */
  SESSION_GUARD?: string
  ACCESS_TOKEN_TTL?: string
}

/** Secrets the server cannot sign anyone in without (KI-16). */
export const REQUIRED_SECRETS = ['UPSTREAM_CLIENT_ID', 'UPSTREAM_CLIENT_SECRET', 'COOKIE_ENCRYPTION_KEY'] as const

/** The names of required secrets that are unset or empty. */
export function missingSecrets(env: OAuthEnv): string[] {
  const missing: string[] = REQUIRED_SECRETS.filter((name) => !env[name])
  if (env.COOKIE_ENCRYPTION_KEY && env.COOKIE_ENCRYPTION_KEY.length < 32) missing.push('COOKIE_ENCRYPTION_KEY (needs 32+ characters)')
  if (env.UPSTREAM === 'oidc' && !env.OIDC_ISSUER) missing.push('OIDC_ISSUER')
  return missing
}
