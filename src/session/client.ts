import type { CreateSessionResponse } from '../../generated/com/atproto/server/createSession.js'
import { lexicons as bundledLexicons } from '../../generated/client.js'
import type { Namespaces } from '../../generated/namespaces.js'
import { XRPCClient, type XRPCClientOptions } from '../client/xrpc-client.js'
import type { LexiconSet } from '../runtime/descriptors.js'
import { UsageError } from '../runtime/errors.js'
import type { Auth } from '../client/auth.js'
import { isOAuthSession, OAuthSessionAuth, type OAuthSessionLike } from './oauth.js'
import { type AuthenticateOptions, PasswordSession, type SessionOptions } from './password-session.js'

export interface ClientOptions extends Omit<XRPCClientOptions, 'auth'>, SessionOptions {
  /**
   * How calls are authenticated: a `PasswordSession`, `BearerAuth`, `noAuth`, any `Auth`, or an
   * OAuth session of `@atproto/oauth-client-node`/`-browser` as it is. Without one, the client
   * makes its own `PasswordSession` on `service`.
   */
  auth?: Auth | OAuthSessionLike
}

/**
 * The namespaced client for every bundled lexicon (app.bsky, chat.bsky, com.atproto, tools.ozone, …):
 * `client.app.bsky.actor.getProfile({ actor })`, plus any lexicon sets given in `lexicons` (typed
 * with `createClient`). Calls are authenticated by `auth`; without one, the client makes its own
 * `PasswordSession` on `service`, which `authenticate`, `authenticated` and `logout` drive.
 */
export interface Client extends Namespaces {}
export class Client extends XRPCClient {
  constructor(options: ClientOptions) {
    if (options.auth && hasSessionOptions(options))
      throw new UsageError(
        'Session options (sessionStore, onSessionChange, …) belong to the PasswordSession given as auth',
      )
    super({
      ...options,
      auth: isOAuthSession(options.auth) ? new OAuthSessionAuth(options.auth) : (options.auth ?? ownSession(options)),
      lexicons: [bundledLexicons, ...listOf(options.lexicons)],
    })
  }

  /**
   * Logs in with the client's `PasswordSession`, reusing a saved session where it can: a valid
   * access token is used as is (no network), an expired one is refreshed with the refresh token,
   * and only when both are dead does it log in with the credentials. `saved` is a
   * `CreateSessionResponse`, its JSON (object or string), or undefined to use the session store's;
   * `options.authFactorToken` is the emailed code of a server with two-factor login. Throws
   * `AuthenticationError` if the server refuses.
   */
  async authenticate(
    identifier: string,
    password: string,
    saved?: CreateSessionResponse | object | string,
    options?: AuthenticateOptions,
  ): Promise<CreateSessionResponse> {
    return this.#passwordSession('authenticate').authenticate(identifier, password, saved, options)
  }

  /** The current session of the client's `PasswordSession`, if logged in (serializable with `JSON.stringify`). */
  authenticated(): CreateSessionResponse | undefined {
    return this.auth instanceof PasswordSession ? this.auth.current : undefined
  }

  /** Ends the `PasswordSession` on the server (`deleteSession`) and forgets it, in the store too. */
  async logout(): Promise<void> {
    return this.#passwordSession('logout').logout()
  }

  #passwordSession(method: string): PasswordSession {
    if (this.auth instanceof PasswordSession) return this.auth
    throw new UsageError(`client.${method}() needs a PasswordSession; this client's auth is another kind`)
  }
}

/** The namespaces of one or several lexicon sets, merged (`com.atproto` beside `com.example`). */
export type NamespacesOf<L> = L extends readonly (infer S)[] ? UnionToIntersection<SetNamespaces<S>> : SetNamespaces<L>
type SetNamespaces<S> = S extends LexiconSet<infer N> ? N : never
type UnionToIntersection<U> = (U extends unknown ? (union: U) => void : never) extends (all: infer I) => void
  ? I
  : never

/**
 * A `Client` for the bundled lexicons and the app's own: `createClient({ auth, lexicons })` with
 * `lexicons` from a codegen output directory's `client.ts` (or several), typed so that
 * `client.com.example.getNote(…)` and `client.app.bsky.actor.getProfile(…)` are both there.
 */
export function createClient<const L extends LexiconSet | readonly LexiconSet[] = []>(
  options: ClientOptions & { lexicons?: L },
): Client & NamespacesOf<L> {
  return new Client(options) as Client & NamespacesOf<L>
}

/** The client's own PasswordSession: on its `service`, or (with none) on the PDS `authenticate` finds for the handle. */
function ownSession(options: ClientOptions): PasswordSession {
  const { service, fetch, timeoutMs, retry } = options
  const { sessionStore, onSessionChange, onSessionStoreError, keepCredentials, clockSkewMs } = options
  return new PasswordSession({
    service,
    fetch,
    timeoutMs,
    retry,
    sessionStore,
    onSessionChange,
    onSessionStoreError,
    keepCredentials,
    clockSkewMs,
  })
}

function hasSessionOptions(options: SessionOptions): boolean {
  const { sessionStore, onSessionChange, onSessionStoreError, keepCredentials, clockSkewMs } = options
  return [sessionStore, onSessionChange, onSessionStoreError, keepCredentials, clockSkewMs].some(
    (option) => option !== undefined,
  )
}

function isList(lexicons: LexiconSet | readonly LexiconSet[]): lexicons is readonly LexiconSet[] {
  return Array.isArray(lexicons)
}

function listOf(lexicons: ClientOptions['lexicons']): readonly LexiconSet[] {
  return lexicons === undefined ? [] : isList(lexicons) ? lexicons : [lexicons]
}
