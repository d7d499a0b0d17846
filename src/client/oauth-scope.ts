import type { KnownRecords } from '../runtime/calls.js'
import type { LexiconSet } from '../runtime/descriptors.js'
import { UsageError } from '../runtime/errors.js'
import { isDid, isNsid } from '../runtime/schema/formats.js'
import { LexiconRegistry } from './lexicon-registry.js'

/**
 * OAuth scope strings, built rather than typed by hand: `atproto` first, then permissions in the
 * atproto permission syntax (`repo:<collection>?action=…`, `rpc:<nsid>?aud=…`, `blob:<mime>`,
 * `account:<attr>`, `identity:<attr>`, `include:<permission set>`, `transition:*`). Collections are
 * typed by the record types the program knows (each generated set adds its own), and `check()`
 * refuses, against lexicon sets, a `repo:` scope for what is not a record type and an `rpc:` scope
 * for what is not a query or procedure. Every value is checked for its syntax as it is added.
 */

export type RepoAction = 'create' | 'update' | 'delete'
/** A record collection the program's lexicons define, or `*` (every collection). */
export type RecordCollection = (keyof KnownRecords & string) | '*'

export class OAuthScope {
  readonly #scopes: string[] = ['atproto']
  /** What `check` looks up: collections of `repo:` scopes, methods of `rpc:` scopes. */
  readonly #collections = new Set<string>()
  readonly #methods = new Set<string>()

  /** `repo:<collection>`: writes to these collections (default: every action). */
  repo(
    collections: RecordCollection | readonly RecordCollection[],
    options: { action?: RepoAction | readonly RepoAction[] } = {},
  ): this {
    const list = listOf(collections)
    for (const collection of list) {
      if (collection !== '*' && !isNsid(collection))
        throw refused(`repo: ${JSON.stringify(collection)} is not an NSID or *`)
      if (collection !== '*') this.#collections.add(collection)
    }
    const actions = options.action === undefined ? [] : listOf(options.action)
    for (const action of actions)
      if (!['create', 'update', 'delete'].includes(action))
        throw refused(`repo: action ${JSON.stringify(action)} is not create, update or delete`)
    const query = actions.length && actions.length < 3 ? actions.map((action) => `action=${action}`) : []
    return this.#add(format('repo', 'collection', list, query))
  }

  /** `rpc:<nsid>?aud=<did#service>`: calls of these methods proxied to `aud` (`*` for any service, but not with `*` methods). */
  rpc(methods: string | readonly string[], options: { aud: string }): this {
    const list = listOf(methods)
    for (const method of list) {
      if (method !== '*' && !isNsid(method)) throw refused(`rpc: ${JSON.stringify(method)} is not an NSID or *`)
      if (method !== '*') this.#methods.add(method)
    }
    const { aud } = options
    if (aud !== '*' && !isServiceRef(aud))
      throw refused(`rpc: aud ${JSON.stringify(aud)} is not a DID with a service (#id) or *`)
    if (aud === '*' && list.includes('*'))
      throw refused('rpc: every method of every service (rpc:*?aud=*) is not a scope')
    return this.#add(format('rpc', 'lxm', list, [`aud=${encodeURIComponent(aud)}`]))
  }

  /** `blob:<mime>`: uploads of these types (`image/*`, `video/mp4`, `*\/*`). */
  blob(...accept: string[]): this {
    if (!accept.length) throw refused('blob: name at least one MIME type')
    for (const type of accept)
      if (!/^(\*\/\*|[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+))$/i.test(type))
        throw refused(`blob: ${JSON.stringify(type)} is not a MIME type`)
    return this.#add(format('blob', 'accept', accept, []))
  }

  /** `account:<attr>`: the account's email, repo or status; `read` by default, or `manage`. */
  account(attribute: 'email' | 'repo' | 'status', options: { action?: 'read' | 'manage' } = {}): this {
    if (!['email', 'repo', 'status'].includes(attribute))
      throw refused(`account: ${JSON.stringify(attribute)} is not email, repo or status`)
    const action = options.action ?? 'read'
    if (action !== 'read' && action !== 'manage')
      throw refused(`account: action ${JSON.stringify(action)} is not read or manage`)
    return this.#add(`account:${attribute}${action === 'manage' ? '?action=manage' : ''}`)
  }

