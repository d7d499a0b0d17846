import { decode, encode } from '@atcute/cbor'
import type { SignatureChecker } from '../../runtime/subscription.js'
import { type CarBlocks, sameBytes } from './car.js'
import { cidBytes, InvalidEventError } from './repo-commit.js'

/**
 * `verify` of a subscription: a repo event checked against what its repo signed (and labels
 * against their labeler's key). For a `#commit`
 * or a `#sync`: the commit block is the one the event names (and the CAR's root), its bytes hash to
 * its CID, it is the event's repo and rev, and its signature is the repo's (the checker looks the
 * key up in the DID document). For each op of a `#commit`: the signed tree (`data`, an MST whose
 * nodes the event's blocks carry) maps the op's path to the op's CID, or, for a delete, to nothing;
 * every block walked, and each record, hashes to its CID. Anything else is an InvalidEventError:
 * the event is not data. (Whether the ops are all that changed since `prevData` is not checked.)
 */

interface SignedCommit {
  did: string
  version: number
  data: unknown
  rev: string
  prev: unknown
  sig: { buf: Uint8Array }
}

export async function verifyRepoEvent(
  event: { did: string; rev: string; commit: unknown; ops?: readonly { path: string; cid: unknown }[] },
  roots: readonly unknown[],
  blocks: CarBlocks,
  checker: SignatureChecker,
): Promise<void> {
  const hashed = new Set<Uint8Array>()
  if (roots.length === 0) throw new InvalidEventError('the CAR has no root')
  const root = cidBytes(event.commit === undefined ? roots[0] : event.commit)
  if (!sameBytes(cidBytes(roots[0]), root)) throw new InvalidEventError("the CAR's root is not the event's commit")
  const commit = decode(await verifiedBlock(root, blocks, hashed, 'the commit')) as SignedCommit
  if (commit?.did !== event.did)
    throw new InvalidEventError(`the commit is of ${String(commit?.did)}, not ${event.did}`)
  if (commit.rev !== event.rev) throw new InvalidEventError(`the commit's rev is ${commit.rev}, not ${event.rev}`)
  if (commit.version !== 3) throw new InvalidEventError(`a commit of version ${commit.version}`)
  const sig = commit.sig?.buf
  if (!(sig instanceof Uint8Array)) throw new InvalidEventError('the commit is not signed')
  const { sig: _, ...unsigned } = commit
  const signed = encode(unsigned)
  const valid = await checkTwice(checker, event.did, 'atproto', signed, sig)
  if (!valid) throw new InvalidEventError(`the commit's signature is not ${event.did}'s`)
  const ops = event.ops ?? []
  // The lexicon's limit, kept even unvalidated: each op walks the tree, so ops times nodes is the work.
  if (ops.length > MAX_OPS) throw new InvalidEventError(`${ops.length} ops, more than a commit holds (${MAX_OPS})`)
  const nodes = new Map<Uint8Array, MstNode>()
  const data = cidBytes(commit.data)
  for (const op of ops) {
    const found = await lookUp(data, op.path, blocks, hashed, nodes)
    const expected = op.cid === null || op.cid === undefined ? undefined : cidBytes(op.cid)
    const matches = found === undefined || expected === undefined ? found === expected : sameBytes(found, expected)
    if (!matches)
      throw new InvalidEventError(
        expected === undefined
          ? `the signed tree still holds ${op.path}, which the op deletes`
          : `the signed tree does not hold ${op.path} at the op's CID`,
      )
    // The record the op carries is the one signed for.
    if (expected !== undefined) await verifiedBlock(expected, blocks, hashed, `the record of ${op.path}`)
  }
}

/**
 * Verifies each label of a `#labels` message (`com.atproto.label.defs#label`, version 1): its `sig`
 * is its `src`'s signature, by the `#atproto_label` key, of the label without `sig` as DAG-CBOR.
 */
