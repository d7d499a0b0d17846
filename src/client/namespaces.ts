/**
 * The namespaced API at run time: `client.app.bsky.actor.getProfile(…)`. Each root (`app`, `com`, …)
 * is a getter on the client, and below it a small Proxy per NSID path, created once per client: a
 * path is both navigable (`.actor`) and callable (`getProfile(…)`, which is `client.call(nsid, …)`).
 * The types come from each lexicon set's generated `namespaces.ts`.
 */

interface CallsByNsid {
  call(nsid: string, ...args: unknown[]): unknown
}

/** Defines a getter per root on `client`; a root that would hide one of the client's own members is skipped. */
export function attachNamespaces(client: CallsByNsid, authorities: Iterable<string>): void {
  const nodes = new Map<string, unknown>()
  const node = (path: string): unknown => {
    let proxy = nodes.get(path)
    if (!proxy) {
      proxy = namespaceProxy(path, node, client)
      nodes.set(path, proxy)
    }
    return proxy
  }
  for (const authority of authorities) {
    if (authority in client) continue // reachable as client.call('<nsid>')
    Object.defineProperty(client, authority, { configurable: true, enumerable: false, get: () => node(authority) })
  }
}

function namespaceProxy(path: string, node: (path: string) => unknown, client: CallsByNsid): unknown {
  // A function target, so that the proxy can be called.
  return new Proxy(function namespace() {}, {
    get(_target, property) {
      if (typeof property !== 'string' || property === 'then') return undefined
      return node(`${path}.${property}`)
    },
    apply(_target, _this, args: unknown[]) {
      return client.call(path, ...args)
    },
  })
}