  /** `identity:<attr>`: the account's handle, or its whole identity (`*`). */
  identity(attribute: 'handle' | '*'): this {
    if (attribute !== 'handle' && attribute !== '*')
      throw refused(`identity: ${JSON.stringify(attribute)} is not handle or *`)
    return this.#add(`identity:${attribute}`)
  }

  /** `include:<nsid>`: a permission set a lexicon publishes, optionally for one service (`aud`). */
  include(permissionSet: string, options: { aud?: string } = {}): this {
    if (!isNsid(permissionSet)) throw refused(`include: ${JSON.stringify(permissionSet)} is not an NSID`)
    if (options.aud !== undefined && !isServiceRef(options.aud))
      throw refused(`include: aud ${JSON.stringify(options.aud)} is not a DID with a service (#id)`)
    return this.#add(
      `include:${permissionSet}${options.aud === undefined ? '' : `?aud=${encodeURIComponent(options.aud)}`}`,
    )
  }

  /** `transition:generic` (what an app password may do), `transition:chat.bsky`, `transition:email`. */
  transition(kind: 'generic' | 'chat.bsky' | 'email'): this {
    if (!['generic', 'chat.bsky', 'email'].includes(kind))
      throw refused(`transition: ${JSON.stringify(kind)} is not generic, chat.bsky or email`)
    return this.#add(`transition:${kind}`)
  }

  /**
   * Checks the scope against lexicon sets (the generated `lexicons` of each output directory's
   * client.ts): every `repo:` collection must be a record type, every `rpc:` method a query or
   * procedure, of one of them. Throws `UsageError` naming each that is not.
   */
  async check(lexicons: LexiconSet | readonly LexiconSet[]): Promise<this> {
    const registry = new LexiconRegistry(Array.isArray(lexicons) ? lexicons : [lexicons as LexiconSet])
    const problems: string[] = []
    for (const collection of this.#collections) {
      const kind = await registry.kindOf(collection)
      if (kind !== 'record')
        problems.push(
          `repo:${collection} is ${kind ? `a ${kind}, not a record type` : 'no record type of these lexicons'}`,
        )
    }
    for (const method of this.#methods) {
      const kind = await registry.kindOf(method)
      if (kind !== 'query' && kind !== 'procedure')
        problems.push(
          `rpc:${method} is ${kind ? `a ${kind}, not a query or procedure` : 'no method of these lexicons'}`,
        )
    }
    if (problems.length) throw refused(problems.join('; '))
    return this
  }

  /** The scope string, for `scope` in an OAuth client's metadata and `authorize` options. */
  toString(): string {
    return this.#scopes.join(' ')
  }

  toJSON(): string {
    return this.toString()
  }

  #add(scope: string): this {
    if (!this.#scopes.includes(scope)) this.#scopes.push(scope)
    return this
  }
}

/** A builder of OAuth scopes, starting from `atproto`: `oauthScope().repo('app.bsky.feed.post').toString()`. */
export function oauthScope(): OAuthScope {
  return new OAuthScope()
}

/** `prefix:<one>?query` for one value, `prefix?key=a&key=b&query` for several (the permission syntax's two forms). */
function format(prefix: string, key: string, values: readonly string[], query: readonly string[]): string {
  if (!values.length) throw refused(`${prefix}: name at least one`)
  const unique = [...new Set(values)]
  const params =
    unique.length === 1 ? query : [...unique.map((value) => `${key}=${encodeURIComponent(value)}`), ...query]
  const head = unique.length === 1 ? `${prefix}:${unique[0]}` : prefix
  return params.length ? `${head}?${params.join('&')}` : head
}

/** `did:web:api.bsky.app#bsky_appview`: a DID and the id of one of its services. */
function isServiceRef(value: string): boolean {
  const hash = value.indexOf('#')
  return hash > 0 && isDid(value.slice(0, hash)) && /^[A-Za-z0-9_-]+$/.test(value.slice(hash + 1))
}

function listOf<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? value : [value as T]
}

function refused(message: string): UsageError {
  return new UsageError(`OAuth scope: ${message}`)
}
