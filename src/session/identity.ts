import { readBounded } from '../client/body.js'
import { isLoopbackHost } from '../client/redirects.js'
import { BlueskySDKError } from '../runtime/errors.js'
import { isDid, isHandle } from '../runtime/schema/formats.js'
import { pdsOf } from './did-doc.js'
import type { KeyValueBackend } from './stores/backend.js'
import { MemoryBackend } from './stores/memory.js'

/**
 * Who an account is, from the network: a handle's DID (DNS `_atproto.<handle>` TXT and HTTPS
 * `/.well-known/atproto-did`, asked at once), a DID's document (`did:plc` from a PLC directory,
 * `did:web` from its host), and the two checked against each other: a handle is verified only when
 * it names the DID and the DID's document names it back. Every answer is data from an untrusted
 * server: bodies are bounded, calls time out, and a document must be the DID's own.
 */

export interface IdentityResolverOptions {
  /** The PLC directory for `did:plc` (default `https://plc.directory`). */
  plcUrl?: string
  /**
   * TXT records of a DNS name. Default: Node's resolver where the runtime has one (through
   * `process.getBuiltinModule`), else DNS over HTTPS (`dohUrl`). `blueskysdk/node`'s `nodeDnsTxt`
   * takes a resolver's servers (a local DNS server, in tests).
   */
  txt?: (name: string) => Promise<string[][]>
  /** A DNS-over-HTTPS JSON endpoint, for runtimes without a resolver (default Cloudflare's). */
  dohUrl?: string
  /** The URL of a handle's `atproto-did` file (default `https://<handle>/.well-known/atproto-did`). */
  wellKnownUrl?: (handle: string) => string
  fetch?: typeof globalThis.fetch
  /** Per lookup, in ms (default 10 s). */
  timeoutMs?: number
  /** Where answers are kept: any store backend (default: memory); a Redis one shares them between processes. */
  cache?: Pick<KeyValueBackend, 'get' | 'set'>
  /** How long an answer is fresh (default 1 h), and how long after that it is still served while asked again (default 1 day). */
  ttlMs?: number
  staleMs?: number
}

/** An identity, verified both ways. */
export interface Identity {
  did: string
  /** The handle, if it and the DID point at each other; undefined if the document's handle does not point back. */
  handle: string | undefined
  /** The DID document's PDS (`#atproto_pds`, https or loopback). */
  pds: string | undefined
  /** The `#atproto` signing key, as its `publicKeyMultibase`. */
  signingKey: string | undefined
  document: DidDocument
}

export interface DidDocument {
  id: string
  alsoKnownAs?: string[]
  verificationMethod?: { id: string; type: string; controller?: string; publicKeyMultibase?: string }[]
  service?: { id: string; type: string; serviceEndpoint: unknown }[]
}

/** A handle that resolves to no DID, by either method. */
export class HandleNotFoundError extends BlueskySDKError {
  override name = 'HandleNotFoundError'
  constructor(readonly handle: string) {
    super(`The handle ${handle} resolves to no DID`)
  }
}

/** A handle whose methods disagree (DNS and HTTPS name different DIDs, or DNS names several). */
export class HandleConflictError extends BlueskySDKError {
  override name = 'HandleConflictError'
  constructor(
    readonly handle: string,
    readonly dids: string[],
  ) {
    super(`The handle ${handle} resolves to different DIDs: ${dids.join(', ')}`)
  }
}

/** A DID with no document to be had (unknown to its directory, its host unreachable, or not a did:plc/did:web). */
export class DidNotFoundError extends BlueskySDKError {
  override name = 'DidNotFoundError'
  constructor(
    readonly did: string,
    reason: string,
  ) {
    super(`No DID document for ${did}: ${reason}`)
  }
}

/** A DID document that is not the DID's own (another `id`) or not a document at all. */
export class DidDocumentInvalidError extends BlueskySDKError {
  override name = 'DidDocumentInvalidError'
  constructor(
    readonly did: string,
    reason: string,
  ) {
    super(`The DID document of ${did} is not valid: ${reason}`)
  }
}

/** A handle and a DID that do not point at each other. */
export class HandleMismatchError extends BlueskySDKError {
  override name = 'HandleMismatchError'
  constructor(
    readonly handle: string,
    readonly did: string,
  ) {
    super(`The handle ${handle} and ${did} do not point at each other`)
  }
}

const DOCUMENT_LIMIT = 64 * 1024
const DID_FILE_LIMIT = 2 * 1024

export class IdentityResolver {
  readonly #options: IdentityResolverOptions
  readonly #cache: Pick<KeyValueBackend, 'get' | 'set'>
  readonly #fetch: typeof globalThis.fetch
  /** Lookups in flight, by cache key: one request however many ask at once. */
  readonly #inFlight = new Map<string, Promise<string>>()

  constructor(options: IdentityResolverOptions = {}) {
    this.#options = options
    this.#cache = options.cache ?? new MemoryBackend()
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  }

