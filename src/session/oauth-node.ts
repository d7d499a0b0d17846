import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { JoseKey, NodeOAuthClient, type OAuthSession } from '@atproto/oauth-client-node'
import type { OAuthScope } from '../client/oauth-scope.js'
import { UsageError } from '../runtime/errors.js'
import { sessionErrorOf } from './oauth.js'
import type { OAuthStores, OAuthStoreOptions } from './stores/oauth.js'
import { MemorySessionStore } from './store.js'

/** A store with OAuth's stores beside its sessions (file, Redis, PostgreSQL, memory), or the stores themselves. */
export type OAuthStoreSource = { oauthStores(options?: OAuthStoreOptions): OAuthStores } | OAuthStores

export interface OAuthClientCommonOptions {
  /**
   * Where sessions, authorization states and the refresh lock live: a `FileSessionStore`,
   * `RedisSessionStore` or `PostgresSessionStore` (shared by every process of the app), or its
   * `oauthStores()`. Default: memory, for one process.
   */
  store?: OAuthStoreSource
  /** What the app asks for (default `atproto transition:generic`): a string or an `oauthScope()` builder. */
  scope?: string | OAuthScope
  /** The PLC directory for `did:plc` (default `https://plc.directory`). */
  plcUrl?: string
  /** Resolves handles through this service's `com.atproto.identity.resolveHandle` instead of DNS and HTTPS. */
  handleResolver?: string | URL
  /** Talk to an authorization server and PDS over http: a local development PDS only. */
  allowHttp?: boolean
  fetch?: typeof globalThis.fetch
  /** Called with each new token set the OAuth client stores, and when it deletes a session (revoked, refresh refused). */
  onUpdate?: (did: string) => void
  onDelete?: (did: string, cause: unknown) => void
}

/** A loopback client (`http://localhost` client id): local development, CLIs, desktop apps; no metadata to host. */
export interface LoopbackOAuthOptions extends OAuthClientCommonOptions {
  /** The callback's port on 127.0.0.1 (default: a free one). Loopback redirects may change port between runs. */
  port?: number
  /** The callback's path (default `/callback`). */
  path?: string
}

/**
 * A confidential web back end: its client metadata is served at `clientId` (build it from
 * `client.clientMetadata`) and its public keys at `jwksUri` (`client.jwks`); it authenticates to
 * the authorization server with `private_key_jwt` signed by `keys`.
 */
export interface WebOAuthOptions extends OAuthClientCommonOptions {
  /** The https URL of the client metadata document. */
  clientId: string
  redirectUris: [string, ...string[]]
  /** Private keys (JWK objects, JWK JSON or PKCS#8 PEM), e.g. `oauthKeysFromEnv()`; at least one ES256. */
  keys: (string | Record<string, unknown>)[]
  /** Where the public keys are served (default `<clientId's origin>/jwks.json`). */
  jwksUri?: string
  clientName?: string
  clientUri?: string
  logoUri?: string
  tosUri?: string
  policyUri?: string
}

const DEFAULT_SCOPE = 'atproto transition:generic'

/** The OAuth client whose `restore` reports a dead session (gone from the store, its refresh refused) as `OAuthSessionError`. */
class SdkNodeOAuthClient extends NodeOAuthClient {
  override async restore(did: string, refresh?: boolean | 'auto'): Promise<OAuthSession> {
    try {
      return await super.restore(did, refresh)
    } catch (error) {
      throw sessionErrorOf(did, error) ?? error
    }
  }
}

/**
 * A `NodeOAuthClient` of `@atproto/oauth-client-node` set up for a loopback app (no `clientId`) or a
 * confidential web back end (`clientId`, `redirectUris`, `keys`), with its stores and request
 * lock on the app's session store. Its sessions drive the namespaced client as they are:
 * `new Client({ auth: await oauth.restore(did) })`; `restore` throws `OAuthSessionError` for a
 * session that is gone or can no longer be refreshed.
 */
export async function createOAuthClient(options: LoopbackOAuthOptions | WebOAuthOptions): Promise<NodeOAuthClient> {
  const scope = String(options.scope ?? DEFAULT_SCOPE)
  if (!scope.split(' ').includes('atproto')) throw new UsageError(`The OAuth scope must include "atproto": ${scope}`)
  const source = options.store ?? new MemorySessionStore()
  const { sessionStore, stateStore, requestLock } = 'oauthStores' in source ? source.oauthStores() : source
  const common = {
    sessionStore,
    stateStore,
    requestLock,
    allowHttp: options.allowHttp,
    plcDirectoryUrl: options.plcUrl,
    handleResolver: options.handleResolver,
    fetch: options.fetch,
    onUpdate: options.onUpdate && ((did: string) => options.onUpdate!(did)),
    onDelete: options.onDelete,
  }
  if ('clientId' in options) {
    const keyset = await Promise.all(options.keys.map((key, index) => importKey(key, index)))
    return new SdkNodeOAuthClient({ ...common, keyset, clientMetadata: webMetadata(options, scope) })
  }
  return new SdkNodeOAuthClient({ ...common, clientMetadata: await loopbackMetadata(options, scope) })
}

/**
 * Private keys from an environment variable (default `OAUTH_PRIVATE_KEYS`) holding a JWK, a JSON
 * array of JWKs, or a PKCS#8 PEM: what a confidential client's `keys` takes. Throws, naming only the
 * variable, when it is missing or unreadable.
 */
