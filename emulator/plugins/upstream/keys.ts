import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose'

/** The JWS algorithms a mocked provider signs with (what Auth0, Google, WorkOS, Logto… publish). */
export type SigningAlgorithm = 'RS256' | 'ES256'

interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  privateKey: KeyObject
  publicKey: KeyObject
}

function generate(alg: SigningAlgorithm): SigningKey {
  // Synchronous so that a provider factory stays synchronous; jose signs with Node KeyObjects.
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid: `mock-${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`, alg, ...pair }
}

/**
 * A provider's signing keys: one current key signs, rotated-out keys stay published in the JWKS
 * until dropped (as Cloudflare Access keeps the previous key for 7 days, Stytch for a month).
 * @example const keys = new SigningKeys('RS256'); const jwt = await keys.sign({ sub: '1' }); keys.rotate()
 */
export class SigningKeys {
  // Generated on first use: an RSA key costs ~0.3 s, and many providers never sign anything.
  #generated?: SigningKey[]
  readonly alg: SigningAlgorithm

  constructor(alg: SigningAlgorithm = 'RS256') {
    this.alg = alg
  }

  get #keys(): SigningKey[] {
    this.#generated ??= [generate(this.alg)]
    return this.#generated
  }

  set #keys(keys: SigningKey[]) {
    this.#generated = keys
  }

  /** The key id that signs new tokens. */
  get currentKid(): string {
    return this.#keys[0].kid
  }

  /** Makes a new key current; `keepPrevious: false` also unpublishes the old ones (a Worker with a stale JWKS cache then fails). */
  rotate(options: { keepPrevious?: boolean } = {}): string {
    const next = generate(this.alg)
    this.#keys = options.keepPrevious === false ? [next] : [next, ...this.#keys].slice(0, 3)
    return next.kid
  }

  /** The public JWK Set (RFC 7517) as a `jwks_uri` serves it. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: await Promise.all(this.#keys.map(async (key) => ({ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.alg, use: 'sig' }))) }
  }

  /** Public keys in PEM, as Cloudflare Access publishes them next to the JWKS. */
  pems(): string[] {
    return this.#keys.map((key) => key.publicKey.export({ type: 'spki', format: 'pem' }).toString())
  }

  /** Signs a JWT with the current key (`iat` set when missing). */
  async sign(claims: JWTPayload, header: { typ?: string } = {}): Promise<string> {
    const key = this.#keys[0]
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: header.typ ?? 'JWT' }).setIssuedAt(claims.iat).sign(key.privateKey)
  }
}

/**
 * OIDC `at_hash`: the left half of the SHA-256 of the access token, base64url (OpenID Connect Core
 * 3.1.3.6, for RS256 and ES256). https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken
 */
export function accessTokenHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}