  /**
   * The verified identity of a handle or DID. From a handle: its DID, whose document must name the
   * handle back (else `HandleMismatchError`). From a DID: its document, and the handle it names if
   * that handle resolves back to the DID (else `handle` is undefined).
   */
  async resolve(handleOrDid: string): Promise<Identity> {
    if (isDid(handleOrDid)) {
      const document = await this.resolveDid(handleOrDid)
      const claimed = handleOf(document)
      const handle =
        claimed && (await this.resolveHandle(claimed).catch(() => undefined)) === handleOrDid ? claimed : undefined
      return identityOf(document, handle)
    }
    const handle = normalizeHandle(handleOrDid)
    const did = await this.resolveHandle(handle)
    const document = await this.resolveDid(did)
    if (handleOf(document) !== handle) throw new HandleMismatchError(handle, did)
    return identityOf(document, handle)
  }

  /**
   * The DID a handle names: DNS and HTTPS asked at once; one answer is enough, two that differ (or
   * several DNS records) are a `HandleConflictError`, none a `HandleNotFoundError`.
   */
  async resolveHandle(handle: string): Promise<string> {
    const name = normalizeHandle(handle)
    return this.#cached(`handle:${name}`, false, async () => {
      const [fromDns, fromHttps] = await Promise.all([this.#dnsDids(name), this.#httpsDid(name)])
      const dids = [...new Set([...fromDns, ...(fromHttps ? [fromHttps] : [])])]
      if (dids.length > 1) throw new HandleConflictError(name, dids)
      if (!dids.length) throw new HandleNotFoundError(name)
      return dids[0]
    })
  }

  /**
   * The DID's document: `did:plc` from the PLC directory, `did:web` from its host; its `id` must be
   * the DID. `fresh`: asked again rather than from the cache (a key it holds failed to verify).
   */
  async resolveDid(did: string, options: { fresh?: boolean } = {}): Promise<DidDocument> {
    if (!isDid(did)) throw new DidNotFoundError(did, 'not a DID')
    const text = await this.#cached(`did:${did}`, options.fresh ?? false, async () => {
      const url = didDocumentUrl(did, this.#options.plcUrl ?? 'https://plc.directory')
      const body = await this.#get(url, DOCUMENT_LIMIT, (reason) => new DidNotFoundError(did, reason))
      return body
    })
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch {
      throw new DidDocumentInvalidError(did, 'not JSON')
    }
    if (typeof document !== 'object' || document === null || (document as DidDocument).id !== did)
      throw new DidDocumentInvalidError(did, `its id is ${JSON.stringify((document as DidDocument | null)?.id)}`)
    return document as DidDocument
  }

  async #dnsDids(handle: string): Promise<string[]> {
    let records: string[][]
    try {
      records = await (this.#options.txt ?? defaultTxt(this.#options.dohUrl, this.#fetch))(`_atproto.${handle}`)
    } catch {
      return [] // no such name, or DNS unreachable: the HTTPS answer may still do
    }
    return records
      .map((chunks) => chunks.join(''))
      .filter((value) => value.startsWith('did='))
      .map((value) => value.slice(4))
      .filter(isDid)
  }

  async #httpsDid(handle: string): Promise<string | undefined> {
    const url = this.#options.wellKnownUrl?.(handle) ?? `https://${handle}/.well-known/atproto-did`
    try {
      const did = (await this.#get(url, DID_FILE_LIMIT, (reason) => new Error(reason))).trim()
      return isDid(did) ? did : undefined
    } catch {
      return undefined
    }
  }

  /** A body, bounded and within the timeout; `https:` only, except to this machine. */
  async #get(url: string, limit: number, failure: (reason: string) => Error): Promise<string> {
    const parsed = new URL(url)
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)))
      throw failure(`${parsed.protocol} is not https`)
    let response: Response
    try {
      response = await this.#fetch(url, {
        redirect: 'error',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      })
    } catch (error) {
      throw failure(`${parsed.host} did not answer (${(error as Error).name})`)
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {})
      throw failure(`${parsed.host} answered HTTP ${response.status}`)
    }
    const body = await readBounded(response, limit).catch(() => ({ tooLarge: true as const, bytes: undefined }))
    if (!body.bytes) throw failure(`the answer of ${parsed.host} is larger than ${limit} bytes or cut off`)
    return new TextDecoder().decode(body.bytes)
  }

  /**
   * An answer from the cache while fresh; past `ttlMs` and within `staleMs`, the stale answer is
   * served and asked again in the background; older, asked again now. Failures are not cached.
   */
  async #cached(key: string, fresh: boolean, lookup: () => Promise<string>): Promise<string> {
    const ttl = this.#options.ttlMs ?? 60 * 60_000
    const stale = this.#options.staleMs ?? 24 * 60 * 60_000
    const entry = parseEntry(await this.#cache.get(`identity:${key}`).catch(() => undefined))
    const age = entry ? Date.now() - entry.at : Infinity
    const refresh = () => {
      let running = this.#inFlight.get(key)
      if (!running) {
        running = lookup()
          .then(async (value) => {
            await this.#cache
              .set(`identity:${key}`, JSON.stringify({ at: Date.now(), value }), ttl + stale)
              .catch(() => {})
            return value
          })
          .finally(() => this.#inFlight.delete(key))
        this.#inFlight.set(key, running)
      }
      return running
    }
    if (fresh) return refresh()
    if (entry && age < ttl) return entry.value
    if (entry && age < ttl + stale) {
      refresh().catch(() => {}) // stale-while-revalidate: this answer now, a fresh one next time
      return entry.value
    }
    return refresh()
  }
}

