import { authorityOf, didsOfTxt, lexiconTxtName, printable, SCHEMA_COLLECTION } from './lexicon-authority.js'
import { isNsid } from './names.js'
import { recordCid } from './record-cid.js'
import type { Sdk, SdkClient, SdkIdentityResolver, TxtLookup } from './sdk.js'

/**
 * Lexicons from the network: NSID → authority's `_lexicon` TXT record → DID → its document (the
 * SDK's `IdentityResolver`) → its PDS → the `com.atproto.lexicon.schema` record (the SDK's client).
 * Every answer is untrusted: the identity lookups and the client bound sizes and time out, records
 * must be the asked-for one (the DID's repo, the collection, the NSID as key) with the CID their
 * content hashes to (what the lockfile pins is then the content itself), and the number of records
 * listed is bounded.
 */

/** A lexicon as published: the document (the record less its `$type`) and where it came from. */
export interface Published {
  nsid: string
  did: string
  uri: string
  cid: string
  doc: Record<string, unknown>
}

export class ResolutionError extends Error {
  override name = 'ResolutionError'
}

export interface ResolverOptions {
  plcUrl?: string
  /** DNS servers for the TXT lookups (`127.0.0.1:5353`); default, the system's. */
  dns?: string[]
}

/** A lexicon record's JSON is small; this bounds a hostile PDS's answer well above any real one. */
const RECORD_BYTES = 1024 * 1024
const PAGE_BYTES = 16 * 1024 * 1024
const PAGE_SIZE = 100
/** `authority.*` lists at most this many records (an authority with more is not a lexicon set). */
export const MAX_LISTED = 2_000
const CID = /^b[a-z2-7]{10,200}$/

export class LexiconResolver {
  readonly #sdk: Sdk
  readonly #txt: TxtLookup
  readonly #identity: SdkIdentityResolver
  readonly #dids = new Map<string, Promise<string>>()
  readonly #clients = new Map<string, Promise<SdkClient>>()

  constructor(sdk: Sdk, options: ResolverOptions) {
    this.#sdk = sdk
    this.#txt = sdk.nodeDnsTxt(options.dns ? { servers: options.dns } : {})
    this.#identity = new sdk.IdentityResolver({ plcUrl: options.plcUrl, txt: this.#txt })
  }

  /** The DID an authority's `_lexicon` TXT record names. */
  authorityDid(authority: string): Promise<string> {
    const key = authority.toLowerCase()
    let did = this.#dids.get(key)
    if (!did) {
      did = this.#lookUpDid(authority)
      this.#dids.set(key, did)
    }
    return did
  }

