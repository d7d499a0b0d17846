import { createSession, CreateSessionResponse } from '../../generated/com/atproto/server/createSession.js'
import type { Auth, AuthContext } from '../client/auth.js'
import { NetworkError, TimeoutError } from '../client/errors.js'
import { readErrorBody, type RetryOptions } from '../client/transport.js'
import { XRPCClient } from '../client/xrpc-client.js'
import { XRPCError } from '../runtime/errors.js'
import { pdsEndpoint } from './did-doc.js'
import { AuthenticationError } from './errors.js'
import { isJwtValid } from './jwt.js'
import type { SessionData, SessionStore } from './store.js'

export type SessionEvent = 'create' | 'refresh' | 'expired' | 'delete'

export interface SessionOptions {
  /** Where the session is kept between runs; `authenticate` starts from what it holds. */
  sessionStore?: SessionStore
  /** Told of every new or ended session, after the store and before any request uses it. */
  onSessionChange?: (event: SessionEvent, session: SessionData) => void | Promise<void>
  /** Keep the password in memory to log in again if the session dies (default true). */
  keepCredentials?: boolean
  /** Tokens are treated as expired this long before their `exp` (default 60 s). */
  clockSkewMs?: number
}

export interface PasswordSessionOptions extends SessionOptions {
  /** The service to log in at (`https://bsky.social`): session calls always go here, and the password only here. */
  service: string | URL
  /** For the session's own calls (createSession, refreshSession, deleteSession). */
  fetch?: typeof globalThis.fetch
  timeoutMs?: number
  retry?: RetryOptions | false
}

const CREATE = 'com.atproto.server.createSession'
const REFRESH = 'com.atproto.server.refreshSession'
const DELETE = 'com.atproto.server.deleteSession'
const SESSION_CALLS = new Set([CREATE, REFRESH, DELETE])

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
 * Session calls go to the configured `service`; other calls to the PDS the session's DID document
 * names.
 */
export class PasswordSession implements Auth {
  readonly #options: PasswordSessionOptions
  /** The session's own calls, to the configured service. */
  readonly #xrpc: XRPCClient
  #session: SessionData | undefined
  #credentials: { identifier: string; password: string } | undefined
  #refreshing: Promise<void> | undefined
  /** The configured service, and the PDS the current session's DID document names (read once per session). */
  readonly #service: Destination
  #routing: { session: SessionData | undefined; pds: Destination | undefined } = { session: undefined, pds: undefined }

