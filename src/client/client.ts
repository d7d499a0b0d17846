import { endpoints } from '../../generated/endpoints.js'
import type { Namespaces } from '../../generated/namespaces.js'
import type { EndpointLoaders, HttpEndpoint } from './endpoint.js'
import type { Call, CallOptions } from './types.js'
import { XrpcClient, type XrpcClientOptions } from './xrpc-client.js'

export interface ClientOptions extends XrpcClientOptions {}

/**
 * The namespaced client: `client.app.bsky.actor.getProfile({ actor })` for every query and
 * procedure of every lexicon. The tree is a small Proxy over NSID paths, not a pile of objects,
 * and each endpoint's module is imported on its first call.
 */
export interface Client extends Namespaces {}
export class Client extends XrpcClient {
  private readonly namespaces = new Map<string, unknown>()

  constructor(options: ClientOptions) {
    super(options)
    defineAuthorities(endpoints)
  }

  /**
   * Calls an endpoint by descriptor (as `XrpcClient`) or by NSID (`'app.bsky.actor.getProfile'`).
   * An NSID no lexicon here defines is refused at once.
   */
  override call<E extends HttpEndpoint>(endpoint: E, ...args: Parameters<Call<E>>): ReturnType<Call<E>>
  override call(nsid: string, ...args: unknown[]): unknown
  override call(endpoint: HttpEndpoint | string, ...args: unknown[]): unknown {
    if (typeof endpoint !== 'string') return super.call(endpoint, ...(args as []))
    const entry = endpoints[endpoint]
    if (!entry)
      throw new TypeError(
        `Unknown XRPC method ${JSON.stringify(endpoint)}: no query or procedure of that NSID in this client's lexicons`,
      )
    const [kind, load] = entry
    return this.request(endpoint, kind, load, args[0], args[1] as CallOptions | undefined)
  }

  /** The namespace (or method) at `path`, created once per client. */
  namespace(path: string): unknown {
    let node = this.namespaces.get(path)
    if (!node) {
      node = namespaceProxy(this, path)
      this.namespaces.set(path, node)
    }
    return node
  }
}

function namespaceProxy(client: Client, path: string): unknown {
  // A function target, so a path is both navigable (`.actor`) and callable (`getProfile(…)`).
  return new Proxy(function namespace() {}, {
    get(_target, property) {
      if (typeof property !== 'string' || property === 'then') return undefined
      return client.namespace(`${path}.${property}`)
    },
    apply(_target, _this, args: unknown[]) {
      return client.call(path, ...args)
    },
  })
}

let definedAuthorities: EndpointLoaders | undefined

/** `client.app`, `client.com`, …: one getter per first NSID segment, on the prototype, once. */
function defineAuthorities(loaders: EndpointLoaders): void {
  if (definedAuthorities === loaders) return
  definedAuthorities = loaders
  for (const authority of new Set(Object.keys(loaders).map((nsid) => nsid.slice(0, nsid.indexOf('.'))))) {
    Object.defineProperty(Client.prototype, authority, {
      configurable: true,
      get(this: Client) {
        return this.namespace(authority)
      },
    })
  }
}