  async #lookUpDid(authority: string): Promise<string> {
    const name = lexiconTxtName(authority)
    let records: string[][]
    try {
      records = await this.#txt(name)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new ResolutionError(
        code === 'ENOTFOUND' || code === 'ENODATA'
          ? `${authority}: no TXT record ${name} (did=<DID>) publishes its lexicons`
          : `${authority}: the DNS lookup of ${name} failed (${printable(String(code ?? (error as Error).message))})`,
      )
    }
    const dids = didsOfTxt(records)
    if (dids.length === 0) throw new ResolutionError(`${authority}: ${name} has no did=<DID> TXT record`)
    if (dids.length > 1)
      throw new ResolutionError(
        `${authority}: ${name} names several DIDs (${dids.map((d) => printable(d)).join(', ')})`,
      )
    return dids[0]
  }

  /** A client for the PDS hosting the DID's repo (its document's `#atproto_pds`). */
  #clientFor(did: string): Promise<SdkClient> {
    let client = this.#clients.get(did)
    if (!client) {
      client = this.#identity.resolveDid(did).then(
        (document) => {
          const pds = this.#sdk.pdsOf(document)
          if (!pds) throw new ResolutionError(`${did}: its DID document names no usable PDS (#atproto_pds)`)
          return new this.#sdk.Client({ service: pds, auth: this.#sdk.noAuth })
        },
        (error: Error) => {
          throw new ResolutionError(printable(error.message))
        },
      )
      this.#clients.set(did, client)
    }
    return client
  }

  /** The lexicon `nsid` as its authority publishes it. */
  async get(nsid: string): Promise<Published> {
    const did = await this.authorityDid(authorityOf(nsid))
    const client = await this.#clientFor(did)
    let data: unknown
    try {
      const params = { repo: did, collection: SCHEMA_COLLECTION, rkey: nsid }
      data = (await client.call('com.atproto.repo.getRecord', params, { maxResponseBytes: RECORD_BYTES })).$data
    } catch (error) {
      const notFound = (error as { error?: unknown }).error === 'RecordNotFound'
      throw new ResolutionError(
        notFound
          ? `${nsid}: ${did} publishes no such lexicon (no ${SCHEMA_COLLECTION} record ${nsid})`
          : `${nsid}: ${printable((error as Error).message)}`,
      )
    }
    return checkRecord(nsid, did, data as RecordData)
  }

  /** Every lexicon the authority publishes (`authority.*`: its own NSIDs, none under sub-authorities). */
  async list(authority: string): Promise<Published[]> {
    const did = await this.authorityDid(authority)
    const client = await this.#clientFor(did)
    const found: Published[] = []
    let cursor: string | undefined
    let listed = 0
    do {
      let page: { records?: unknown; cursor?: unknown }
      try {
        const params = { repo: did, collection: SCHEMA_COLLECTION, limit: PAGE_SIZE, cursor }
        page = (await client.call('com.atproto.repo.listRecords', params, { maxResponseBytes: PAGE_BYTES }))
          .$data as typeof page
      } catch (error) {
        throw new ResolutionError(`${authority}.*: ${printable((error as Error).message)}`)
      }
      const records = Array.isArray(page.records) ? (page.records as { uri?: unknown }[]) : []
      listed += records.length
      if (listed > MAX_LISTED)
        throw new ResolutionError(`${authority}.*: ${did} lists more than ${MAX_LISTED} lexicon records`)
      for (const record of records) {
        const rkey = typeof record?.uri === 'string' ? record.uri.slice(record.uri.lastIndexOf('/') + 1) : ''
        // The repo may hold other authorities' lexicons: only this one's, by exact authority.
        if (!isNsid(rkey) || authorityOf(rkey).toLowerCase() !== authority.toLowerCase()) continue
        found.push(await checkRecord(rkey, did, record))
      }
      const next = typeof page.cursor === 'string' && records.length > 0 ? page.cursor : undefined
      if (next !== undefined && next === cursor) break // a server repeating its cursor would never end
      cursor = next
    } while (cursor)
    return found.sort((a, b) => (a.nsid < b.nsid ? -1 : 1))
  }
}

type RecordData = { uri?: unknown; cid?: unknown; value?: unknown }

/**
 * The record must be the one asked for, in the DID's repo, with the CID of its content; its
 * document's id must be the NSID.
 */
async function checkRecord(nsid: string, did: string, data: RecordData): Promise<Published> {
  const uri = `at://${did}/${SCHEMA_COLLECTION}/${nsid}`
  if (data?.uri !== uri)
    throw new ResolutionError(`${nsid}: the PDS answered with another record (${printable(String(data?.uri))})`)
  if (typeof data.cid !== 'string' || !CID.test(data.cid))
    throw new ResolutionError(`${nsid}: the PDS gave no valid CID for ${uri}`)
  const value = data.value
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ResolutionError(`${nsid}: ${uri} is not an object`)
  const { $type, ...doc } = value as Record<string, unknown>
  if ($type !== SCHEMA_COLLECTION)
    throw new ResolutionError(`${nsid}: ${uri} is a ${printable(String($type))} record, not a ${SCHEMA_COLLECTION}`)
  if (doc.id !== nsid)
    throw new ResolutionError(
      `${nsid}: ${uri} holds the lexicon ${printable(JSON.stringify(doc.id) ?? '')}, not ${nsid}`,
    )
  const cid = await recordCid(value)
  if (cid !== data.cid)
    throw new ResolutionError(`${nsid}: ${uri} does not hash to the CID the PDS gave (${data.cid}, not ${cid})`)
  return { nsid, did, uri, cid, doc }
}
