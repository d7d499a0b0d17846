import { CreateSessionResponse } from '../../generated/com/atproto/server/createSession.js'
import { endpoints } from '../../generated/endpoints.js'
import type { Namespaces } from '../../generated/namespaces.js'
import { pdsEndpoint } from '../session/did-doc.js'
import { SessionManager, type SessionOptions } from '../session/session.js'
import type { EndpointLoaders, HttpEndpoint } from './endpoint.js'
import type { XRPCError } from './errors.js'
import type { Call, CallOptions } from './types.js'
import { XrpcClient, type XrpcClientOptions } from './xrpc-client.js'

export interface ClientOptions extends XrpcClientOptions, SessionOptions {}

/** Calls authenticated by the refresh token rather than the access token. */
const REFRESH_TOKEN_CALLS = new Set(['com.atproto.server.refreshSession', 'com.atproto.server.deleteSession'])
const UNAUTHENTICATED_CALLS = new Set(['com.atproto.server.createSession'])

/**
 * The namespaced client: `client.app.bsky.actor.getProfile({ actor })` for every query and
 * procedure of every lexicon. The tree is a small Proxy over NSID paths, not a pile of objects,
 * and each endpoint's module is imported on its first call.
 */
export interface Client extends Namespaces {}
export class Client extends XrpcClient {
  readonly #namespaces = new Map<string, unknown>()
  readonly #sessions: SessionManager
  /** The PDS the current session's DID document names, read once per session, not per request. */
  #routing: { session: object | undefined; pds: string | undefined } = { session: undefined, pds: undefined }

  constructor(options: ClientOptions) {
    super(options)
    this.#sessions = new SessionManager(
      options,
      (endpoint, input) => this.call(endpoint as never, input as never) as never,
    )
    defineAuthorities(endpoints)
  }

  /**
   * Logs in, reusing a saved session where it can: a valid access token is used as is (no network),
   * an expired one is refreshed with the refresh token, and only when both are dead does it log in
   * with the credentials. `saved` is a `CreateSessionResponse`, its JSON (object or string), or
   * undefined to use the session store's. Throws `AuthenticationError` if the server refuses.
   */
  authenticate(
    identifier: string,
    password: string,
    saved?: CreateSessionResponse | object | string,
  ): Promise<CreateSessionResponse> {
    return this.#sessions.authenticate(identifier, password, saved)
  }

  /** The current session (serializable with `JSON.stringify`, restorable with `CreateSessionResponse.fromJSON`). */
  authenticated(): CreateSessionResponse | undefined {
    const session = this.#sessions.session
    return session && new CreateSessionResponse(session)
  }

  /** Ends the session on the server (`deleteSession`) and forgets it, in the store too. */
  logout(): Promise<void> {
    return this.#sessions.logout()
  }

  protected override serviceUrl(): string {
    const session = this.#sessions.session
    if (this.#routing.session !== session) this.#routing = { session, pds: pdsEndpoint(session?.didDoc) }
    return this.#routing.pds ?? super.serviceUrl()
  }

  protected override async authHeaders(endpoint: HttpEndpoint): Promise<Record<string, string>> {
    if (UNAUTHENTICATED_CALLS.has(endpoint.nsid) || !this.#sessions.session) return {}
    if (REFRESH_TOKEN_CALLS.has(endpoint.nsid)) return { authorization: `Bearer ${this.#sessions.refreshJwt}` }
    await this.#sessions.fresh()
    const token = this.#sessions.accessJwt
    return token ? { authorization: `Bearer ${token}` } : {}
  }

  protected override async shouldRetryAfter(
    error: XRPCError,
    endpoint: HttpEndpoint,
    authorization?: string,
  ): Promise<boolean> {
    if (error.error !== 'ExpiredToken' || !authorization || REFRESH_TOKEN_CALLS.has(endpoint.nsid)) return false
    await this.#sessions.refreshOnce(authorization.replace(/^Bearer /, ''))
    return true
  }

  override toJSON(): Record<string, unknown> {
    const session = this.#sessions.session
    return { ...super.toJSON(), session: session ? { did: session.did, handle: session.handle } : null }
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
    return this.request(
      endpoint,
      kind,
      loaded.get(endpoint) ?? (() => cachedLoad(endpoint, load)),
      args[0],
      args[1] as CallOptions | undefined,
    )
  }

  /** The namespace (or method) at `path`, created once per client. */
  namespace(path: string): unknown {
    let node = this.#namespaces.get(path)
    if (!node) {
      node = namespaceProxy(this, path)
      this.#namespaces.set(path, node)
    }
    return node
  }
}

/** Descriptors by NSID once loaded: immutable, so shared by every client, and each loaded once. */
const loaded = new Map<string, HttpEndpoint>()

async function cachedLoad(nsid: string, load: () => Promise<object>): Promise<HttpEndpoint> {
  const module = (await load()) as Record<string, unknown>
  const endpoint = Object.values(module).find(
    (value) => (value as HttpEndpoint | undefined)?.nsid === nsid && 'type' in (value as object),
  )
  if (!endpoint) throw new TypeError(`The module of ${nsid} has no descriptor for it`)
  loaded.set(nsid, endpoint as HttpEndpoint)
  return endpoint as HttpEndpoint
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
