import { NetworkError } from './errors.js'

/**
 * The fetch an auth sends through: redirects followed by the SDK, not by fetch, so that what a
 * request carries stays with the server it was meant for.
 *
 * - A GET (or HEAD) follows up to MAX_HOPS redirects. Within its origin it keeps its headers; to
 *   another origin it goes bare (no `authorization`, `atproto-proxy`, API keys or any header the
 *   app set), as a CDN serving a blob needs none of them; `https:` never drops to `http:` except to
 *   this machine.
 * - Anything with a body (a login's password, a record) is not re-sent anywhere: a redirect of it is
 *   a `NetworkError`. XRPC servers answer procedures where they are asked.
 *
 * In a browser, fetch hides a redirect's target (`opaqueredirect`); a GET is then fetched again bare,
 * letting the browser follow, and anything else fails as above.
 */

const MAX_HOPS = 5
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])
/** What a bare request to another origin keeps: nothing that could identify or authorize the caller. */
const BARE_HEADERS = ['accept', 'accept-language']

export function redirectSafeFetch(fetch: typeof globalThis.fetch, nsid: string): typeof globalThis.fetch {
  return async (input, init) => {
    const first = new Request(input, { ...init, redirect: 'manual' })
    const followable = first.method === 'GET' || first.method === 'HEAD'
    let request = first
    for (let hop = 0; ; hop++) {
      const response = await fetch(request)
      if (response.type === 'opaqueredirect') {
        if (!followable) throw refused(nsid, request.method, 'another address', response)
        return fetch(bare(request, request.url, 'follow'))
      }
      const location = REDIRECT_STATUS.has(response.status) ? response.headers.get('location') : null
      if (location === null) return response
      await response.body?.cancel().catch(() => {})
      let target: URL
      try {
        target = new URL(location, request.url)
      } catch {
        throw new NetworkError(`${nsid}: redirected (HTTP ${response.status}) to an invalid address`, nsid)
      }
      if (!followable) throw refused(nsid, request.method, target.origin, response)
      if (hop === MAX_HOPS) throw new NetworkError(`${nsid}: more than ${MAX_HOPS} redirects`, nsid)
      const from = new URL(request.url)
      if (from.protocol === 'https:' && target.protocol !== 'https:' && !isLoopbackHost(target.hostname))
        throw new NetworkError(`${nsid}: redirected from https to ${target.protocol} (not followed)`, nsid)
      if (target.protocol !== 'https:' && target.protocol !== 'http:')
        throw new NetworkError(`${nsid}: redirected to a ${target.protocol} address (not followed)`, nsid)
      request =
        target.origin === from.origin
          ? new Request(target, {
              method: request.method,
              headers: request.headers,
              signal: request.signal,
              redirect: 'manual',
            })
          : bare(request, target.href, 'manual')
    }
  }
}

function bare(request: Request, url: string, redirect: RequestRedirect): Request {
  const headers = new Headers()
  for (const name of BARE_HEADERS) {
    const value = request.headers.get(name)
    if (value !== null) headers.set(name, value)
  }
  return new Request(url, { method: request.method, headers, signal: request.signal, redirect })
}

function refused(nsid: string, method: string, where: string, response: Response): NetworkError {
  return new NetworkError(
    `${nsid}: the server redirected a ${method} (HTTP ${response.status || 'redirect'}) to ${where}; not followed, ` +
      'so its body and credentials go only where they were sent',
    nsid,
  )
}

/**
 * `localhost` itself or a loopback IP literal (the URL parser has already normalized `127.1` and
 * the like): this machine, where `http:` is not in clear on a network. Not `*.localhost`: a
 * resolver may send such a name anywhere.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}
