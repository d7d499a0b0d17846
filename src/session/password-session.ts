import { createSession, CreateSessionResponse } from '../../generated/com/atproto/server/createSession.js'
import type { Auth, AuthContext } from '../client/auth.js'
import { NetworkError, TimeoutError } from '../client/errors.js'
import { checkServiceUrl, readErrorBody, type RetryOptions } from '../client/transport.js'
import { XRPCClient } from '../client/xrpc-client.js'
import { UsageError, XRPCError } from '../runtime/errors.js'
import { pdsEndpoint } from './did-doc.js'
import type { IdentityResolver } from './identity.js'
import { AuthenticationError, SessionStoreError, type SessionStoreOperation } from './errors.js'
import { issuedAt, tokenState } from './jwt.js'
import type { SessionData, SessionStore } from './store.js'

export type SessionEvent = 'create' | 'refresh' | 'expired' | 'delete'

export interface SessionOptions {
  /** Where the session is kept between runs; `authenticate` starts from what it holds. */
  sessionStore?: SessionStore
  /** Told of every new or ended session, after the store and before any request uses it. */
  onSessionChange?: (event: SessionEvent, session: SessionData) => void | Promise<void>
  /**
   * Told when the session store fails (a full disk, a read-only directory): the session goes on in
   * memory and the call that caused the write succeeds; the write is tried again at the next
   * change. Default: a `console.warn` of the error's message (which never holds a token).
   */
  onSessionStoreError?: (error: SessionStoreError) => void
  /** Keep the password in memory to log in again if the session dies (default true). */
  keepCredentials?: boolean
  /** Tokens are treated as expired this long before their `exp` (default 60 s). */
  clockSkewMs?: number
}

export interface PasswordSessionOptions extends SessionOptions {
  /**
   * The service to log in at (`https://bsky.social`): session calls always go here, and the password
   * only here. Left out, `authenticate` finds it from the handle or DID it is given (its verified DID
   * document's PDS, through `identity`): log in by handle anywhere.
   */
  service?: string | URL
  /** Resolves a handle or DID to its PDS when there is no `service` (default: a new `IdentityResolver`). */
  identity?: IdentityResolver
  /** For the session's own calls (createSession, refreshSession, deleteSession). */
  fetch?: typeof globalThis.fetch
  timeoutMs?: number
  retry?: RetryOptions | false
}

export interface AuthenticateOptions {
  /** The code a server with two-factor login sent by email (after refusing with `AuthFactorTokenRequired`). */
  authFactorToken?: string
}

const CREATE = 'com.atproto.server.createSession'
const REFRESH = 'com.atproto.server.refreshSession'
const DELETE = 'com.atproto.server.deleteSession'
const SESSION_CALLS = new Set([CREATE, REFRESH, DELETE])

/** Tries of a refresh whose answers time out, each with the same token (see #refreshCall). */
const LOST_REFRESH_TRIES = 3

/** Below this, a difference between the server's `Date` and our clock is the header's rounding and the trip. */
const CLOCK_RESOLUTION_MS = 2_000

/** Errors with which a server refuses a refresh token: the session is dead, not the network. */
const DEAD_SESSION = new Set(['ExpiredToken', 'InvalidToken', 'AuthenticationRequired', 'AuthMissing'])

/**
 * A login with an identifier and a password (an app password), as an auth any number of clients
 * share: `new Client({ auth: session })`.
 *
 * The workflow: a saved session is reused while its access token is valid, refreshed with its
 * refresh token when not, and replaced by a credentials login only when both are dead. Every new
 * session is stored and announced before any request uses it (refresh tokens are single-use: a lost
 * refreshed session is a dead login), and one refresh runs at a time however many requests wait.
 * A store that fails is reported, not fatal: the session is held in memory regardless.
 * Session calls go to the configured `service`; other calls to the PDS the session's DID document
 * names.
 */
export class PasswordSession implements Auth {
  readonly #options: PasswordSessionOptions
  /** The session's own calls, to the configured service. */
  #xrpc: XRPCClient | undefined
  #session: SessionData | undefined
  #credentials: { identifier: string; password: string } | undefined
  #refreshing: Promise<void> | undefined
  /** The configured service, and the PDS the current session's DID document names (read once per session). */
  #service: Destination | undefined
  #routing: { session: SessionData | undefined; pds: Destination | undefined } = { session: undefined, pds: undefined }
  /**
   * The refresh token of the session the store last held as far as this object saw (read or
   * written): a stored session with another one was written by someone else since, so it is newer.
   */
  #storeHolds: string | undefined
  /** The server's clock minus ours, in ms, from the `Date` of its last session answer: expiry is its time. */
  #clockOffset = 0
  /** An access token that looked expired on arrival: our clock cannot judge it, so only the server's refusal does. */
  #expiryUnjudged: string | undefined

