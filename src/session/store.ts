import type { Output as SessionData } from '../../generated/com/atproto/server/createSession.js'

export type { SessionData }

/** Where a client keeps its session between runs. All methods are async so any storage fits. */
export interface SessionStore {
  get(): Promise<SessionData | undefined>
  set(session: SessionData): Promise<void>
  delete(): Promise<void>
}

/** A session kept in memory: for tests, and for sharing one session between clients of a process. */
export class MemorySessionStore implements SessionStore {
  #session: SessionData | undefined

  async get(): Promise<SessionData | undefined> {
    return this.#session && { ...this.#session }
  }

  async set(session: SessionData): Promise<void> {
    this.#session = { ...session }
  }

  async delete(): Promise<void> {
    this.#session = undefined
  }

  toJSON(): Record<string, unknown> {
    return { type: 'MemorySessionStore' }
  }
}
