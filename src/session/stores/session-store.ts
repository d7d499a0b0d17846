import { expiresAt } from '../jwt.js'
import type { SessionData, SessionStore } from '../store.js'
import type { KeyValueBackend, LockOptions } from './backend.js'
import { type EncryptionKey, Sealer } from './encryption.js'
import { oauthStores, type OAuthStoreOptions, type OAuthStores } from './oauth.js'

export interface KeyedStoreOptions {
  /** Seal sessions at rest with AES-256-GCM under this key (32 bytes, or their base64). */
  encryptionKey?: EncryptionKey
}

/** A stored session outlives its refresh token by this much, then the backend forgets it. */
const KEEP_PAST_EXPIRY_MS = 24 * 60 * 60 * 1000

/**
 * Sessions keyed by DID on any backend, so that one store holds many accounts, found by DID, handle
 * or email (`get('alice.bsky.social')`: a login by handle finds the session stored under her DID),
 * with a lock per DID around refreshes (see PasswordSession) and OAuth's stores beside them.
 *
 * Keys: `session:<did>` (the session, sealed when a key is given), `account:<handle or email>` →
 * DID, `current` → the DID last stored (what `get()` with no account answers, as a one-account
 * store did). Each expires a day after the session's refresh token.
 */
export class KeyedSessionStore implements SessionStore {
  readonly #backend: KeyValueBackend
  readonly #sealer: Sealer | undefined

  constructor(backend: KeyValueBackend, options: KeyedStoreOptions = {}) {
    this.#backend = backend
    this.#sealer = options.encryptionKey === undefined ? undefined : new Sealer(options.encryptionKey)
  }

  /** The session of `account` (a DID, handle or email), or the last one stored when none is named. */
  async get(account?: string): Promise<SessionData | undefined> {
    const did = await this.#didOf(account)
    if (did === undefined) return undefined
    const stored = await this.#backend.get(`session:${did}`)
    if (stored === undefined) return undefined
    const text = this.#sealer ? await this.#sealer.open(stored) : stored
    if (text === undefined) return undefined // sealed with another key, or tampered with: as if absent
    try {
      const session = JSON.parse(text) as SessionData
      return session?.did === did ? session : undefined
    } catch {
      return undefined
    }
  }

  async set(session: SessionData): Promise<void> {
    const text = JSON.stringify(session)
    const entries: [string, string][] = [
      [`session:${session.did}`, this.#sealer ? await this.#sealer.seal(text) : text],
    ]
    for (const alias of [session.handle, session.email])
      if (alias) entries.push([`account:${alias.toLowerCase()}`, session.did])
    entries.push(['current', session.did])
    const ttl = ttlOf(session)
    if (this.#backend.setMany) await this.#backend.setMany(entries, ttl)
    else for (const [key, value] of entries) await this.#backend.set(key, value, ttl)
  }

  /** Forgets the session of `account` (or the last one stored), and the handle and email that led to it. */
  async delete(account?: string): Promise<void> {
    const did = await this.#didOf(account)
    if (did === undefined) return
    const session = await this.get(did)
    await this.#backend.delete(`session:${did}`)
    for (const alias of [session?.handle, session?.email, account]) {
      const key = alias && !alias.startsWith('did:') ? `account:${alias.toLowerCase()}` : undefined
      if (key && (await this.#backend.get(key)) === did) await this.#backend.delete(key)
    }
    if ((await this.#backend.get('current')) === did) await this.#backend.delete('current')
  }

  /** Runs `fn` holding the refresh lock of `did`, across every process sharing the backend. */
  lock<T>(did: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
    return this.#backend.lock(`refresh:${did}`, fn, options)
  }

  /** The same backend in the shapes `@atproto/oauth-client-node` takes: `sessionStore`, `stateStore`, `requestLock`. */
  oauthStores(options?: OAuthStoreOptions): OAuthStores {
    return oauthStores(this.#backend, { ...options, sealer: this.#sealer })
  }

  async #didOf(account: string | undefined): Promise<string | undefined> {
    if (account === undefined) return this.#backend.get('current')
    if (account.startsWith('did:')) return account
    return this.#backend.get(`account:${account.toLowerCase()}`)
  }
}

function ttlOf(session: SessionData): number | undefined {
  const expiry = expiresAt(session.refreshJwt)
  return expiry === undefined ? undefined : Math.max(1, expiry + KEEP_PAST_EXPIRY_MS - Date.now())
}
