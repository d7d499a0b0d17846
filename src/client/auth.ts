/**
 * How a client authenticates its calls: an object it is given (`new Client({ auth })`), which one or
 * many clients share.
 *
 * The shape is a fetch handler, as in atcute and @atproto/lex: the client builds each attempt (URL,
 * params, body, validation, timeout, retries) and the auth sends it. It is the one shape every kind
 * of auth fits. A bearer token adds a header; a password session also refreshes an expired token
 * first and, answered `ExpiredToken`, refreshes once and sends again; an OAuth session signs every
 * attempt with a DPoP proof over its method and URL and resends on a new nonce — which a
 * `{ headers() }` hook could not express, since the proof depends on the request and the nonce on
 * the response.
 */
export interface Auth {
  /**
   * The base URL a call of `nsid` goes to when the auth decides it (a session's PDS, its configured
   * service for session calls), or undefined for the client's own `service`.
   */
  serviceUrl?(nsid: string): string | undefined | Promise<string | undefined>
  /** The account calls act as, when known (the session's DID). */
  readonly did?: string | undefined
  /** What `JSON.stringify` of a client shows of its auth: never a secret. */
  toJSON?(): unknown
  /** Sends one attempt of a call with this auth's credentials, through `context.fetch`. */
  fetch(request: Request, context: AuthContext): Promise<Response>
}

export interface AuthContext {
  /** The NSID of the call. */
  nsid: string
  /** The client's fetch (its `fetch` option, or the global one): what the auth sends with. */
  fetch: typeof globalThis.fetch
  /** Whether the request may be sent a second time: false for a one-shot stream body. */
  replayable: boolean
}

/** No credentials: calls go out as they are (a public AppView, a server's open endpoints). */
export const noAuth: Auth = {
  fetch: (request, { fetch }) => fetch(request),
}

/**
 * A static bearer token: a service-auth token from `com.atproto.server.getServiceAuth`, an access
 * token managed elsewhere, or a function that returns the current one. It is sent only to the
 * client's `service`, and never shown by `toJSON` or `util.inspect`.
 */
export class BearerAuth implements Auth {
  readonly #token: () => string | Promise<string>

  constructor(token: string | (() => string | Promise<string>)) {
    this.#token = typeof token === 'function' ? token : () => token
  }

  async fetch(request: Request, { fetch }: AuthContext): Promise<Response> {
    request.headers.set('authorization', `Bearer ${await this.#token()}`)
    return fetch(request)
  }

  toJSON(): Record<string, unknown> {
    return { type: 'BearerAuth' }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'BearerAuth {}'
  }
}
