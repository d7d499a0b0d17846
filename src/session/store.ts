import type { Output as SessionData } from '../../generated/com/atproto/server/createSession.js'
import { MemoryBackend } from './stores/memory.js'
import { KeyedSessionStore, type KeyedStoreOptions } from './stores/session-store.js'

export type { SessionData }

/**
 * Where sessions are kept between runs. All methods are async so any storage fits. A store may hold
 * many accounts (the SDK's stores key them by DID); one that holds a single session may ignore
 * `account`, as stores written for the previous release do.
 */
export interface SessionStore {
  /** The session of `account` (a DID, or the handle or email a login names), or the one last stored when none is named. */
  get(account?: string): Promise<SessionData | undefined>
  set(session: SessionData): Promise<void>
  /** Forgets the session of `account` (a DID), or the one last stored. */
  delete(account?: string): Promise<void>
  /**
   * Runs `fn` holding the refresh lock of `did`, excluding every other holder in every process that
   * shares the store. A session refreshes inside it, after re-reading the store: what another
   * process refreshed meanwhile is adopted, and no refresh token is spent twice. Optional: a store
   * without it is for one process.
   */
  lock?<T>(did: string, fn: () => Promise<T>): Promise<T>
}

/** Sessions in this process's memory: for tests, and for clients of one process sharing them. */
export class MemorySessionStore extends KeyedSessionStore {
  constructor(options?: KeyedStoreOptions) {
    super(new MemoryBackend(), options)
  }

  toJSON(): Record<string, unknown> {
    return { type: 'MemorySessionStore' }
  }
}
