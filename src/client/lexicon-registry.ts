import type { HttpEndpoint, LexiconKind, LexiconSet } from '../runtime/descriptors.js'
import { UsageError } from '../runtime/errors.js'
import type { LexSchema } from '../runtime/schema/core.js'
import { ObjectSchema } from '../runtime/schema/composites.js'

type Entry = readonly [kind: LexiconKind, load: () => Promise<object>]

/**
 * The lexicon sets a client knows, merged: endpoints by NSID for `client.call('nsid')` and the
 * namespaces, record schemas by collection for checking writes. Modules are loaded on first use.
 * Later sets win over earlier ones for the same NSID.
 */
export class LexiconRegistry {
  readonly #entries = new Map<string, Entry>()

  constructor(sets: readonly LexiconSet[]) {
    for (const set of sets) for (const [nsid, entry] of Object.entries(set.entries)) this.#entries.set(nsid, entry)
  }

  /** The first NSID segments (`app`, `com`, …) of the endpoints: the namespaced client's roots. */
  authorities(): Set<string> {
    const roots = new Set<string>()
    for (const [nsid, [kind]] of this.#entries) if (kind !== 'record') roots.add(nsid.slice(0, nsid.indexOf('.')))
    return roots
  }

  /** The kind and loader of an HTTP endpoint, or undefined if no set defines one of that NSID. */
  endpoint(nsid: string): { kind: 'query' | 'procedure'; load: () => Promise<HttpEndpoint> } | undefined {
    const entry = this.#entries.get(nsid)
    if (!entry || (entry[0] !== 'query' && entry[0] !== 'procedure')) return undefined
    const load = entry[1]
    return { kind: entry[0], load: () => loadExport(nsid, load, isDescriptorOf(nsid)) as Promise<HttpEndpoint> }
  }

  /** The schema of a record collection this client knows, loaded on first use; undefined if it knows none. */
  async record(collection: string): Promise<LexSchema<unknown> | undefined> {
    const entry = this.#entries.get(collection)
    if (!entry || entry[0] !== 'record') return undefined
    return loadExport(collection, entry[1], isRecordSchemaOf(collection)) as Promise<LexSchema<unknown>>
  }
}

// Loaded exports by NSID: immutable generated values, so shared by every client and loaded once.
const loaded = new Map<string, Promise<unknown>>()

function loadExport(nsid: string, load: () => Promise<object>, matches: (value: unknown) => boolean) {
  let value = loaded.get(nsid)
  if (!value) {
    value = load().then((module) => {
      const found = Object.values(module).find(matches)
      if (found === undefined) throw new UsageError(`The module of ${nsid} does not export it: regenerate the set`)
      return found
    })
    value.catch(() => loaded.delete(nsid)) // a failed import (offline chunk) may be retried
    loaded.set(nsid, value)
  }
  return value
}

const isDescriptorOf = (nsid: string) => (value: unknown) =>
  typeof value === 'object' && value !== null && (value as HttpEndpoint).nsid === nsid && 'type' in value

const isRecordSchemaOf = (collection: string) => (value: unknown) =>
  value instanceof ObjectSchema && value.typeId === collection
