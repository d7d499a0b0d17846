import type { Auth, AuthContext } from '../client/auth.js'
import { readErrorBody } from '../client/body.js'
import { AuthenticationError } from './errors.js'

/**
 * What the adapter needs of an OAuth session: the `OAuthSession` of `@atproto/oauth-client-node`
 * or `@atproto/oauth-client-browser` (what `client.restore(did)` and `client.callback(params)`
 * give), as it is. Typed by shape, so this package depends on neither.
 */
export interface OAuthSessionLike {
  /** The account's DID. */
  readonly did: string
  /** Sends a request to the account's PDS: `pathname` is resolved against it; DPoP proofs and token refresh are the session's. */
  fetchHandler(pathname: string, init?: RequestInit): Promise<Response>
  /** The token's audience (the PDS URL), when the session can tell; it refreshes an expired token first. */
  getTokenInfo?(refresh?: boolean | 'auto'): Promise<{ aud: string }>
}

/** Whether `auth` is an OAuth session itself rather than an `Auth` (so `new Client({ auth: session })` works). */
export function isOAuthSession(auth: unknown): auth is OAuthSessionLike {
  const candidate = auth as Partial<OAuthSessionLike & Auth> | null
  return typeof candidate?.fetchHandler === 'function' && typeof candidate.fetch !== 'function'
}

/**
 * The OAuth session can no longer authenticate: its tokens were revoked (signed out here or
 * elsewhere, or by the account's owner) or could not be refreshed. The app signs the user in again;
 * `cause` is the OAuth client's own error when it threw one.
 */
export class OAuthSessionError extends AuthenticationError {
  override name = 'OAuthSessionError'

  constructor(
    readonly did: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The OAuth session of ${did} is no longer valid (${reason}): sign in again`)
    if (options && 'cause' in options) Object.defineProperty(this, 'cause', { value: options.cause })
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, did: this.did }
  }
}

/**
 * An OAuth session as a client's auth: `new Client({ auth: session })` wraps it in one. Each
 * attempt is handed to the session's own `fetchHandler` by path, so the request goes to the
 * session's PDS with its DPoP-bound token and a fresh proof (a retry of ours is a new proof, never
 * a replayed one), whatever URL the client built. A session that can no longer authenticate
 * throws `OAuthSessionError`, which is not retried.
 */
export class OAuthSessionAuth implements Auth {
  constructor(readonly session: OAuthSessionLike) {}

  get did(): string {
    return this.session.did
  }

  /** The session's PDS (calls go there whatever URL the client builds; this names it for the request). */
  async serviceUrl(): Promise<string | undefined> {
    return (await this.#tokenInfo('auto')).aud
  }

  async fetch(request: Request, { replayable }: AuthContext): Promise<Response> {
    const url = new URL(request.url)
    // A buffered body lets the session resend it (a new DPoP nonce); a stream goes as it is, once.
    const body = request.body === null ? undefined : replayable ? await request.arrayBuffer() : request.body
    let response: Response
    try {
      response = await this.session.fetchHandler(url.pathname + url.search, {
        method: request.method,
        headers: request.headers,
        body,
        signal: request.signal,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit)
    } catch (error) {
      throw sessionErrorOf(this.did, error) ?? error
    }
    if (!isInvalidToken(response)) return response
    // The session refreshed and resent already; still refused (or not resent: a stream body) — dead
    // unless it still has a token to show.
    const alive = await this.#tokenInfo(false).then(
      () => true,
      () => false,
    )
    if (alive && !replayable) return response
    const { error, message } = await readErrorBody(response)
    throw new OAuthSessionError(this.did, [error, message].filter(Boolean).join(': ') || 'the PDS refused its token')
  }

  async #tokenInfo(refresh: boolean | 'auto'): Promise<{ aud?: string }> {
    try {
      return (await this.session.getTokenInfo?.(refresh)) ?? {}
    } catch (error) {
      throw sessionErrorOf(this.did, error) ?? error
    }
  }

  toJSON(): Record<string, unknown> {
    return { type: 'OAuthSessionAuth', did: this.did }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `OAuthSessionAuth ${JSON.stringify(this.toJSON())}`
  }
}

/**
 * The OAuth client's session errors (TokenRefreshError, TokenRevokedError, TokenInvalidError) carry
 * the account's DID as `sub`; its network errors (a PDS down) don't, and stay retryable.
 */
export function sessionErrorOf(did: string, error: unknown): OAuthSessionError | undefined {
  const sub = (error as { sub?: unknown } | null)?.sub
  if (typeof sub !== 'string') return undefined
  const reason = error instanceof Error && error.message ? error.message : 'its tokens are gone'
  return new OAuthSessionError(did, reason, { cause: error })
}

/** RFC 6750 §3 / RFC 9449: the resource server refuses the token itself (not a missing scope). */
function isInvalidToken(response: Response): boolean {
  if (response.status !== 401) return false
  const challenge = response.headers.get('www-authenticate') ?? ''
  return /^(DPoP|Bearer) /i.test(challenge) && challenge.includes('error="invalid_token"')
}
