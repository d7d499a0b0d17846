import type { KeyValueBackend, LockOptions } from './backend.js'
import { LOCK_LEASE_MS, LOCK_WAIT_MS } from './backend.js'
import { LockTimeoutError } from './errors.js'
import { pause, randomToken } from './util.js'
import { KeyedSessionStore, type KeyedStoreOptions } from './session-store.js'

/**
 * The commands the Redis backend uses, as node-redis (`redis` v4–v6, `createClient()`) names them:
 * any client of that shape works, and the SDK itself depends on no Redis package.
 */
export interface RedisClientLike {
  get(key: string): Promise<string | null | {}>
  set(key: string, value: string, options?: { PX?: number; NX?: boolean }): Promise<string | null | {}>
  del(key: string | string[]): Promise<number | {}>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

// Release and renew only a lock still held by this token: a holder whose lease ran out must not
// delete or extend the next holder's lock.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"

export interface RedisBackendOptions {
  /** Prefix of every key (default `blueskysdk:`), so that one Redis serves several apps. */
  prefix?: string
  /** A lock's lease, renewed while its holder works (default 30 s): how long a crashed holder blocks others. */
  lockLeaseMs?: number
}

/**
 * Keys with TTLs (`SET … PX`), and the lock as `SET lock:<name> <token> NX PX <lease>`, renewed while
 * held and released by a script that checks the token.
 */
export class RedisBackend implements KeyValueBackend {
  readonly #client: RedisClientLike
  readonly #prefix: string
  readonly #leaseMs: number

  constructor(client: RedisClientLike, options: RedisBackendOptions = {}) {
    this.#client = client
    this.#prefix = options.prefix ?? 'blueskysdk:'
    this.#leaseMs = options.lockLeaseMs ?? LOCK_LEASE_MS
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#client.get(this.#prefix + key)
    return typeof value === 'string' ? value : undefined
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.#client.set(
      this.#prefix + key,
      value,
      ttlMs === undefined ? undefined : { PX: Math.max(1, Math.ceil(ttlMs)) },
    )
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(this.#prefix + key)
  }

  async lock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const key = `${this.#prefix}lock:${name}`
    const token = randomToken()
    const lease = String(this.#leaseMs)
    const until = Date.now() + (options.waitMs ?? LOCK_WAIT_MS)
    for (let wait = 10; (await this.#client.set(key, token, { PX: this.#leaseMs, NX: true })) !== 'OK';) {
      if (Date.now() >= until) throw new LockTimeoutError(name)
      await pause(wait)
      wait = Math.min(wait * 2, 250)
    }
    const renewal = setInterval(() => {
      this.#client.eval(RENEW, { keys: [key], arguments: [token, lease] }).catch(() => {})
    }, this.#leaseMs / 3)
    try {
      return await fn()
    } finally {
      clearInterval(renewal)
      await this.#client.eval(RELEASE, { keys: [key], arguments: [token] }).catch(() => {})
    }
  }
}

export interface RedisSessionStoreOptions extends RedisBackendOptions, KeyedStoreOptions {
  /** A connected node-redis client (`await createClient({ url }).connect()`), or any of the same shape. */
  client: RedisClientLike
}

/**
 * Sessions in Redis, for many processes on many machines: keyed by DID with a TTL past the refresh
 * token's expiry, the refresh lock as `SET NX PX` released by token, tokens optionally sealed
 * (`encryptionKey`). `oauthStores()` gives the same Redis to `@atproto/oauth-client-node`.
 */
export class RedisSessionStore extends KeyedSessionStore {
  readonly #prefix: string

  constructor(options: RedisSessionStoreOptions) {
    super(new RedisBackend(options.client, options), options)
    this.#prefix = options.prefix ?? 'blueskysdk:'
  }

  toJSON(): Record<string, unknown> {
    return { type: 'RedisSessionStore', prefix: this.#prefix }
  }
}
