import type { Auth, AuthContext } from '../client/auth.js'

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
  /** The token's audience (the PDS URL), when the session can tell. */
  getTokenInfo?(refresh?: boolean): Promise<{ aud: string }>
}

/**
 * An OAuth session as a client's auth: `new Client({ auth: new OAuthSessionAuth(session) })`. Each
 * attempt is handed to the session's own `fetchHandler` by path, so the request goes to the
 * session's PDS with its DPoP-bound token, whatever URL the client built.
 */
export class OAuthSessionAuth implements Auth {
  constructor(readonly session: OAuthSessionLike) {}

  get did(): string {
    return this.session.did
  }

  /** The session's PDS (calls go there whatever URL the client builds; this names it for the request). */
  async serviceUrl(): Promise<string | undefined> {
    return (await this.session.getTokenInfo?.(false))?.aud
  }

  async fetch(request: Request, { replayable }: AuthContext): Promise<Response> {
    const url = new URL(request.url)
    // A buffered body lets the session resend it (a new DPoP nonce); a stream goes as it is, once.
    const body = request.body === null ? undefined : replayable ? await request.arrayBuffer() : request.body
    return this.session.fetchHandler(url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body,
      signal: request.signal,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit)
  }

  toJSON(): Record<string, unknown> {
    return { type: 'OAuthSessionAuth', did: this.did }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `OAuthSessionAuth ${JSON.stringify(this.toJSON())}`
  }
}