  constructor(options: PasswordSessionOptions) {
    this.#options = { ...options }
    if (options.service !== undefined) this.#useService(options.service)
  }

  /** Where the session's calls go from now on (and the password, only there). */
  #useService(service: string | URL): void {
    checkServiceUrl(service)
    const { fetch, timeoutMs, retry } = this.#options
    this.#service = destination(String(service))
    this.#xrpc = new XRPCClient({ service, fetch, timeoutMs, retry })
  }

  /** The client of the session's own calls: the service's, once it is known. */
  get #sessionCalls(): XRPCClient {
    if (!this.#xrpc)
      throw new UsageError('No service: give the PasswordSession a `service`, or authenticate with a handle or DID')
    return this.#xrpc
  }

  /**
   * With no `service`, the PDS of the identifier's verified identity (a handle whose DID names it
   * back, or a DID): logging in by handle works wherever the account is hosted.
   */
  async #findService(identifier: string): Promise<void> {
    if (this.#service) return
    if (identifier.includes('@'))
      throw new UsageError('A login by email needs the service: give the PasswordSession a `service`')
    // Loaded only here: an app that gives the service (most) doesn't load identity resolution at all.
    const { IdentityResolver } = await import('./identity.js')
    this.#options.identity ??= new IdentityResolver({ fetch: this.#options.fetch })
    const { pds, did } = await this.#options.identity.resolve(identifier)
    if (!pds) throw new UsageError(`The DID document of ${did} names no PDS to log in at`)
    this.#useService(pds)
  }

  /** The current session (serializable with `JSON.stringify`, restorable with `CreateSessionResponse.fromJSON`). */
  get current(): CreateSessionResponse | undefined {
    return this.#session && new CreateSessionResponse(this.#session)
  }

  get did(): string | undefined {
    return this.#session?.did
  }

  private get margin(): number {
    return this.#options.clockSkewMs ?? 60_000
  }

  /**
   * Logs in, reusing a saved session where it can: a valid access token is used as is (no network),
   * an expired one is refreshed with the refresh token, and only when both are dead does it log in
   * with the credentials (and `authFactorToken`, for a server with two-factor login). `saved` is a
   * `CreateSessionResponse`, its JSON (object or string), or undefined to use the session store's.
   * Throws `AuthenticationError` if the server refuses.
   */
  async authenticate(
    identifier: string,
    password: string,
    saved?: unknown,
    { authFactorToken }: AuthenticateOptions = {},
  ): Promise<CreateSessionResponse> {
    await this.#findService(identifier)
    const resumed = await this.resume(identifier, saved)
    // Held only once they have worked, for logging in again if the session dies. Not the factor
    // token: it is good for one login.
    this.#credentials = this.#options.keepCredentials === false ? undefined : { identifier, password }
    return resumed ?? this.login(identifier, password, authFactorToken)
  }

  /** Ends the session on the server (`deleteSession`) and forgets it, in the store too. */
  async logout(): Promise<void> {
    const current = this.#session
    if (current) {
      try {
        const { deleteSession } = await import('../../generated/com/atproto/server/deleteSession.js')
        await this.#sessionCalls.call(deleteSession, undefined, { headers: bearer(current.refreshJwt) })
      } catch (error) {
        if (!isDeadSession(error)) throw error
      }
    }
    this.#session = undefined
    this.#credentials = undefined
    await this.#deleteStored(current?.did)
    if (current) await this.#options.onSessionChange?.('delete', current)
  }

  serviceUrl(nsid: string): string | undefined {
    return this.#destination(nsid)?.url
  }

  #destination(nsid: string): Destination | undefined {
    const session = this.#session
    if (!session || SESSION_CALLS.has(nsid)) return this.#service
    if (this.#routing.session !== session) {
      const pds = pdsEndpoint(session.didDoc, session)
      this.#routing = { session, pds: pds === undefined ? undefined : destination(pds) }
    }
    return this.#routing.pds ?? this.#service
  }

  async fetch(request: Request, { nsid, fetch, replayable }: AuthContext): Promise<Response> {
    // A client's own session calls run the workflow, so that no refreshed session is ever dropped.
    if (nsid === REFRESH && this.#session) {
      await this.refreshOnce()
      return Response.json(this.#session)
    }
    if (nsid === DELETE && this.#session) {
      await this.logout()
      return new Response(null, { status: 200 })
    }
    if (!this.#session || nsid === CREATE) return fetch(request)
    await this.fresh()
    const token = this.#session?.accessJwt
    // The token goes only where this session sends calls, never to a URL built elsewhere.
    const origin = this.#destination(nsid)?.origin
    if (!token || origin === undefined || !request.url.startsWith(origin)) return fetch(request)
    const replay = replayable ? request.clone() : undefined
    request.headers.set('authorization', `Bearer ${token}`)
    const response = await fetch(request)
    if (!(await isExpiredToken(response))) return response
    // Refreshed even for a request that cannot be sent again (a stream): an opaque token's expiry
    // shows only here, and the next request must not meet it too.
    await this.refreshOnce(token)
    if (!replay) return response
    replay.headers.set('authorization', `Bearer ${this.#session!.accessJwt}`)
    return fetch(replay)
  }

  toJSON(): Record<string, unknown> {
    const session = this.#session
    return {
      type: 'PasswordSession',
      service: this.#service?.url ?? null,
      session: session ? { did: session.did, handle: session.handle } : null,
    }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PasswordSession ${JSON.stringify(this.toJSON())}`
  }

  /** The saved session, made current (refreshed if need be), or undefined if it cannot be. */
  private async resume(identifier: string, saved: unknown): Promise<CreateSessionResponse | undefined> {
    const stored = saved === undefined
    // Read either way: a session passed in supersedes what the store holds (`#storeHolds`), so it and
    // its refreshed successor are written over it.
    const inStore = await this.#readStored(identifier)
    const candidate = stored ? inStore : parseSaved(saved)
    if (!candidate || !belongsTo(candidate, identifier)) return undefined
    if (!this.#hasExpired(candidate.accessJwt, this.margin)) {
      if (!stored) await this.#save(candidate) // the store follows the session in use
      this.#session = candidate
      return new CreateSessionResponse(candidate)
    }
    if (this.#hasExpired(candidate.refreshJwt, this.margin)) return undefined
    this.#session = candidate // its refresh token authenticates the refresh
    try {
      // Through the single-flight slot, so requests made meanwhile wait for this refresh; under the
      // store's lock, where another process's newer session is adopted instead.
      await (this.#refreshing ??= this.#locked(candidate.did, async () => {
        if (!(await this.#adoptNewerStored(candidate))) await this.refresh()
      }).finally(() => (this.#refreshing = undefined)))
      return new CreateSessionResponse(this.#session!)
    } catch (error) {
      this.#session = undefined
      if (!isDeadSession(error)) throw error // a network failure is not a reason to log in again
      return undefined
    }
  }

  /** Logs in with credentials, at the configured service: `createSession`, then publish. */
  private async login(identifier: string, password: string, authFactorToken?: string): Promise<CreateSessionResponse> {
    let response: CreateSessionResponse
    try {
      response = await this.#sessionCalls.call(createSession, {
        identifier,
        password,
        ...(authFactorToken && { authFactorToken }),
      })
    } catch (error) {
      // Refused (4xx) is an authentication failure; busy or broken (429, 5xx) is not, and may pass.
      // A server that wants a second factor refuses with AuthFactorTokenRequired (its `serverError`).
      if (error instanceof XRPCError && error.status < 500 && error.status !== 429) {
        throw new AuthenticationError(`Login as ${identifier} failed`, error)
      }
      throw error
    }
    this.#readClock(response.$headers, response.accessJwt)
    await this.adopt('create', response.$data)
    return response
  }

  /**
   * Refreshes the session, once however many callers ask at the same time. `staleAccessJwt` is the
   * token a failed request used: if the session has moved on since, there is nothing to do.
   */
  private async refreshOnce(staleAccessJwt?: string): Promise<void> {
    if (staleAccessJwt !== undefined && this.#session && this.#session.accessJwt !== staleAccessJwt) return
    this.#refreshing ??= this.renew().finally(() => (this.#refreshing = undefined))
    return this.#refreshing
  }

  /** Ensures the access token is valid before a request uses it. */
  private async fresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing
    if (this.#session && this.#hasExpired(this.#session.accessJwt, this.margin)) return this.refreshOnce()
  }

  private async renew(): Promise<void> {
    const current = this.#session
    if (!current) throw new AuthenticationError('Not logged in')
    return this.#locked(current.did, () => this.#renewUnderLock(current))
  }

  /**
   * Runs `fn` holding the store's refresh lock for `did`, if the store has one (Redis, PostgreSQL,
   * file): processes sharing the store then refresh one at a time, each re-reading the store first.
   * A lock that cannot be had (the store is down, or a holder hung past the wait) is reported as a
   * store failure and `fn` runs without it: the session must go on.
   */
  async #locked(did: string, fn: () => Promise<void>): Promise<void> {
    const store = this.#options.sessionStore
    if (!store?.lock) return fn()
    let entered = false
    try {
      await store.lock(did, () => {
        entered = true
        return fn()
      })
    } catch (error) {
      if (entered) throw error
      this.#storeFailed('lock', error)
      await fn()
    }
  }

  async #renewUnderLock(current: SessionData): Promise<void> {
    // Another process sharing the store may have refreshed already: its session supersedes ours,
    // and our refresh token is spent.
    if (await this.#adoptNewerStored(current)) return
    let failure: unknown
    try {
      if (this.#hasExpired(current.refreshJwt, 0)) throw new AuthenticationError('The refresh token has expired')
      await this.refresh()
      return
    } catch (error) {
      if (!isDeadSession(error)) throw error // keep the session: the network may come back
      failure = error
    }
    // Refused: another process may have spent our refresh token meanwhile, and stored what it got.
    if (await this.#adoptNewerStored(current)) return
    const credentials = this.#credentials
    if (credentials) {
      try {
        await this.login(credentials.identifier, credentials.password) // once: a failure ends here
        return
      } catch (error) {
        if (!isDeadSession(error)) throw error
        failure = error
      }
    }
    this.#session = undefined
    // Only the session that died leaves the store: another one is another process's (or account's).
    if ((await this.#readStored(current.did))?.refreshJwt === current.refreshJwt) await this.#deleteStored(current.did)
    await this.#options.onSessionChange?.('expired', current)
    throw failure instanceof AuthenticationError
      ? failure
      : new AuthenticationError('The session has expired', failure as XRPCError)
  }

  /**
   * `refreshSession` at the configured service, authenticated by the current session's refresh token.
   * Its module is imported here, not with the session: a login that is never refreshed (a short-lived
   * script, a page closed within the token's two hours) does not load it, nor `deleteSession`'s.
   */
  private async refresh(): Promise<void> {
    const { refreshSession } = await import('../../generated/com/atproto/server/refreshSession.js')
    const current = this.#session
    if (!current) throw new AuthenticationError('Not logged in') // logged out while the module loaded
    const response = await this.#refreshCall(refreshSession, current.refreshJwt)
    this.#readClock(response.$headers, response.accessJwt)
    await this.adopt('refresh', { ...current, ...response.$data }, current)
  }

  /**
   * A refresh whose answer never arrived (the connection dropped, or hung past its timeout) may have
   * rotated the token on the server all the same: it is sent again with the same token, which a
   * server accepts within its grace period (the reference PDS: 2 h, answering with the same new
   * token), before anything would fall back to the password. Network errors are retried by the
   * transport (the call is marked idempotent); timeouts here.
   */
  async #refreshCall(
    refreshSession: typeof import('../../generated/com/atproto/server/refreshSession.js').refreshSession,
    refreshJwt: string,
  ) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#sessionCalls.call(refreshSession, undefined, {
          headers: bearer(refreshJwt),
          idempotent: true,
        })
      } catch (error) {
        if (!(error instanceof TimeoutError) || attempt === LOST_REFRESH_TRIES) throw error
      }
    }
  }

  /**
   * Publishes a new session (store, then listener), then makes it the one requests use. A refreshed
   * session is not stored over a newer one another process has stored meanwhile (it is kept here).
   */
  private async adopt(event: 'create' | 'refresh', session: SessionData, refreshed?: SessionData): Promise<void> {
    try {
      if (!refreshed || !(await this.#storeHasNewer(refreshed))) await this.#save(session)
      await this.#options.onSessionChange?.(event, session)
    } finally {
      // Even if publishing failed, the new session is kept: the old refresh token is spent.
      this.#session = session
    }
  }

  /** Whether the store holds a session written by someone else since we last saw it (not the one we refreshed). */
  async #storeHasNewer(refreshed: SessionData): Promise<boolean> {
    const previouslySeen = this.#storeHolds
    const stored = await this.#readStored(refreshed.did)
    return stored !== undefined && stored.refreshJwt !== refreshed.refreshJwt && stored.refreshJwt !== previouslySeen
  }

  /** Makes a newer session of the same account from the store the current one, if its access token is good. */
  async #adoptNewerStored(current: SessionData): Promise<boolean> {
    const previouslySeen = this.#storeHolds
    const stored = await this.#readStored(current.did)
    if (!stored || stored.did !== current.did || stored.refreshJwt === current.refreshJwt) return false
    if (stored.refreshJwt === previouslySeen || this.#hasExpired(stored.accessJwt, this.margin)) return false
    this.#session = stored
    return true
  }

  /** Whether the token has expired by the server's clock, as near as we know it (a token without `exp` has not). */
  #hasExpired(token: string, marginMs: number): boolean {
    if (token === this.#expiryUnjudged) return false
    return tokenState(token, marginMs, Date.now() + this.#clockOffset) === 'expired'
  }

  /**
   * The server's clock, from the `Date` of its answer (else the new token's `iat`), so that a client
   * clock hours off neither refreshes on every request nor trusts a dead token. A token that still
   * looks expired is judged by the server alone: at most one refresh per real expiry.
   */
  #readClock(headers: Headers, accessJwt: string): void {
    const date = Date.parse(headers.get('date') ?? '')
    const serverNow = Number.isNaN(date) ? issuedAt(accessJwt) : date
    if (serverNow !== undefined) {
      const offset = serverNow - Date.now()
      // Both are whole seconds, and the answer took a while: closer than that is no measured skew.
      this.#clockOffset = Math.abs(offset) > CLOCK_RESOLUTION_MS ? offset : 0
    }
    this.#expiryUnjudged = undefined
    if (this.#hasExpired(accessJwt, this.margin)) this.#expiryUnjudged = accessJwt
  }

  /** The stored session of `account` (default: the current session's DID). */
  async #readStored(account = this.#session?.did): Promise<SessionData | undefined> {
    const store = this.#options.sessionStore
    if (!store) return undefined
    try {
      const stored = parseSaved(await store.get(account))
      this.#storeHolds = stored?.refreshJwt
      return stored
    } catch (error) {
      this.#storeFailed('get', error)
      return undefined
    }
  }

  async #save(session: SessionData): Promise<void> {
    const store = this.#options.sessionStore
    if (!store) return
    try {
      await store.set(session)
      this.#storeHolds = session.refreshJwt
    } catch (error) {
      this.#storeFailed('set', error)
    }
  }

  async #deleteStored(did: string | undefined): Promise<void> {
    const store = this.#options.sessionStore
    if (!store) return
    try {
      await store.delete(did)
      this.#storeHolds = undefined
    } catch (error) {
      this.#storeFailed('delete', error)
    }
  }

  #storeFailed(operation: SessionStoreOperation, cause: unknown): void {
    const error = new SessionStoreError(operation, cause)
    const report = this.#options.onSessionStoreError ?? ((error) => console.warn(error.message))
    try {
      report(error)
    } catch {
      // A listener's own failure must not undo the session it was told about.
    }
  }
}

