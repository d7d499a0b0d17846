import { decode } from '@atcute/cbor'
import type { AnyRecord } from '../../runtime/calls.js'
import { type LexSchema, validate, type ValidationIssue } from '../../runtime/schema/core.js'
import type { CidLink } from '../../runtime/schema/types.js'
import type { RecordDelete, RecordWrite, RepoOperation } from '../../runtime/subscription.js'
import type { CarBlocks } from './car.js'

/**
 * A repo event (or a label) that doesn't hold: ops naming records its blocks lack or hold as
 * something else, a proof or a signature that fails. Reported as an InvalidMessageError.
 */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError'
}

/**
 * The record operations of a commit. `recordSchema(collection)` gives the lexicon of a collection
 * the client knows (undefined otherwise, and then the record passes through as plain data), or
 * none to validate nothing. Synchronous, as it runs on every commit: the caller loads the schemas
 * first (`collectionsOf`).
 */
export function recordOperations(
  commit: { ops: readonly LexiconRepoOp[]; tooBig?: boolean },
  blocks: CarBlocks,
  recordSchema: ((collection: string) => LexSchema<unknown> | undefined) | undefined,
): RepoOperation[] {
  const operations: RepoOperation[] = []
  for (const op of commit.ops) {
    const { path } = op
    const slash = path.indexOf('/')
    const collection = slash < 0 ? path : path.slice(0, slash)
    const rkey = slash < 0 ? '' : path.slice(slash + 1)
    // Each op made whole in one literal, so that all have one shape (spreads made it several, and slow).
    if (op.action === 'delete' || !op.cid) {
      const removal: RecordDelete = { action: 'delete', path, collection, rkey, cid: null }
      if (op.prev) removal.prev = op.prev
      operations.push(removal)
      continue
    }
    const block = blocks.get(cidBytes(op.cid))
    let record: AnyRecord | undefined
    if (block) {
      try {
        record = decode(block) as AnyRecord
      } catch (error) {
        throw new InvalidEventError(`the block of ${path} is not DAG-CBOR (${(error as Error).message})`)
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record))
        throw new InvalidEventError(`the block of ${path} is not a record`)
    } else if (!commit.tooBig) {
      throw new InvalidEventError(`the commit's blocks do not hold the record of ${path}`)
    }
    const action = op.action === 'update' ? 'update' : 'create'
    const write: RecordWrite = { action, path, collection, rkey, cid: op.cid, record, invalid: undefined }
    if (op.prev) write.prev = op.prev
    if (recordSchema && record !== undefined) {
      const schema = recordSchema(collection)
      if (schema) {
        const result = validate(schema, record)
        if (!result.success) write.invalid = result.issues
      }
    }
    operations.push(write)
  }
  return operations
}

/** The collections a commit's ops write to: whose schemas `recordOperations` needs. */
export function collectionsOf(commit: { ops: readonly LexiconRepoOp[] }): string[] {
  return commit.ops.map((op) => collectionOf(op.path))
}

/** The collection of a repo path (`collection/rkey`). */
export function collectionOf(path: string): string {
  const slash = path.indexOf('/')
  return slash < 0 ? path : path.slice(0, slash)
}

/** The lexicon's op as validated: `cid` a link in its binary form (or JSON form). */
interface LexiconRepoOp {
  action: string
  path: string
  cid: CidLink | null
  prev?: CidLink
}

/** The 36 bytes of a link in its binary form (as decoded from CBOR). */
export function cidBytes(link: unknown): Uint8Array {
  const bytes = (link as { bytes?: unknown } | null)?.bytes
  if (bytes instanceof Uint8Array) return bytes
  throw new InvalidEventError('a CID that is not a binary CID link')
}
