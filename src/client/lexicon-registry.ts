import type { HttpEndpoint, LexiconKind, LexiconSet } from '../runtime/descriptors.js'
import { UsageError } from '../runtime/errors.js'
import type { LexSchema } from '../runtime/schema/core.js'
import { ObjectSchema } from '../runtime/schema/composites.js'

type Entry = readonly [kind: LexiconKind, load: () => Promise<object>]

/**
 * The lexicon sets a client knows: endpoints by NSID for `client.call('nsid')` and the namespaces,
 * record schemas by collection for checking writes. Modules are loaded on first use. Later sets win
 * over earlier ones for the same NSID. The sets are read in place (a client is cheap to make).
 */
export class LexiconRegistry {
  readonly #sets: readonly LexiconSet[]

  constructor(sets: readonly LexiconSet[]) {
    this.#sets = sets
  }

  /** The first NSID segments (`app`, `com`, …) of the endpoints: the namespaced client's roots. */
  authorities(): Set<string> {
    return new Set(this.#sets.flatMap((set) => [...authoritiesOf(set)]))
  }

  #entry(nsid: string): Entry | undefined {
    for (let i = this.#sets.length - 1; i >= 0; i--) {
      const { entries } = this.#sets[i]
      if (Object.hasOwn(entries, nsid)) return entries[nsid]
    }
    return undefined
  }

  /** The kind and loader of an HTTP endpoint, or undefined if no set defines one of that NSID. */
  endpoint(nsid: string): { kind: 'query' | 'procedure'; load: () => Promise<HttpEndpoint> } | undefined {
    const entry = this.#entry(nsid)
    if (!entry || (entry[0] !== 'query' && entry[0] !== 'procedure')) return undefined
    const load = entry[1]
    return { kind: entry[0], load: () => loadExport(nsid, load, isDescriptorOf(nsid)) as Promise<HttpEndpoint> }
  }

  /** The schema of a record collection this client knows, loaded on first use; undefined if it knows none. */
  async record(collection: string): Promise<LexSchema<unknown> | undefined> {
    const entry = this.#entry(collection)
    if (!entry || entry[0] !== 'record') return undefined
    return loadExport(collection, entry[1], isRecordSchemaOf(collection)) as Promise<LexSchema<unknown>>
  }
}

// The roots of a set, once per set (the bundled one has some 700 entries).
const roots = new WeakMap<LexiconSet, ReadonlySet<string>>()

function authoritiesOf(set: LexiconSet): ReadonlySet<string> {
  const known = roots.get(set)
  if (known) return known
  const found = new Set<string>()
  for (const [nsid, [kind]] of Object.entries(set.entries))
    if (kind !== 'record') found.add(nsid.slice(0, nsid.indexOf('.')))
  roots.set(set, found)
  return found
}

// Loaded exports by their loader (one per entry of a set, so two sets defining the same NSID stay
// apart): immutable generated values, shared by every client and loaded once.
const loaded = new WeakMap<() => Promise<object>, Promise<unknown>>()

function loadExport(nsid: string, load: () => Promise<object>, matches: (value: unknown) => boolean) {
  let value = loaded.get(load)
  if (!value) {
    value = load().then((module) => {
      const found = Object.values(module).find(matches)
      if (found === undefined) throw new UsageError(`The module of ${nsid} does not export it: regenerate the set`)
      return found
    })
    value.catch(() => loaded.delete(load)) // a failed import (offline chunk) may be retried
    loaded.set(load, value)
  }
  return value
}

const isDescriptorOf = (nsid: string) => (value: unknown) =>
  typeof value === 'object' && value !== null && (value as HttpEndpoint).nsid === nsid && 'type' in value

const isRecordSchemaOf = (collection: string) => (value: unknown) =>
  value instanceof ObjectSchema && value.typeId === collection
