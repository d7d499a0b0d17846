import { encode } from '@atcute/cbor'
import { CODEC_DCBOR, create, toString } from '@atcute/cid'

/**
 * The CID a record's content hashes to, the way a repo stores it: DAG-CBOR, sha-256, CIDv1. For a
 * record in JSON that holds no blobs, links or bytes (a lexicon document holds none); one that does
 * hashes differently from its stored form, so it can only fail a comparison, never pass a wrong one.
 */
export async function recordCid(record: unknown): Promise<string> {
  return toString(await create(CODEC_DCBOR, encode(record)))
}
