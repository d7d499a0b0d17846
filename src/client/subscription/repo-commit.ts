import { fromUint8Array } from '@atcute/car'
import { decode } from '@atcute/cbor'
import type { AnyRecord } from '../../runtime/calls.js'
import { type LexSchema, validate, type ValidationIssue } from '../../runtime/schema/core.js'
import type { CidLink } from '../../runtime/schema/types.js'
import type { RecordWrite, RepoOperation } from '../../runtime/subscription.js'

/** A commit's blocks that cannot be read as a CAR file, or an op naming a record block that is not a record. */
export class InvalidCommitError extends Error {
  override name = 'InvalidCommitError'
}

/**
 * The record operations of a commit. `recordSchema(collection)` gives the lexicon of a collection
 * the client knows (undefined otherwise, and then the record passes through as plain data); with
 * `check` false none is validated.
 */
export async function recordOperations(
  commit: { ops: readonly LexiconRepoOp[]; tooBig?: boolean },
  blocks: ReadonlyMap<string, Uint8Array>,
  recordSchema: (collection: string) => Promise<LexSchema<unknown> | undefined>,
  check: boolean,
): Promise<RepoOperation[]> {
  const operations: RepoOperation[] = []
  for (const op of commit.ops) {
    const slash = op.path.indexOf('/')
    const collection = slash < 0 ? op.path : op.path.slice(0, slash)
    const rkey = slash < 0 ? '' : op.path.slice(slash + 1)
    const base: { path: string; collection: string; rkey: string; prev?: CidLink } = { path: op.path, collection, rkey }
    if (op.prev) base.prev = op.prev
    if (op.action === 'delete' || !op.cid) {
      operations.push({ ...base, action: 'delete', cid: null })
      continue
    }
    const block = blocks.get(blockKey(op.cid))
    let record: AnyRecord | undefined
    if (block) {
      try {
        record = decode(block) as AnyRecord
      } catch (error) {
        throw new InvalidCommitError(`the block of ${op.path} is not DAG-CBOR (${(error as Error).message})`)
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record))
        throw new InvalidCommitError(`the block of ${op.path} is not a record`)
    } else if (!commit.tooBig) {
      throw new InvalidCommitError(`the commit's blocks do not hold the record of ${op.path}`)
    }
    const write: RecordWrite = { ...base, action: op.action === 'update' ? 'update' : 'create', cid: op.cid, record }
    if (check && record !== undefined) {
      const schema = await recordSchema(collection)
      if (schema) {
        const result = validate(schema, record)
        if (!result.success) write.invalid = result.issues
      }
    }
    operations.push(write)
  }
  return operations
}

/** The lexicon's op as validated: `cid` a link in its binary form (or JSON form). */
interface LexiconRepoOp {
  action: string
  path: string
  cid: CidLink | null
  prev?: CidLink
}

/** A commit's (or a sync's) CAR: its roots, and its blocks by CID (see `blockKey`), read in place (views into the frame). */
export function readCar(blocks: unknown): { roots: readonly unknown[]; blocks: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>()
  const bytes = (blocks as { buf?: unknown } | undefined)?.buf
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return { roots: [], blocks: map }
  try {
    const car = fromUint8Array(bytes)
    for (const entry of car) map.set(keyOf(entry.cid.bytes), entry.bytes)
    return { roots: car.roots, blocks: map }
  } catch (error) {
    throw new InvalidCommitError(`its blocks are not a CAR file (${(error as Error).message})`)
  }
}

/** A CID's bytes as a string key: exact, and cheaper than its base32 form. */
export function keyOf(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/** The key of a link in its binary form (as decoded from CBOR) in a `carBlocks` map. */
export function blockKey(link: unknown): string {
  const bytes = (link as { bytes?: unknown } | null)?.bytes
  if (bytes instanceof Uint8Array) return keyOf(bytes)
  throw new InvalidCommitError('a CID that is not a binary CID link')
}
