import type { KeyValueBackend, LockOptions } from './backend.js'
import { LOCK_WAIT_MS } from './backend.js'
import { LockTimeoutError } from './errors.js'

/**
 * Values in this process's memory, the lock a queue per name: for tests, and for clients of one
 * process sharing sessions. Expired values are dropped when read.
 */
export class MemoryBackend implements KeyValueBackend {
  readonly #values = new Map<string, { value: string; expiresAt: number }>()
  readonly #locks = new Map<string, Promise<unknown>>()

  async get(key: string): Promise<string | undefined> {
    const entry = this.#values.get(key)
    if (entry && entry.expiresAt <= Date.now()) this.#values.delete(key)
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#values.set(key, { value, expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlMs })
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key)
  }

  async lock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve()
    let gaveUp = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const turn = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        gaveUp = true
        reject(new LockTimeoutError(name))
      }, options.waitMs ?? LOCK_WAIT_MS)
      previous.then(() => resolve())
    })
    // The next in line waits for this holder's work, or for its giving up.
    const run = turn.then(() => {
      clearTimeout(timer)
      return gaveUp ? (undefined as T) : fn()
    })
    const settled = Promise.allSettled([previous, run]).then(() => {})
    this.#locks.set(name, settled)
    try {
      return await run
    } finally {
      clearTimeout(timer)
      if (this.#locks.get(name) === settled) this.#locks.delete(name)
    }
  }
}