export function oauthKeysFromEnv(
  variable = 'OAUTH_PRIVATE_KEYS',
  env: Record<string, string | undefined> = process.env,
): (string | Record<string, unknown>)[] {
  const value = env[variable]?.trim()
  if (!value) throw new UsageError(`${variable} is not set: it holds the OAuth client's private keys`)
  if (value.startsWith('-----BEGIN')) return [value]
  try {
    const parsed = JSON.parse(value) as unknown
    const keys = Array.isArray(parsed) ? parsed : [parsed]
    if (keys.length && keys.every((key) => typeof key === 'object' && key !== null)) return keys
  } catch {
    // reported below, without the value
  }
  throw new UsageError(`${variable} holds neither a JWK, a JSON array of JWKs nor a PEM private key`)
}

export interface LoopbackSignInOptions {
  /** Shows the sign-in page: opens a browser, prints the URL… (default: prints it on stderr). */
  open?: (url: URL) => unknown
  /** Gives up waiting for the callback after this long (default 10 minutes). */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * Signs `identifier` (a handle, DID or PDS URL) in with a loopback client: starts the callback
 * server on the client's 127.0.0.1 redirect, shows the authorization page, and when the browser
 * comes back completes the flow (code exchange with PKCE and DPoP) and answers the browser with a
 * page saying so. The session is in the client's store; the server is closed either way.
 */
export async function signInLoopback(
  client: NodeOAuthClient,
  identifier: string,
  options: LoopbackSignInOptions = {},
): Promise<OAuthSession> {
  const redirect = new URL(client.clientMetadata.redirect_uris[0])
  if (redirect.hostname !== '127.0.0.1' || !redirect.port)
    throw new UsageError('signInLoopback needs a loopback client (createOAuthClient without clientId)')
  let resolve!: (session: OAuthSession) => void
  let reject!: (error: unknown) => void
  const called = new Promise<OAuthSession>((yes, no) => ((resolve = yes), (reject = no)))
  called.catch(() => {}) // it may settle while `open` still runs; awaited below
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', redirect)
    if (url.pathname !== redirect.pathname) return void response.writeHead(404).end()
    client.callback(url.searchParams, { redirect_uri: redirect.href as never }).then(
      ({ session }) => {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('Signed in', identifier))
        resolve(session)
      },
      (error: unknown) => {
        response.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page('Sign-in failed', identifier))
        reject(error)
      },
    )
  })
  const timeoutMs = options.timeoutMs ?? 10 * 60_000
  const timer = setTimeout(() => reject(new UsageError(`No sign-in came back within ${timeoutMs} ms`)), timeoutMs)
  const aborted = () => reject(options.signal?.reason)
  options.signal?.addEventListener('abort', aborted, { once: true })
  try {
    await listen(server, Number(redirect.port))
    const url = await client.authorize(identifier, { scope: client.clientMetadata.scope, signal: options.signal })
    await (options.open ?? ((shown: URL) => console.error(`Sign in at ${shown.href}`)))(url)
    return await called
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', aborted)
    server.closeAllConnections()
    server.close()
  }
}

function webMetadata(options: WebOAuthOptions, scope: string) {
  const clientId = new URL(options.clientId)
  if (clientId.protocol !== 'https:') throw new UsageError(`A web client's clientId is an https URL: ${clientId}`)
  return {
    client_id: clientId.href,
    client_name: options.clientName,
    client_uri: options.clientUri,
    logo_uri: options.logoUri,
    tos_uri: options.tosUri,
    policy_uri: options.policyUri,
    redirect_uris: options.redirectUris,
    scope,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    dpop_bound_access_tokens: true,
    jwks_uri: options.jwksUri ?? new URL('/jwks.json', clientId).href,
  } as ConstructorParameters<typeof NodeOAuthClient>[0]['clientMetadata']
}

/**
 * The client id names the redirect without its port (`http://127.0.0.1/callback`), which the
 * authorization server matches on any port (RFC 8252 §7.3): sessions made on one port refresh on
 * another, in a later run. The metadata names this run's port.
 */
async function loopbackMetadata(options: LoopbackOAuthOptions, scope: string) {
  const path = options.path ?? '/callback'
  if (!path.startsWith('/')) throw new UsageError(`The loopback callback path starts with /: ${path}`)
  const port = options.port ?? (await freePort())
  const query = new URLSearchParams({ redirect_uri: `http://127.0.0.1${path}`, scope })
  return {
    client_id: `http://localhost?${query}`,
    redirect_uris: [`http://127.0.0.1:${port}${path}`],
    scope,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    dpop_bound_access_tokens: true,
  } as ConstructorParameters<typeof NodeOAuthClient>[0]['clientMetadata']
}

async function importKey(key: string | Record<string, unknown>, index: number): Promise<JoseKey> {
  const kid = typeof key === 'object' && typeof key.kid === 'string' ? key.kid : `key${index + 1}`
  // The library's message may quote the key: say only which one.
  const refused = new UsageError(`OAuth private key ${index + 1} (${kid}) is not a private JWK or PKCS#8 PEM`)
  const imported = await JoseKey.fromImportable(key as never, kid).catch(() => undefined)
  if (!imported?.isPrivate) throw refused
  return imported
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
}

async function freePort(): Promise<number> {
  const probe = createServer()
  await listen(probe, 0)
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

function page(title: string, identifier: string): string {
  const escaped = identifier.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  return `<!doctype html><meta charset="utf-8"><title>${title}</title><p>${title} as ${escaped}. You can close this window.</p>`
}