export async function verifyLabels(
  labels: readonly Record<string, unknown>[],
  checker: SignatureChecker,
): Promise<void> {
  for (const label of labels) {
    const { sig, ...unsigned } = label
    const bytes = (sig as { buf?: unknown } | undefined)?.buf
    if (!(bytes instanceof Uint8Array)) throw new InvalidEventError(`the label ${String(label.val)} is not signed`)
    if (typeof label.src !== 'string') throw new InvalidEventError('a label without its src')
    if (!(await checkTwice(checker, label.src, 'atproto_label', encode(unsigned), bytes)))
      throw new InvalidEventError(
        `the label ${String(label.val)} on ${String(label.uri)} is not signed by ${label.src}`,
      )
  }
}

/** A key that fails may have been rotated since it was cached: look it up again once. */
async function checkTwice(checker: SignatureChecker, did: string, keyId: string, data: Uint8Array, sig: Uint8Array) {
  return (await checker.check(did, keyId, data, sig, false)) || (await checker.check(did, keyId, data, sig, true))
}

/** The most ops a commit holds (the lexicon's `maxLength`), and a key's longest suffix (record keys are at most 512 bytes). */
const MAX_OPS = 200
const MAX_KEY_BYTES = 1024

interface MstNode {
  l: unknown
  e: { p: number; k: { buf: Uint8Array }; v: unknown; t: unknown }[]
}

/** The CID of the value `path` maps to in the MST under `root`, or undefined when the tree proves it absent. */
async function lookUp(
  root: Uint8Array,
  path: string,
  blocks: CarBlocks,
  hashed: Set<Uint8Array>,
  nodes: Map<Uint8Array, MstNode>,
): Promise<Uint8Array | undefined> {
  let nodeCid: Uint8Array | undefined = root
  for (let depth = 0; nodeCid !== undefined; depth++) {
    if (depth > 128) throw new InvalidEventError('an MST deeper than any repo')
    const block = await verifiedBlock(nodeCid, blocks, hashed, `an MST node on the path of ${path}`)
    let node = nodes.get(block)
    if (!node) {
      node = decode(block) as MstNode
      if (!Array.isArray(node?.e)) throw new InvalidEventError('an MST node without entries')
      nodes.set(block, node)
    }
    // Entries hold keys in order, each with the subtree of keys between it and the next; `l` the ones before all.
    let subtree: unknown = node.l
    let previous = ''
    let descended = false
    let next: Uint8Array | undefined
    for (const entry of node.e) {
      const suffix = entry?.k?.buf
      if (!(suffix instanceof Uint8Array) || suffix.length > MAX_KEY_BYTES || typeof entry.p !== 'number')
        throw new InvalidEventError('an MST entry that is not one')
      const key = previous.slice(0, entry.p) + latin1(suffix)
      if (key === path) return cidBytes(entry.v)
      if (path < key) {
        next = subtree === null || subtree === undefined ? undefined : cidBytes(subtree)
        descended = true
        break
      }
      subtree = entry.t
      previous = key
    }
    if (!descended) next = subtree === null || subtree === undefined ? undefined : cidBytes(subtree)
    nodeCid = next
  }
  return undefined
}

/** The block of `cid`, checked to hash to it (once per event). A block the proof needs and the event lacks fails it. */
async function verifiedBlock(
  cid: Uint8Array,
  blocks: CarBlocks,
  hashed: Set<Uint8Array>,
  what: string,
): Promise<Uint8Array> {
  const block = blocks.get(cid)
  if (!block) throw new InvalidEventError(`the event's blocks lack ${what}`)
  if (!hashed.has(block)) {
    // A CID of the data model: version, codec, sha-256 (0x12), 32 bytes, then the digest.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', block as Uint8Array<ArrayBuffer>))
    if (!sameBytes(digest, cid.subarray(4))) throw new InvalidEventError(`${what} does not hash to its CID`)
    hashed.add(block)
  }
  return block
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}
