import { AuthorizationError, CimdFetchError, type AuthRequest, type ConsentDescription } from '@cloudflare/workers-oauth-provider'
import { missingSecrets, type OAuthEnv } from './env'
import { selectUpstream, UpstreamError } from './upstreams'

const escape = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

const page = (status: number, title: string, message: string) =>
  new Response(`<!doctype html><meta charset="utf-8"><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(message)}</p>`, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  })

/** The consent page: client name, where tokens go, the scopes; the form carries only the handle. */
function consentPage(details: ConsentDescription, handle: string, upstream: string): string {
  const name = escape(details.clientName)
  const scopes = details.scope
    .map((scope) => `<label><input type="checkbox" name="scope" value="${escape(scope)}" checked> ${escape(scope)}</label>`)
    .join('<br>')
  return `<!doctype html>
<meta charset="utf-8">
<title>Authorize ${name}</title>
<h1>Allow ${name} to use this MCP server as you?</h1>
<p>${details.clientDomain ? `Published by <strong>${escape(details.clientDomain)}</strong>.` : 'This app registered itself; its name is not verified.'}
Access will be sent to <strong data-redirect-host>${escape(details.redirectHost)}</strong>.</p>
${details.redirectIsLoopback ? '<p><strong>This sends access to an app on your computer.</strong> Continue only if you just started signing in from it.</p>' : ''}
<p>You will sign in with ${escape(upstream)}.</p>
<form method="post" action="/authorize" data-consent>
  <input type="hidden" name="handle" value="${escape(handle)}">
  ${scopes}
  <p><button name="decision" value="approve">Allow</button> <button name="decision" value="deny">Deny</button></p>
</form>`
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const randomVerifier = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Sends the approved request to the upstream's authorize page, remembering a PKCE verifier for the callback. */
async function redirectUpstream(env: OAuthEnv, origin: string, request: AuthRequest, headers?: Headers): Promise<Response> {
  const upstream = selectUpstream(env)
  const verifier = randomVerifier()
  const transaction = await env.OAUTH_PROVIDER.beginUpstream(request, { data: { verifier }, headers })
  const location = await upstream.authorizeUrl({ redirectUri: `${origin}/callback`, state: transaction.state, codeChallenge: await s256(verifier) })
  transaction.headers.set('Location', location)
  return new Response(null, { status: 302, headers: transaction.headers })
}

/**
 * The default handler: consent page at /authorize, the upstream redirect, and /callback. Everything
 * that is not the MCP API and not an OAuth protocol endpoint lands here.
 */
export function createAuthHandler(publicOrigin: string) {
  return {
    async fetch(request: Request, env: OAuthEnv): Promise<Response> {
      const url = new URL(request.url)
      try {
        if (url.pathname === '/authorize' || url.pathname === '/callback') {
          // KI-16: refuse to start a sign-in that cannot finish, and say which secret is missing.
          const missing = missingSecrets(env)
          if (missing.length > 0) {
            console.error(`Failed to start authorization: missing secret(s) ${missing.join(', ')}`)
            return page(500, 'Server misconfigured', `Failed to start authorization: the server is missing the secret(s) ${missing.join(', ')}. Set them with \`wrangler secret put\` (or .dev.vars locally).`)
          }
        }
        if (url.pathname === '/authorize' && request.method === 'GET') {
          const authRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request)
          // KI-15 broken variant: straight to the upstream without asking the user.
          if (env.CONSENT === 'skip') return await redirectUpstream(env, publicOrigin, authRequest)
          const details = await env.OAUTH_PROVIDER.describeConsent(authRequest)
          const consent = await env.OAUTH_PROVIDER.beginConsent(authRequest)
          consent.headers.set('Content-Type', 'text/html; charset=utf-8')
          return new Response(consentPage(details, consent.handle, selectUpstream(env).name), { headers: consent.headers })
        }
        if (url.pathname === '/authorize' && request.method === 'POST') {
          const form = await request.formData()
          const handle = String(form.get('handle') ?? '')
          if (form.get('decision') !== 'approve') {
            const denied = await env.OAUTH_PROVIDER.denyConsent(request, handle)
            return new Response(null, { status: 302, headers: denied.headers })
          }
          const scopes = form.getAll('scope').map(String)
          const approved = await env.OAUTH_PROVIDER.approveConsent(request, handle, scopes.length ? { scope: scopes } : {})
          return await redirectUpstream(env, publicOrigin, approved.request, approved.headers)
        }
        if (url.pathname === '/callback' && request.method === 'GET') {
          const resumed = await env.OAUTH_PROVIDER.finishUpstream<{ verifier: string }>(request)
          const upstreamError = url.searchParams.get('error')
          if (upstreamError) {
            const back = new URL(resumed.request.redirectUri)
            back.searchParams.set('error', 'access_denied')
            back.searchParams.set('error_description', `The upstream provider answered ${upstreamError}`)
            back.searchParams.set('state', resumed.request.state)
            if (resumed.request.issuer) back.searchParams.set('iss', resumed.request.issuer)
            resumed.headers.set('Location', back.href)
            return new Response(null, { status: 302, headers: resumed.headers })
          }
          const upstream = selectUpstream(env)
          const token = await upstream.exchange({ code: url.searchParams.get('code') ?? '', codeVerifier: resumed.data.verifier, redirectUri: `${publicOrigin}/callback` })
          const user = await upstream.user(token)
          const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
            request: resumed.request,
            userId: user.userId,
            metadata: { provider: user.provider },
            scope: resumed.request.scope,
            props: user,
          })
          resumed.headers.set('Location', redirectTo)
          return new Response(null, { status: 302, headers: resumed.headers })
        }
        if (url.pathname === '/' || url.pathname === '/health') {
          return Response.json({ name: 'mcp-harness-oauth', version: env.SERVER_VERSION, upstream: env.UPSTREAM, transports: { mcp: '/mcp', sse: '/sse' } })
        }
        return new Response('Not found', { status: 404 })
      } catch (error) {
        if (error instanceof AuthorizationError && error.redirectTo) return Response.redirect(error.redirectTo, 302)
        if (error instanceof AuthorizationError) return page(400, 'Authorization failed', `${error.code}: ${error.description}`)
        if (error instanceof CimdFetchError) return page(400, 'Authorization failed', 'This app could not be verified.')
        if (error instanceof UpstreamError) return page(error.status, 'Sign-in failed', error.message)
        throw error
      }
    },
  }
}
