import { createSession, CreateSessionResponse } from '../../generated/com/atproto/server/createSession.js'
import { deleteSession } from '../../generated/com/atproto/server/deleteSession.js'
import { refreshSession } from '../../generated/com/atproto/server/refreshSession.js'
import type { HttpEndpoint } from '../client/endpoint.js'
import { AuthenticationError, NetworkError, TimeoutError, XRPCError } from '../client/errors.js'
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

/** How the session layer calls the server: through the client, by descriptor. */
export type CallEndpoint = (endpoint: HttpEndpoint, input: unknown) => Promise<CreateSessionResponse | unknown>

/** Errors with which a server refuses a refresh token: the session is dead, not the network. */
const DEAD_SESSION = new Set(['ExpiredToken', 'InvalidToken', 'AuthenticationRequired', 'AuthMissing'])

/**
 * The session workflow: a saved session is reused while its access token is valid, refreshed with
 * its refresh token when not, and replaced by a credentials login only when both are dead. Every new
 * session is stored and announced before any request uses it (refresh tokens are single-use: a lost
 * refreshed session is a dead login), and only one refresh runs at a time however many requests wait.
 */
export class SessionManager {
  #session: SessionData | undefined
  #credentials: { identifier: string; password: string } | undefined
  #refreshing: Promise<void> | undefined

  constructor(
    private readonly options: SessionOptions,
    private readonly call: CallEndpoint,
  ) {}

  get session(): SessionData | undefined {
    return this.#session
  }

  get accessJwt(): string | undefined {
    return this.#session?.accessJwt
  }

  get refreshJwt(): string | undefined {
    return this.#session?.refreshJwt
  }

  private get margin(): number {
    return this.options.clockSkewMs ?? 60_000
  }

  async authenticate(identifier: string, password: string, saved?: unknown): Promise<CreateSessionResponse> {
    const response = await this.resume(identifier, saved)
    // Held only once they have worked, for logging in again if the session dies.
    this.#credentials = this.options.keepCredentials === false ? undefined : { identifier, password }
    return response ?? this.login(identifier, password)
  }

  /** The saved session, made current (refreshed if need be), or undefined if it cannot be. */
  private async resume(identifier: string, saved: unknown): Promise<CreateSessionResponse | undefined> {
    const stored = saved === undefined
    const candidate = parseSaved(stored ? await this.options.sessionStore?.get() : saved)
    if (!candidate || !belongsTo(candidate, identifier)) return undefined
    if (isJwtValid(candidate.accessJwt, this.margin)) {
      if (!stored) await this.options.sessionStore?.set(candidate) // the store follows the session in use
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

  /** Logs in with credentials: `createSession`, then publish. */
  private async login(identifier: string, password: string): Promise<CreateSessionResponse> {
    let response: CreateSessionResponse
    try {
      response = (await this.call(createSession, { identifier, password })) as CreateSessionResponse
    } catch (error) {
      // Refused (4xx) is an authentication failure; busy or broken (429, 5xx) is not, and may pass.
      if (error instanceof XRPCError && error.status < 500 && error.status !== 429) {
        throw new AuthenticationError(`Login as ${identifier} failed`, error)
      }
      throw error
    }
    await this.adopt('create', response.data)
    return response
  }

  /**
   * Refreshes the session, once however many callers ask at the same time. `staleAccessJwt` is the
   * token a failed request used: if the session has moved on since, there is nothing to do.
   */
  async refreshOnce(staleAccessJwt?: string): Promise<void> {
    if (staleAccessJwt !== undefined && this.#session && this.#session.accessJwt !== staleAccessJwt) return
    this.#refreshing ??= this.renew().finally(() => (this.#refreshing = undefined))
    return this.#refreshing
  }

  /** Ensures the access token is valid before a request uses it. */
  async fresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing
    if (this.#session && !isJwtValid(this.#session.accessJwt, this.margin)) return this.refreshOnce()
  }

  private async renew(): Promise<void> {
    const current = this.#session
    if (!current) throw new AuthenticationError('Not logged in')
    // Another process sharing the store may have refreshed already: its session supersedes ours,
    // and our refresh token is spent.
    const stored = parseSaved(await this.options.sessionStore?.get())
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
    await this.options.sessionStore?.delete()
    await this.options.onSessionChange?.('expired', current)
    throw failure instanceof AuthenticationError
      ? failure
      : new AuthenticationError('The session has expired', failure as XRPCError)
  }

  /** `refreshSession`, authenticated by the current session's refresh token (see `Client.authHeaders`). */
  private async refresh(): Promise<void> {
    const response = (await this.call(refreshSession, undefined)) as { data: Partial<SessionData> }
    await this.adopt('refresh', { ...this.#session!, ...response.data } as SessionData)
  }

  /** Publishes a new session (store, then listener), then makes it the one requests use. */
  private async adopt(event: 'create' | 'refresh', session: SessionData): Promise<void> {
    try {
      await this.options.sessionStore?.set(session)
      await this.options.onSessionChange?.(event, session)
    } finally {
      // Even if publishing failed, the new session is kept: the old refresh token is spent.
      this.#session = session
    }
  }

  async logout(): Promise<void> {
    const current = this.#session
    if (current) {
      try {
        await this.call(deleteSession, undefined)
      } catch (error) {
        if (!isDeadSession(error)) throw error
      }
    }
    this.#session = undefined
    this.#credentials = undefined
    await this.options.sessionStore?.delete()
    if (current) await this.options.onSessionChange?.('delete', current)
  }
}

/** A saved session: a `CreateSessionResponse`, its JSON (object or string), or nothing usable. */
function parseSaved(saved: unknown): SessionData | undefined {
  if (saved === undefined || saved === null) return undefined
  try {
    const session = saved instanceof CreateSessionResponse ? saved : CreateSessionResponse.fromJSON(saved)
    return { ...session.data }
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
