import type { CursorStore } from '../../runtime/subscription.js'
import type { KeyValueBackend } from './backend.js'
import { FileBackend } from './file.js'
import { RedisBackend, type RedisBackendOptions, type RedisClientLike } from './redis.js'

/** A subscription's cursor under one key of a session store's backend (a file, Redis), so that a restart resumes after it. */
export class KeyValueCursorStore implements CursorStore {
  readonly #backend: KeyValueBackend
  readonly #key: string

  constructor(backend: KeyValueBackend, key: string) {
    this.#backend = backend
    this.#key = `cursor:${key}`
  }

  async get(): Promise<number | undefined> {
    const value = await this.#backend.get(this.#key)
    if (value === undefined) return undefined
    const cursor = Number(value)
    return Number.isSafeInteger(cursor) && cursor >= 0 ? cursor : undefined
  }

  async set(cursor: number): Promise<void> {
    await this.#backend.set(this.#key, String(cursor))
  }
}

export interface CursorStoreOptions {
  /** Which cursor (default `default`): one per stream and service, e.g. `firehose:bsky.network`. */
  key?: string
}

/** The cursor in a JSON file (0600), written by rename: for one machine's consumers. Node only. */
export class FileCursorStore extends KeyValueCursorStore {
  constructor(path: string, options: CursorStoreOptions = {}) {
    super(new FileBackend(path), options.key ?? 'default')
  }
}

export interface RedisCursorStoreOptions extends CursorStoreOptions, Pick<RedisBackendOptions, 'prefix'> {
  /** A connected node-redis client, or any of the same shape (the one the session store uses serves). */
  client: RedisClientLike
}

/** The cursor in Redis (`<prefix>cursor:<key>`): consumers on any machine resume after each other. */
export class RedisCursorStore extends KeyValueCursorStore {
  constructor(options: RedisCursorStoreOptions) {
    super(new RedisBackend(options.client, options), options.key ?? 'default')
  }
}
