import { readFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * `lexicons.lock.json`: what `pull` asked for and, per document, the record it came from: the
 * publishing account, the record's AT URI and its CID as its PDS reported it. `--check` holds the
 * network and the files on disk against it; `update` moves it. Written sorted, so the same pins are
 * the same bytes.
 */

export interface Pin {
  did: string
  uri: string
  cid: string
}

export interface Lockfile {
  /** What `pull` was asked for: NSIDs and `authority.*` patterns. */
  pull: string[]
  lexicons: Record<string, Pin>
}

export const LOCKFILE_NAME = 'lexicons.lock.json'
const VERSION = 1

/** The default lockfile of an output folder: beside it. */
export function defaultLockfile(out: string): string {
  return path.join(path.dirname(path.resolve(out)), LOCKFILE_NAME)
}

export class LockfileError extends Error {
  override name = 'LockfileError'
}

export function lockfileText(lock: Lockfile): string {
  const lexicons: Record<string, Pin> = {}
  for (const nsid of Object.keys(lock.lexicons).sort()) {
    const { did, uri, cid } = lock.lexicons[nsid]
    lexicons[nsid] = { did, uri, cid }
  }
  const pull = [...new Set(lock.pull)].sort()
  return `${JSON.stringify({ lockfileVersion: VERSION, pull, lexicons }, null, 2)}\n`
}

/** The lockfile at `file`, or undefined if there is none; one that is not a lockfile is an error. */
export async function readLockfile(file: string): Promise<Lockfile | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new LockfileError(`${file} is not JSON`)
  }
  const lock = json as { lockfileVersion?: unknown; pull?: unknown; lexicons?: unknown }
  if (lock?.lockfileVersion !== VERSION)
    throw new LockfileError(`${file}: lockfileVersion ${JSON.stringify(lock?.lockfileVersion)} is not ${VERSION}`)
  if (!Array.isArray(lock.pull) || !lock.pull.every((item) => typeof item === 'string'))
    throw new LockfileError(`${file}: $.pull is not a list of NSIDs`)
  if (typeof lock.lexicons !== 'object' || lock.lexicons === null || Array.isArray(lock.lexicons))
    throw new LockfileError(`${file}: $.lexicons is not an object`)
  const lexicons: Record<string, Pin> = {}
  for (const [nsid, pin] of Object.entries(lock.lexicons as Record<string, Partial<Pin>>)) {
    if (typeof pin?.did !== 'string' || typeof pin.uri !== 'string' || typeof pin.cid !== 'string')
      throw new LockfileError(`${file}: $.lexicons[${JSON.stringify(nsid)}] needs did, uri and cid`)
    lexicons[nsid] = { did: pin.did, uri: pin.uri, cid: pin.cid }
  }
  return { pull: lock.pull as string[], lexicons }
}

export interface PinChanges {
  added: string[]
  changed: { nsid: string; before: Pin; after: Pin }[]
  removed: string[]
}

/** What moved between two sets of pins, by NSID (sorted). */
export function diffPins(before: Record<string, Pin>, after: Record<string, Pin>): PinChanges {
  const changes: PinChanges = { added: [], changed: [], removed: [] }
  for (const nsid of Object.keys(after).sort()) {
    const old = Object.hasOwn(before, nsid) ? before[nsid] : undefined
    if (!old) changes.added.push(nsid)
    else if (old.cid !== after[nsid].cid || old.uri !== after[nsid].uri || old.did !== after[nsid].did)
      changes.changed.push({ nsid, before: old, after: after[nsid] })
  }
  changes.removed = Object.keys(before)
    .filter((nsid) => !Object.hasOwn(after, nsid))
    .sort()
  return changes
}
