/** Data model types in their JSON form: what goes over the wire and what the generated schemas validate. */

/** A blob reference as written today: `{ $type: 'blob', ref: { $link }, mimeType, size }`. */
export interface TypedBlobRef {
  $type: 'blob'
  ref: CidLink
  mimeType: string
  size: number
}

/** The legacy blob form, still found in old records: readable, never written. */
export interface LegacyBlobRef {
  cid: string
  mimeType: string
}

export type BlobRef = TypedBlobRef | LegacyBlobRef

/** A link to content by CID, in JSON as `{ $link: cid }`. */
export interface CidLink {
  $link: string
}

/** Raw bytes, in JSON as `{ $bytes: base64 }`. */
export interface Bytes {
  $bytes: string
}

/** An object of a type the lexicon leaves open (`unknown`). */
export type UnknownObject = { [key: string]: unknown }

/** A member of an open union whose `$type` this SDK does not know. */
export interface UnknownTyped {
  $type: string
  [key: string]: unknown
}

/** `T` with its `$type` required, as union members must carry it. */
export type $Typed<T extends { $type?: string }> = T & { $type: NonNullable<T['$type']> }

/** The CID of a blob, whichever form it is in. */
export function blobCid(blob: BlobRef): string {
  return 'ref' in blob ? blob.ref.$link : blob.cid
}

/** The params of an endpoint that takes none. */
export type NoParams = { [key: string]: never }
