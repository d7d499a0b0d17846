import { decode, encode } from '@atcute/cbor'
import type { RepoSignatureChecker } from '../../runtime/subscription.js'
import { blockKey, InvalidCommitError, keyOf } from './repo-commit.js'

/**
 * `verify` of a subscription: a repo event checked against what its repo signed. For a `#commit`
 * or a `#sync`: the commit block is the one the event names (and the CAR's root), its bytes hash to
 * its CID, it is the event's repo and rev, and its signature is the repo's (the checker looks the
 * key up in the DID document). For each op of a `#commit`: the signed tree (`data`, an MST whose
 * nodes the event's blocks carry) maps the op's path to the op's CID, or, for a delete, to nothing;
 * every block walked, and each record, hashes to its CID. Anything else is an InvalidCommitError:
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
  blocks: ReadonlyMap<string, Uint8Array>,
  checker: RepoSignatureChecker,
): Promise<void> {
  const hashed = new Set<string>()
  const rootKey = event.commit === undefined ? blockKey(roots[0]) : blockKey(event.commit)
  if (roots.length === 0 || blockKey(roots[0]) !== rootKey)
    throw new InvalidCommitError("the CAR's root is not the event's commit")
  const commit = decode(await verifiedBlock(rootKey, blocks, hashed, 'the commit')) as SignedCommit
  if (commit?.did !== event.did)
    throw new InvalidCommitError(`the commit is of ${String(commit?.did)}, not ${event.did}`)
  if (commit.rev !== event.rev) throw new InvalidCommitError(`the commit's rev is ${commit.rev}, not ${event.rev}`)
  if (commit.version !== 3) throw new InvalidCommitError(`a commit of version ${commit.version}`)
  const sig = commit.sig?.buf
  if (!(sig instanceof Uint8Array)) throw new InvalidCommitError('the commit is not signed')
  const { sig: _, ...unsigned } = commit
  const signed = encode(unsigned)
  // A key that fails may have been rotated since it was cached: look it up again once.
  const valid =
    (await checker.check(event.did, signed, sig, false)) || (await checker.check(event.did, signed, sig, true))
  if (!valid) throw new InvalidCommitError(`the commit's signature is not ${event.did}'s`)
  const ops = event.ops ?? []
  // The lexicon's limit, kept even unvalidated: each op walks the tree, so ops times nodes is the work.
  if (ops.length > MAX_OPS) throw new InvalidCommitError(`${ops.length} ops, more than a commit holds (${MAX_OPS})`)
  const nodes = new Map<string, MstNode>()
  for (const op of ops) {
    const found = await lookUp(blockKey(commit.data), op.path, blocks, hashed, nodes)
    const expected = op.cid === null || op.cid === undefined ? undefined : blockKey(op.cid)
    if (found !== expected)
      throw new InvalidCommitError(
        expected === undefined
          ? `the signed tree still holds ${op.path}, which the op deletes`
          : `the signed tree does not hold ${op.path} at the op's CID`,
      )
    // The record the op carries is the one signed for.
    if (expected !== undefined) await verifiedBlock(expected, blocks, hashed, `the record of ${op.path}`)
  }
}

/** The most ops a commit holds (the lexicon's `maxLength`), and a key's longest suffix (record keys are at most 512 bytes). */
const MAX_OPS = 200
const MAX_KEY_BYTES = 1024

interface MstNode {
  l: unknown
  e: { p: number; k: { buf: Uint8Array }; v: unknown; t: unknown }[]
}

/** The key of the value `path` maps to in the MST under `root`, or undefined when the tree proves it absent. */
async function lookUp(
  root: string,
  path: string,
  blocks: ReadonlyMap<string, Uint8Array>,
  hashed: Set<string>,
  nodes: Map<string, MstNode>,
): Promise<string | undefined> {
  let nodeKey: string | undefined = root
  for (let depth = 0; nodeKey !== undefined; depth++) {
    if (depth > 128) throw new InvalidCommitError('an MST deeper than any repo')
    let node = nodes.get(nodeKey)
    if (!node) {
      node = decode(await verifiedBlock(nodeKey, blocks, hashed, `an MST node on the path of ${path}`)) as MstNode
      if (!Array.isArray(node?.e)) throw new InvalidCommitError('an MST node without entries')
      nodes.set(nodeKey, node)
    }
    // Entries hold keys in order, each with the subtree of keys between it and the next; `l` the ones before all.
    let subtree: unknown = node.l
    let previous = ''
    let next: string | undefined
    let descended = false
    for (const entry of node.e) {
      const suffix = entry?.k?.buf
      if (!(suffix instanceof Uint8Array) || suffix.length > MAX_KEY_BYTES || typeof entry.p !== 'number')
        throw new InvalidCommitError('an MST entry that is not one')
      const key = previous.slice(0, entry.p) + latin1(suffix)
      if (key === path) return blockKey(entry.v)
      if (path < key) {
        next = subtree === null || subtree === undefined ? undefined : blockKey(subtree)
        descended = true
        break
      }
      subtree = entry.t
      previous = key
    }
    if (!descended) next = subtree === null || subtree === undefined ? undefined : blockKey(subtree)
    nodeKey = next
  }
  return undefined
}

/** The block of `key`, checked to hash to its CID (once per event). A block the proof needs and the event lacks fails it. */
async function verifiedBlock(
  key: string,
  blocks: ReadonlyMap<string, Uint8Array>,
  hashed: Set<string>,
  what: string,
): Promise<Uint8Array> {
  const block = blocks.get(key)
  if (!block) throw new InvalidCommitError(`the event's blocks lack ${what}`)
  if (!hashed.has(key)) {
    // A CID of the data model: version, codec, sha-256 (0x12), 32 bytes, then the digest.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', block as Uint8Array<ArrayBuffer>))
    if (keyOf(digest) !== key.slice(4)) throw new InvalidCommitError(`${what} does not hash to its CID`)
    hashed.add(key)
  }
  return block
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}
