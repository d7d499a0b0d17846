/**
 * The namespaced API at run time: `client.app.bsky.actor.getProfile(…)`. Each root (`app`, `com`, …)
 * is a getter on the client, and below it a small Proxy per NSID path: a path is both navigable
 * (`.actor`) and callable (`getProfile(…)`, which is `client.call(nsid, …)`). The types come from
 * each lexicon set's generated `namespaces.ts`.
 *
 * Proxies are made on each read, not cached: any name can be read (`client.app[anything]`), so a
 * cache would grow with every name ever read, and making one measured cheaper than a cached lookup
 * (0.16 µs against 0.3 µs for `client.app.bsky.actor.getProfile`). So `client.app !== client.app`.
 */

interface CallsByNsid {
  call(nsid: string, ...args: unknown[]): unknown
}

/** Defines a getter per root on `client`; a root that would hide one of the client's own members is skipped. */
export function attachNamespaces(client: CallsByNsid, authorities: Iterable<string>): void {
  for (const authority of authorities) {
    if (authority in client) continue // reachable as client.call('<nsid>')
    Object.defineProperty(client, authority, {
      configurable: true,
      enumerable: false,
      get: () => namespaceProxy(authority, client),
    })
  }
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * The names a namespace answers itself rather than as a path: `then` (undefined, so that a
 * namespace is not taken for a promise), `toJSON` (its path, for `JSON.stringify`), and for
 * `String()`, template strings and `util.inspect` its label. An NSID segment named `toJSON` is
 * reachable as `client.call('<nsid>')`.
 */
function namespaceProxy(path: string, client: CallsByNsid): unknown {
  const label = () => `[namespace ${path}]`
  // A function target, so that the proxy can be called. `util.inspect` looks through a proxy to
  // its target (no trap runs), so the target carries the label too.
  // (An assignment: defineProperty made each read 3x slower.)
  const target = function namespace() {}
  ;(target as unknown as Record<symbol, unknown>)[INSPECT] = label
  return new Proxy(target, {
    get(_target, property) {
      if (property === 'toJSON') return () => path
      if (property === Symbol.toPrimitive || property === INSPECT) return label
      if (typeof property !== 'string' || property === 'then') return undefined
      return namespaceProxy(`${path}.${property}`, client)
    },
    apply(_target, _this, args: unknown[]) {
      return client.call(path, ...args)
    },
  })
}
