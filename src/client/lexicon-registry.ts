import type {
  HttpEndpoint,
  LexiconKind,
  LexiconNamespace,
  LexiconSet,
  SubscriptionEndpoint,
  ErrorClasses,
} from '../runtime/descriptors.js'
import { UsageError } from '../runtime/errors.js'
import type { LexSchema } from '../runtime/schema/core.js'
import { ObjectSchema } from '../runtime/schema/composites.js'

type Entry = readonly [kind: LexiconKind, load: () => Promise<object>]

/**
 * The lexicon sets a client knows: endpoints by NSID for `client.call('nsid')` and the namespaces,
 * record schemas by collection for checking writes. A set names only its namespaces; each
 * namespace's entries, and each entry's module, are loaded on first use. Later sets win over
 * earlier ones for the same NSID. The sets are read in place (a client is cheap to make).
 */
export class LexiconRegistry {
  readonly #sets: readonly LexiconSet[]

  constructor(sets: readonly LexiconSet[]) {
    this.#sets = sets
  }

  /** The first NSID segments (`app`, `com`, …) of the namespaces: the namespaced client's roots. */
  authorities(): Set<string> {
    return new Set(this.#sets.flatMap((set) => [...authoritiesOf(set)]))
  }

  /**
   * A loader of the HTTP endpoint `nsid`, or undefined if no set has its namespace. Whether the
   * namespace has such an endpoint is known once its entries are loaded: if not, the loader rejects
   * with the same UsageError.
   */
  endpoint(nsid: string): (() => Promise<HttpEndpoint>) | undefined {
    if (!this.#knows(nsid)) return undefined
    return async () => {
      const entry = await this.#entry(nsid)
      if (!entry || (entry[0] !== 'query' && entry[0] !== 'procedure')) throw unknownMethod(nsid)
      return loadExport(nsid, entry[1], isDescriptorOf(nsid)) as Promise<HttpEndpoint>
    }
  }

  /**
   * A loader of the subscription `nsid`, or undefined if no set lists it: a set names its
   * subscriptions up front, since a call must know at once whether it opens a stream.
   */
  subscription(
    nsid: string,
  ): (() => Promise<SubscriptionEndpoint<string, unknown, unknown, ErrorClasses>>) | undefined {
    if (!this.#sets.some((set) => set.subscriptions?.includes(nsid))) return undefined
    return async () => {
      const entry = await this.#entry(nsid)
      if (!entry || entry[0] !== 'subscription') throw unknownMethod(nsid)
      return loadExport(nsid, entry[1], isDescriptorOf(nsid)) as Promise<
        SubscriptionEndpoint<string, unknown, unknown, ErrorClasses>
      >
    }
  }

  /** The schema of a record collection this client knows, loaded on first use; undefined if it knows none. */
  async record(collection: string): Promise<LexSchema<unknown> | undefined> {
    const entry = this.#knows(collection) ? await this.#entry(collection) : undefined
    if (!entry || entry[0] !== 'record') return undefined
    return loadExport(collection, entry[1], isRecordSchemaOf(collection)) as Promise<LexSchema<unknown>>
  }

  /** What `nsid` is in these sets (`record`, `query`, `procedure`, `subscription`, …), loaded as needed; undefined if none defines it. */
  async kindOf(nsid: string): Promise<LexiconKind | undefined> {
    return this.#knows(nsid) ? (await this.#entry(nsid))?.[0] : undefined
  }

  #knows(nsid: string): boolean {
    const namespace = namespaceOf(nsid)
    return this.#sets.some((set) => Object.hasOwn(set.namespaces, namespace))
  }

  /** The entry of `nsid` in the last set whose namespace has one, its entries loaded as needed. */
  async #entry(nsid: string): Promise<Entry | undefined> {
    const namespace = namespaceOf(nsid)
    const name = nsid.slice(namespace.length + 1)
    for (let i = this.#sets.length - 1; i >= 0; i--) {
      const { namespaces } = this.#sets[i]
      if (!Object.hasOwn(namespaces, namespace)) continue
      const { entries } = await loadOnce(namespaces[namespace], (module) => module as LexiconNamespace)
      if (Object.hasOwn(entries, name)) return entries[name]
    }
    return undefined
  }
}

/** `app.bsky.actor.getProfile` → `app.bsky.actor`: what a set's namespace map is keyed by. */
const namespaceOf = (nsid: string): string => nsid.slice(0, Math.max(nsid.lastIndexOf('.'), 0))

export function unknownMethod(nsid: string): UsageError {
  return new UsageError(
    `Unknown XRPC method ${JSON.stringify(nsid)}: no query, procedure or subscription of that NSID in this client's lexicons`,
  )
}

// The roots of a set, once per set.
const roots = new WeakMap<LexiconSet, ReadonlySet<string>>()

function authoritiesOf(set: LexiconSet): ReadonlySet<string> {
  let found = roots.get(set)
  if (!found) {
    found = new Set(Object.keys(set.namespaces).map((namespace) => namespace.slice(0, namespace.indexOf('.'))))
    roots.set(set, found)
  }
  return found
}

// Loaded namespace modules, and exports found in endpoint and record modules, by their loader (one
// per namespace and entry of a set, so two sets defining the same NSID stay apart): immutable
// generated values, shared by every client and loaded once. A failed import (an offline chunk) is
// forgotten, to be retried.
const loaded = new WeakMap<() => Promise<object>, Promise<unknown>>()

function loadOnce<T>(load: () => Promise<object>, pick: (module: object) => T): Promise<T> {
  let value = loaded.get(load) as Promise<T> | undefined
  if (!value) {
    value = load().then(pick)
    value.catch(() => loaded.delete(load))
    loaded.set(load, value)
  }
  return value
}

function loadExport(nsid: string, load: () => Promise<object>, matches: (value: unknown) => boolean) {
  return loadOnce(load, (module) => {
    const found = Object.values(module).find(matches)
    if (found === undefined) throw new UsageError(`The module of ${nsid} does not export it: regenerate the set`)
    return found
  })
}

const isDescriptorOf = (nsid: string) => (value: unknown) =>
  typeof value === 'object' && value !== null && (value as HttpEndpoint).nsid === nsid && 'type' in value

const isRecordSchemaOf = (collection: string) => (value: unknown) =>
  value instanceof ObjectSchema && value.typeId === collection