  constructor(options: PasswordSessionOptions) {
    this.#options = { ...options }
    const { service, fetch, timeoutMs, retry } = options
    this.#service = destination(String(service))
    this.#xrpc = new XRPCClient({ service, fetch, timeoutMs, retry })
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
   * with the credentials. `saved` is a `CreateSessionResponse`, its JSON (object or string), or
   * undefined to use the session store's. Throws `AuthenticationError` if the server refuses.
   */
  async authenticate(identifier: string, password: string, saved?: unknown): Promise<CreateSessionResponse> {
    const resumed = await this.resume(identifier, saved)
    // Held only once they have worked, for logging in again if the session dies.
    this.#credentials = this.#options.keepCredentials === false ? undefined : { identifier, password }
    return resumed ?? this.login(identifier, password)
  }

  /** Ends the session on the server (`deleteSession`) and forgets it, in the store too. */
  async logout(): Promise<void> {
    const current = this.#session
    if (current) {
      try {
        const { deleteSession } = await import('../../generated/com/atproto/server/deleteSession.js')
        await this.#xrpc.call(deleteSession, undefined, { headers: bearer(current.refreshJwt) })
      } catch (error) {
        if (!isDeadSession(error)) throw error
      }
    }
    this.#session = undefined
    this.#credentials = undefined
    await this.#options.sessionStore?.delete()
    if (current) await this.#options.onSessionChange?.('delete', current)
  }

  serviceUrl(nsid: string): string {
    return this.#destination(nsid).url
  }

  #destination(nsid: string): Destination {
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
    if (!token || !request.url.startsWith(this.#destination(nsid).origin)) return fetch(request)
    const replay = replayable ? request.clone() : undefined
    request.headers.set('authorization', `Bearer ${token}`)
    const response = await fetch(request)
    if (!replay || !(await isExpiredToken(response))) return response
    await this.refreshOnce(token)
    replay.headers.set('authorization', `Bearer ${this.#session!.accessJwt}`)
    return fetch(replay)
  }

  toJSON(): Record<string, unknown> {
    const session = this.#session
    return {
      type: 'PasswordSession',
      service: this.#service.url,
      session: session ? { did: session.did, handle: session.handle } : null,
    }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PasswordSession ${JSON.stringify(this.toJSON())}`
  }

  /** The saved session, made current (refreshed if need be), or undefined if it cannot be. */
  private async resume(identifier: string, saved: unknown): Promise<CreateSessionResponse | undefined> {
    const stored = saved === undefined
    const candidate = parseSaved(stored ? await this.#options.sessionStore?.get() : saved)
    if (!candidate || !belongsTo(candidate, identifier)) return undefined
    if (isJwtValid(candidate.accessJwt, this.margin)) {
      if (!stored) await this.#options.sessionStore?.set(candidate) // the store follows the session in use
      this.#session = candidate
      return new CreateSessionResponse(candidate)
    }
    if (!isJwtValid(candidate.refreshJwt, this.margin)) return undefined
    this.#session = candidate // its refresh token authenticates the refresh
    try {
      // Through the single-flight slot, so requests made meanwhile wait for this refresh.
      await (this.#refreshing ??= this.refresh().finally(() => (this.#refreshing = undefined)))
      return new CreateSessionResponse(this.#session!)
    } catch (error) {
      this.#session = undefined
      if (!isDeadSession(error)) throw error // a network failure is not a reason to log in again
      return undefined
    }
  }

  /** Logs in with credentials, at the configured service: `createSession`, then publish. */
  private async login(identifier: string, password: string): Promise<CreateSessionResponse> {
    let response: CreateSessionResponse
    try {
      response = await this.#xrpc.call(createSession, { identifier, password })
    } catch (error) {
      // Refused (4xx) is an authentication failure; busy or broken (429, 5xx) is not, and may pass.
      if (error instanceof XRPCError && error.status < 500 && error.status !== 429) {
        throw new AuthenticationError(`Login as ${identifier} failed`, error)
      }
      throw error
    }
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
    if (this.#session && !isJwtValid(this.#session.accessJwt, this.margin)) return this.refreshOnce()
  }

  private async renew(): Promise<void> {
    const current = this.#session
    if (!current) throw new AuthenticationError('Not logged in')
    // Another process sharing the store may have refreshed already: its session supersedes ours,
    // and our refresh token is spent.
    const stored = parseSaved(await this.#options.sessionStore?.get())
    if (
      stored &&
      stored.did === current.did &&
      stored.refreshJwt !== current.refreshJwt &&
      isJwtValid(stored.accessJwt, this.margin)
    ) {
      this.#session = stored
      return
    }
    let failure: unknown
    try {
      if (!isJwtValid(current.refreshJwt, 0)) throw new AuthenticationError('The refresh token has expired')
      await this.refresh()
      return
    } catch (error) {
      if (!isDeadSession(error)) throw error // keep the session: the network may come back
      failure = error
    }
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
    await this.#options.sessionStore?.delete()
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
    const response = await this.#xrpc.call(refreshSession, undefined, { headers: bearer(current.refreshJwt) })
    await this.adopt('refresh', { ...current, ...response.$data })
  }

  /** Publishes a new session (store, then listener), then makes it the one requests use. */
  private async adopt(event: 'create' | 'refresh', session: SessionData): Promise<void> {
    try {
      await this.#options.sessionStore?.set(session)
      await this.#options.onSessionChange?.(event, session)
    } finally {
      // Even if publishing failed, the new session is kept: the old refresh token is spent.
      this.#session = session
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
