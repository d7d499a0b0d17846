import type { KeyValueBackend } from './backend.js'
import type { Sealer } from './encryption.js'

/**
 * A backend in the shapes `@atproto/oauth-client-node` (and -browser) take for its `sessionStore`,
 * `stateStore` and `requestLock`: values as JSON under their own key spaces, sealed when the store
 * has an encryption key (an OAuth session holds its DPoP private key), states kept briefly.
 */

export interface SimpleStore<V> {
  get(key: string): Promise<V | undefined>
  set(key: string, value: V): Promise<void>
  del(key: string): Promise<void>
}

export interface OAuthStores {
  sessionStore: SimpleStore<any>
  stateStore: SimpleStore<any>
  requestLock: <T>(name: string, fn: () => T | PromiseLike<T>) => Promise<T>
}

export interface OAuthStoreOptions {
  /** How long an authorization request's state is kept (default 10 min: a person signing in). */
  stateTtlMs?: number
}

export function oauthStores(
  backend: KeyValueBackend,
  options: OAuthStoreOptions & { sealer?: Sealer | undefined },
): OAuthStores {
  const store = <V>(space: string, ttlMs?: number): SimpleStore<V> => ({
    async get(key) {
      const stored = await backend.get(`${space}:${key}`)
      if (stored === undefined) return undefined
      const text = options.sealer ? await options.sealer.open(stored) : stored
      return text === undefined ? undefined : (JSON.parse(text) as V)
    },
    async set(key, value) {
      const text = JSON.stringify(value)
      await backend.set(`${space}:${key}`, options.sealer ? await options.sealer.seal(text) : text, ttlMs)
    },
    async del(key) {
      await backend.delete(`${space}:${key}`)
    },
  })
  return {
    sessionStore: store('oauth-session'),
    stateStore: store('oauth-state', options.stateTtlMs ?? 10 * 60_000),
    requestLock: (name, fn) => backend.lock(`oauth:${name}`, async () => fn()),
  }
}
