import { parseProviderOptions, type UpstreamProvider } from './handlers.ts'
import { createOidcProvider, OidcCommonOptionsSchema } from './oidc.ts'
import type { z } from 'zod'

const ISSUER = 'https://accounts.google.com'
const V2_USERINFO = 'https://www.googleapis.com/oauth2/v2/userinfo'

/** Options of `google()`: the shared provider and OpenID options. */
export const GoogleOptionsSchema = OidcCommonOptionsSchema
export type GoogleOptions = z.input<typeof GoogleOptionsSchema>

/**
 * A mocked Google OAuth client: OpenID discovery and JWKS, the authorize page, both token endpoints
 * (`oauth2.googleapis.com/token` and the legacy `accounts.google.com/o/oauth2/token` Cloudflare's
 * template calls; JSON, errors as HTTP 400), ID tokens, the OpenID userinfo endpoints and the v2
 * `www.googleapis.com/oauth2/v2/userinfo` with its own field names.
 * @example upstream: { providers: [google({ users: [{ id: '1234', email: 'ada@example.com', name: 'Ada' }] })] }
 */
export function google(input: GoogleOptions = {}): UpstreamProvider {
  const options = parseProviderOptions('google', GoogleOptionsSchema, input)
  return createOidcProvider(
    {
      kind: 'google',
      name: 'google',
      issuer: ISSUER,
      endpoints: {
        discoveryBase: ISSUER,
        authorize: [`${ISSUER}/o/oauth2/v2/auth`, `${ISSUER}/o/oauth2/auth`],
        token: ['https://oauth2.googleapis.com/token', `${ISSUER}/o/oauth2/token`],
        userinfo: ['https://openidconnect.googleapis.com/v1/userinfo', 'https://www.googleapis.com/oauth2/v3/userinfo', V2_USERINFO],
        jwks: 'https://www.googleapis.com/oauth2/v3/certs',
      },
      userinfoShape: (url, user, standard) => {
        const [given, ...family] = (user.name ?? '').split(' ')
        const picture = 'https://lh3.googleusercontent.com/a/default-user'
        // v2 predates OpenID Connect: `id` and `verified_email` instead of `sub` and `email_verified`.
        if (url === V2_USERINFO) return { id: String(user.id), email: user.email, verified_email: true, name: user.name, given_name: given, family_name: family.join(' '), picture }
        return { ...standard, picture, ...(user.name ? { given_name: given, family_name: family.join(' ') } : {}), preferred_username: undefined, nickname: undefined }
      },
      defaultUser: { id: '109876543210987654321', email: 'ada@example.com', name: 'Ada Lovelace' },
    },
    options,
  )
}
