import { decodeFirst } from '@atcute/cbor'

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

export function readCar(bytes: Uint8Array): { roots: readonly unknown[]; blocks: CarBlocks } {
  const blocks = new CarBlocks(bytes)
  if (bytes.length === 0) return { roots: [], blocks }
  let [length, position] = varint(bytes, 0)
  if (position + length > bytes.length) throw new InvalidCarError('its header runs past its end')
  let header: { version?: unknown; roots?: unknown }
  try {
    header = decodeFirst(bytes.subarray(position, position + length))[0]
  } catch (error) {
    throw new InvalidCarError(`its header is not DAG-CBOR (${(error as Error).message})`)
  }
  if (header?.version !== 1 || !Array.isArray(header.roots))
    throw new InvalidCarError('its header is not a CAR v1 header')
  position += length
  while (position < bytes.length) {
    ;[length, position] = varint(bytes, position)
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
  return { roots: header.roots, blocks }
}

/** An unsigned LEB128 varint at `position`: its value and the position after it (at most 7 bytes, far past any frame). */
function varint(bytes: Uint8Array, position: number): [value: number, next: number] {
  let value = 0
  for (let shift = 0; shift < 49; shift += 7) {
    if (position >= bytes.length) throw new InvalidCarError('it ends inside a length')
    const byte = bytes[position++]
    value += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return [value, position]
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
