import { decode } from '@atcute/cbor'

/**
 * A commit's `blocks`: a CAR v1 file (a header naming its roots, then CID and bytes, block after
 * block), read in place, each block a view into the frame. Written here rather than taken from a
 * CAR library because it is the firehose's hot path (a commit has some six blocks, read on every
 * frame) and what a repo event holds is narrow: only the data model's CIDs (CIDv1, dag-cbor or raw,
 * sha-256: 36 bytes), which makes reading a block a slice.
 */
export class CarBlocks {
  readonly #bytes: Uint8Array
  /** Where each block's CID starts and its data ends, two numbers per block (no views until asked for). */
  readonly #offsets: number[] = []
  /** For a CAR of many blocks, built on first lookup: block indexes by the digest's first four bytes. */
  #index: Map<number, number[]> | undefined

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  add(cidStart: number, dataEnd: number): void {
    this.#offsets.push(cidStart, dataEnd)
  }

  /** The bytes of the block of `cid` (a CID's 36 bytes), if the CAR holds it. */
  get(cid: Uint8Array): Uint8Array | undefined {
    if (cid.length !== CID_BYTES) return undefined
    const offsets = this.#offsets
    const count = offsets.length / 2
    if (count > INDEXED_FROM) {
      this.#index ??= this.#buildIndex()
      for (const i of this.#index.get(prefixOf(cid, 0)) ?? []) if (this.#matches(i, cid)) return this.#data(i)
      return undefined
    }
    for (let i = 0; i < count; i++) if (this.#matches(i, cid)) return this.#data(i)
    return undefined
  }

  #matches(block: number, cid: Uint8Array): boolean {
    const bytes = this.#bytes
    const start = this.#offsets[block * 2]
    // The digest first: it differs at once between blocks; the 4-byte prefix is all but the same.
    for (let i = CID_BYTES - 1; i >= 0; i--) if (bytes[start + i] !== cid[i]) return false
    return true
  }

  #data(block: number): Uint8Array {
    const start = this.#offsets[block * 2]
    return this.#bytes.subarray(start + CID_BYTES, this.#offsets[block * 2 + 1])
  }

  #buildIndex(): Map<number, number[]> {
    const index = new Map<number, number[]>()
    for (let i = 0; i < this.#offsets.length / 2; i++) {
      const prefix = prefixOf(this.#bytes, this.#offsets[i * 2])
      const bucket = index.get(prefix)
      if (bucket) bucket.push(i)
      else index.set(prefix, [i])
    }
    return index
  }
}

/** Past this many blocks, lookups go through an index instead of a scan. */
const INDEXED_FROM = 16

/** Why a commit's blocks can't be read; the cause of an InvalidMessageError. */
export class InvalidCarError extends Error {
  override name = 'InvalidCarError'
}

const CID_BYTES = 36

/** A CAR: its blocks, and its roots (decoded when asked for: only verification reads them). */
export interface CarRead {
  roots(): readonly unknown[]
  blocks: CarBlocks
}

export function readCar(bytes: Uint8Array): CarRead {
  const blocks = new CarBlocks(bytes)
  if (bytes.length === 0) return { roots: () => [], blocks }
  let length = varint(bytes, 0)
  let position = varintEnd
  if (position + length > bytes.length) throw new InvalidCarError('its header runs past its end')
  const roots = readHeader(bytes.subarray(position, position + length))
  position += length
  while (position < bytes.length) {
    length = varint(bytes, position)
    position = varintEnd
    const end = position + length
    if (length < CID_BYTES || end > bytes.length) throw new InvalidCarError('a block runs past its end')
    const version = bytes[position]
    const codec = bytes[position + 1]
    if (
      version !== 1 ||
      (codec !== 0x71 && codec !== 0x55) ||
      bytes[position + 2] !== 0x12 ||
      bytes[position + 3] !== 32
    )
      throw new InvalidCarError('a block whose CID is not one of the data model (CIDv1, dag-cbor or raw, sha-256)')
    blocks.add(position, end)
    position = end
  }
  return { roots, blocks }
}

/**
 * The header every repo event's CAR has, `{ roots: [<one CID>], version: 1 }` as DAG-CBOR, byte for
 * byte up to the CID's 36 bytes: matched in place rather than decoded on every frame.
 */
const ONE_ROOT_HEAD = [0xa2, 0x65, ...'roots'.split('').map((c) => c.charCodeAt(0)), 0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00]
const ONE_ROOT_TAIL = [0x67, ...'version'.split('').map((c) => c.charCodeAt(0)), 0x01]
const ONE_ROOT_LENGTH = ONE_ROOT_HEAD.length + CID_BYTES + ONE_ROOT_TAIL.length

/** The roots of a CAR header, checked now and decoded then, or (the one-root header) decoded when asked for. */
function readHeader(header: Uint8Array): () => readonly unknown[] {
  if (isOneRootHeader(header)) return () => decodeHeader(header).roots
  const { roots } = decodeHeader(header)
  return () => roots
}

function isOneRootHeader(header: Uint8Array): boolean {
  if (header.length !== ONE_ROOT_LENGTH) return false
  for (let i = 0; i < ONE_ROOT_HEAD.length; i++) if (header[i] !== ONE_ROOT_HEAD[i]) return false
  const tail = ONE_ROOT_HEAD.length + CID_BYTES
  for (let i = 0; i < ONE_ROOT_TAIL.length; i++) if (header[tail + i] !== ONE_ROOT_TAIL[i]) return false
  const cid = ONE_ROOT_HEAD.length
  // The root, a CID of the data model (else the general decoder has the last word on it).
  return (
    header[cid] === 1 &&
    (header[cid + 1] === 0x71 || header[cid + 1] === 0x55) &&
    header[cid + 2] === 0x12 &&
    header[cid + 3] === 32
  )
}

function decodeHeader(header: Uint8Array): { roots: unknown[] } {
  let decoded: { version?: unknown; roots?: unknown }
  try {
    decoded = decode(header)
  } catch (error) {
    throw new InvalidCarError(`its header is not DAG-CBOR (${(error as Error).message})`)
  }
  if (decoded?.version !== 1 || !Array.isArray(decoded.roots))
    throw new InvalidCarError('its header is not a CAR v1 header')
  return { roots: decoded.roots }
}

/** Where the last varint read ended: a module variable, so that reading one allocates nothing. */
let varintEnd = 0

/** An unsigned LEB128 varint at `position` (at most 7 bytes, far past any frame); `varintEnd` is set to the position after it. */
function varint(bytes: Uint8Array, position: number): number {
  let value = 0
  for (let shift = 0; shift < 49; shift += 7) {
    if (position >= bytes.length) throw new InvalidCarError('it ends inside a length')
    const byte = bytes[position++]
    value += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) {
      varintEnd = position
      return value
    }
  }
  throw new InvalidCarError('a length longer than any frame')
}

/** The first four bytes of the digest of the CID at `start` of `bytes`. */
function prefixOf(bytes: Uint8Array, start: number): number {
  return ((bytes[start + 4] << 24) | (bytes[start + 5] << 16) | (bytes[start + 6] << 8) | bytes[start + 7]) >>> 0
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
