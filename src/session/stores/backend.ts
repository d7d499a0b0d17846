/**
 * What every session store is built on: string values under string keys, with an optional expiry,
 * and a lock that holds across every process (and machine) sharing the backend. Memory, a file,
 * Redis and PostgreSQL each provide one; sessions (session-store.ts) and OAuth's stores (oauth.ts)
 * are written once on top, so a rule such as "re-read under the lock" lives in one place.
 */
export interface KeyValueBackend {
  get(key: string): Promise<string | undefined>
  /** `ttlMs`: forgotten after that long (sessions: past their refresh token's expiry; OAuth states: minutes). */
  set(key: string, value: string, ttlMs?: number): Promise<void>
  delete(key: string): Promise<void>
  /** Several `set`s at once, where the backend can do them as one write (a file: one rewrite, not one per key). */
  setMany?(entries: readonly (readonly [key: string, value: string])[], ttlMs?: number): Promise<void>
  /**
   * Runs `fn` while holding the lock `name`: no other holder of the same name, in any process using
   * this backend, runs at the same time. Waits up to `waitMs` for it (then `LockTimeoutError`).
   */
  lock<T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>
}

export interface LockOptions {
  /** How long to wait for the lock (default 2 min). */
  waitMs?: number
}

/**
 * The default wait for a lock: longer than a refresh may take (a call's default deadline is 110 s),
 * so that a waiter sees the holder's outcome rather than giving up and refreshing beside it.
 */
export const LOCK_WAIT_MS = 120_000

/** How long a lock outlives a holder that stopped without releasing it (a crash): then another may take it. */
export const LOCK_LEASE_MS = 30_000