function parseEntry(text: string | undefined): { at: number; value: string } | undefined {
  if (!text) return undefined
  try {
    const entry = JSON.parse(text) as { at?: unknown; value?: unknown }
    return typeof entry.at === 'number' && typeof entry.value === 'string'
      ? { at: entry.at, value: entry.value }
      : undefined
  } catch {
    return undefined
  }
}

function normalizeHandle(handle: string): string {
  const name = handle.trim().replace(/^@/, '').toLowerCase()
  if (!isHandle(name)) throw new HandleNotFoundError(name)
  return name
}

/** The handle a document claims (`at://<handle>` in `alsoKnownAs`), lowercased. */
function handleOf(document: DidDocument): string | undefined {
  const aka = Array.isArray(document.alsoKnownAs) ? document.alsoKnownAs : []
  const first = aka.find((value) => typeof value === 'string' && value.startsWith('at://'))
  const handle = first?.slice('at://'.length).toLowerCase()
  return handle && isHandle(handle) ? handle : undefined
}

function identityOf(document: DidDocument, handle: string | undefined): Identity {
  return { did: document.id, handle, pds: pdsOf(document), signingKey: signingKeyOf(document), document }
}

/** The `#atproto` verification method's `publicKeyMultibase`: the repo's signing key. */
function signingKeyOf(document: DidDocument): string | undefined {
  return verificationMethodOf(document, 'atproto')?.publicKeyMultibase
}

/**
 * A verification method of the document, by id (`atproto`: the repo's signing key; `atproto_label`:
 * a labeler's), as `publicKeyMultibase` of its `type` (`Multikey` today; older documents name the
 * curve, `EcdsaSecp256k1VerificationKey2019`).
 */
export function verificationMethodOf(
  document: DidDocument,
  id: string,
): { type: string; publicKeyMultibase: string } | undefined {
  const methods = Array.isArray(document.verificationMethod) ? document.verificationMethod : []
  const method = methods.find((m) => m?.id === `#${id}` || m?.id === `${document.id}#${id}`)
  return typeof method?.publicKeyMultibase === 'string' && typeof method.type === 'string'
    ? { type: method.type, publicKeyMultibase: method.publicKeyMultibase }
    : undefined
}

/** `did:plc:…` → the directory's URL; `did:web:host` (`%3A` for a port) → `https://host/.well-known/did.json`. */
function didDocumentUrl(did: string, plcUrl: string): string {
  if (did.startsWith('did:plc:')) return `${plcUrl.replace(/\/$/, '')}/${did}`
  if (did.startsWith('did:web:')) {
    const host = decodeURIComponent(did.slice('did:web:'.length))
    if (host.includes(':') && !/^[^:/]+:\d+$/.test(host)) throw new DidNotFoundError(did, 'a did:web with a path')
    const scheme = isLoopbackHost(host.split(':')[0]) ? 'http' : 'https'
    return `${scheme}://${host}/.well-known/did.json`
  }
  throw new DidNotFoundError(did, 'only did:plc and did:web are resolved')
}

/** Node's DNS resolver where the runtime has one, else DNS over HTTPS. */
function defaultTxt(dohUrl: string | undefined, fetch: typeof globalThis.fetch): (name: string) => Promise<string[][]> {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule
  const dns = getBuiltin?.('node:dns') as { promises: { resolveTxt(name: string): Promise<string[][]> } } | undefined
  if (dns && dohUrl === undefined) return (name) => dns.promises.resolveTxt(name)
  return async (name) => {
    const url = `${dohUrl ?? 'https://cloudflare-dns.com/dns-query'}?name=${encodeURIComponent(name)}&type=TXT`
    const response = await fetch(url, {
      headers: { accept: 'application/dns-json' },
      signal: AbortSignal.timeout(10_000),
    })
    const { bytes } = await readBounded(response, DOCUMENT_LIMIT)
    if (!response.ok || !bytes) throw new Error(`DNS over HTTPS answered HTTP ${response.status}`)
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { Answer?: { type: number; data: string }[] }
    return (body.Answer ?? [])
      .filter((answer) => answer.type === 16)
      .map((answer) => [answer.data.replace(/^"|"$/g, '')])
  }
}
