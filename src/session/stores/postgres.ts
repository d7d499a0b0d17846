import { AsyncLocalStorage } from 'node:async_hooks'
import type { KeyValueBackend, LockOptions } from './backend.js'
import { LOCK_WAIT_MS } from './backend.js'
import { UsageError } from '../../runtime/errors.js'
import { LockTimeoutError } from './errors.js'
import { MemoryBackend } from './memory.js'
import { KeyedSessionStore, type KeyedStoreOptions } from './session-store.js'

/** What the PostgreSQL backend uses of a `pg` Pool (`new pg.Pool(…)`): the SDK itself depends on no driver. */
export interface PostgresPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  connect(): Promise<PostgresConnectionLike>
}

export interface PostgresConnectionLike {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  release(error?: Error | boolean): void
  on?(event: 'error', listener: (error: Error) => void): unknown
  off?(event: 'error', listener: (error: Error) => void): unknown
}

export interface PostgresBackendOptions {
  /** The table (default `blueskysdk_store`), created if missing; may be schema-qualified (`app.sessions`). */
  table?: string
}

/**
 * One table of keys and values with an expiry:
 *
 *     create table if not exists blueskysdk_store (
 *       key text primary key,
 *       value text not null,
 *       expires_at timestamptz      -- null: kept until deleted
 *     )
 *
 * and the lock as a transaction-scoped advisory lock (`pg_advisory_xact_lock`) on a connection held
 * for the lock's duration: PostgreSQL releases it when the transaction ends, or when a crashed
 * holder's connection drops, so no lease is needed. What the holder reads and writes meanwhile goes
 * through that same connection (else holders waiting on their own connections could take the whole
 * pool and leave the holder none), and holders in one process queue here first, so that a process
 * keeps one connection per lock, not one per waiter.
 */
export class PostgresBackend implements KeyValueBackend {
  readonly #pool: PostgresPoolLike
  readonly #table: string
  #ready: Promise<void> | undefined
  /** The connection of the lock the current async context holds, if any. */
  readonly #held = new AsyncLocalStorage<PostgresConnectionLike>()
  readonly #local = new MemoryBackend()

  constructor(pool: PostgresPoolLike, options: PostgresBackendOptions = {}) {
    this.#pool = pool
    this.#table = quoteTable(options.table ?? 'blueskysdk_store')
  }

  async get(key: string): Promise<string | undefined> {
    await this.#create()
    const { rows } = await this.#query(
      `select value from ${this.#table} where key = $1 and (expires_at is null or expires_at > now())`,
      [key],
    )
    return rows.length ? String(rows[0].value) : undefined
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.#create()
    await this.#query(
      `insert into ${this.#table} (key, value, expires_at)
       values ($1, $2, case when $3::bigint is null then null else now() + $3::bigint * interval '1 millisecond' end)
       on conflict (key) do update set value = excluded.value, expires_at = excluded.expires_at`,
      [key, value, ttlMs === undefined ? null : Math.ceil(ttlMs)],
    )
    // Expired rows are dropped as others are written (a few at a time, so a write costs little however many wait).
    await this.#query(
      `delete from ${this.#table} where key in (select key from ${this.#table} where expires_at < now() limit 100)`,
    )
  }

  async delete(key: string): Promise<void> {
    await this.#create()
    await this.#query(`delete from ${this.#table} where key = $1`, [key])
  }

  lock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const until = Date.now() + (options.waitMs ?? LOCK_WAIT_MS)
    return this.#local.lock(name, () => this.#advisoryLock(name, fn, until), options)
  }

  async #advisoryLock<T>(name: string, fn: () => Promise<T>, until: number): Promise<T> {
    await this.#create()
    const connection = await this.#pool.connect()
    // A holder's connection may be cut (its server restarts): the query fails; the event must not crash the app.
    const ignore = () => {}
    connection.on?.('error', ignore)
    let broken: Error | undefined
    try {
      await connection.query('begin')
      const waitMs = Math.max(1, until - Date.now())
      await connection.query(`select set_config('lock_timeout', $1, true)`, [`${waitMs}ms`])
      try {
        await connection.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`blueskysdk:${name}`])
      } catch (error) {
        // 55P03, lock_not_available: the lock_timeout passed.
        if ((error as { code?: string }).code === '55P03') throw new LockTimeoutError(name)
        throw error
      }
      return await this.#held.run(connection, fn)
    } finally {
      // Ending the transaction releases the lock; committed, so that what the holder wrote stays
      // written even if it then failed (a refreshed session stored before its listener threw).
      await connection.query('commit').catch((error: Error) => (broken = error))
      connection.off?.('error', ignore)
      connection.release(broken)
    }
  }

  #query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    return (this.#held.getStore() ?? this.#pool).query(text, values)
  }

  #create(): Promise<void> {
    this.#ready ??= this.#pool
      .query(
        `create table if not exists ${this.#table} (key text primary key, value text not null, expires_at timestamptz);
         create index if not exists ${indexName(this.#table)} on ${this.#table} (expires_at) where expires_at is not null`,
      )
      .then(() => undefined)
    this.#ready.catch(() => (this.#ready = undefined)) // tried again on the next call
    return this.#ready
  }
}

/** `name` or `schema.name`, each part an identifier of letters, digits and `_`, quoted. */
function quoteTable(table: string): string {
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((part) => /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(part)))
    throw new UsageError(`Not a table name: ${JSON.stringify(table)} (letters, digits and _; optionally schema.name)`)
  return parts.map((part) => `"${part}"`).join('.')
}

function indexName(quotedTable: string): string {
  return `"${quotedTable.replace(/"/g, '').replace('.', '_')}_expires"`
}

export interface PostgresSessionStoreOptions extends PostgresBackendOptions, KeyedStoreOptions {
  /** A `pg` Pool (`new pg.Pool({ connectionString })`), or any of the same shape. */
  pool: PostgresPoolLike
}

/**
 * Sessions in PostgreSQL, for many processes on many machines: rows of the store's table (created if
 * missing; see PostgresBackend for its schema) keyed by DID, the refresh lock a transaction-scoped
 * advisory lock, tokens optionally sealed (`encryptionKey`). `oauthStores()` gives the same table
 * to `@atproto/oauth-client-node`.
 */
export class PostgresSessionStore extends KeyedSessionStore {
  readonly #table: string

  constructor(options: PostgresSessionStoreOptions) {
    super(new PostgresBackend(options.pool, options), options)
    this.#table = options.table ?? 'blueskysdk_store'
  }

  toJSON(): Record<string, unknown> {
    return { type: 'PostgresSessionStore', table: this.#table }
  }
}