/** Where calls go, with its origin (`https://host:port/`, ending in `/` so that a prefix test is exact). */
interface Destination {
  url: string
  origin: string
}

function destination(url: string): Destination {
  return { url, origin: `${new URL(url).origin}/` }
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** Whether an error answer says the access token has expired (read, bounded, from a copy: the body stays unread). */
async function isExpiredToken(response: Response): Promise<boolean> {
  if (response.status !== 400 && response.status !== 401) return false
  return (await readErrorBody(response.clone())).error === 'ExpiredToken'
}

/** A saved session: a `CreateSessionResponse`, its JSON (object or string), or nothing usable. */
function parseSaved(saved: unknown): SessionData | undefined {
  if (saved === undefined || saved === null) return undefined
  try {
    const session = saved instanceof CreateSessionResponse ? saved : CreateSessionResponse.fromJSON(saved)
    return { ...session.$data }
  } catch {
    return undefined // not a session: ignored, and replaced by a login
  }
}

function belongsTo(session: SessionData, identifier: string): boolean {
  const id = identifier.toLowerCase()
  return id === session.did || id === session.handle.toLowerCase() || id === session.email?.toLowerCase()
}

function isDeadSession(error: unknown): boolean {
  if (error instanceof AuthenticationError) return true
  if (error instanceof NetworkError || error instanceof TimeoutError) return false
  return error instanceof XRPCError && (DEAD_SESSION.has(error.error) || error.status === 401)
}
