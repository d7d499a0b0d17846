/** Reading media for posts: from bytes, a Blob or a file path, and what the bytes say they are. */

import { PostInputError } from './errors.js'

export type MediaInput = Uint8Array | ArrayBuffer | Blob | string

/** The bytes of a media input; a string is a file path (Node only). */
export async function readMedia(input: MediaInput): Promise<{ bytes: Uint8Array; mimeType?: string }> {
  if (input instanceof Uint8Array) return { bytes: input }
  if (input instanceof ArrayBuffer) return { bytes: new Uint8Array(input) }
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    return { bytes: new Uint8Array(await input.arrayBuffer()), mimeType: input.type || undefined }
  }
  // Node's file system through process.getBuiltinModule (Node 20.16+), not an import: an import of
  // node:fs, even a dynamic one, fails every browser build at default settings.
  const fs = globalThis.process?.getBuiltinModule?.('node:fs/promises')
  if (!fs) throw new PostInputError('a file path needs Node.js to read it: pass the bytes or a Blob instead')
  return { bytes: new Uint8Array(await fs.readFile(input as string)) }
}

export interface MediaInfo {
  mimeType: string
  width?: number
  height?: number
}

/** The type (and for images, the pixel size) from a file's first bytes: PNG, JPEG, GIF, WebP, MP4. */
export function sniffMedia(bytes: Uint8Array): MediaInfo | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length))
  if (bytes.length >= 24 && view.getUint32(0) === 0x89504e47) {
    return { mimeType: 'image/png', width: view.getUint32(16), height: view.getUint32(20) }
  }
  if (bytes.length >= 10 && ascii(0, 4) === 'GIF8') {
    return { mimeType: 'image/gif', width: view.getUint16(6, true), height: view.getUint16(8, true) }
  }
  if (bytes.length >= 4 && view.getUint16(0) === 0xffd8) return { mimeType: 'image/jpeg', ...jpegSize(view) }
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP')
    return { mimeType: 'image/webp', ...webpSize(view, ascii) }
  if (bytes.length >= 12 && ascii(4, 4) === 'ftyp') return { mimeType: 'video/mp4' }
  return undefined
}

function jpegSize(view: DataView): { width?: number; height?: number } {
  // Walk the segments to a start-of-frame marker (SOF0–SOF15, but not DHT, JPG or DAC).
  let offset = 2
  while (offset + 9 < view.byteLength) {
    if (view.getUint8(offset) !== 0xff) return {}
    const marker = view.getUint8(offset + 1)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) }
    }
    offset += 2 + view.getUint16(offset + 2)
  }
  return {}
}

function webpSize(view: DataView, ascii: (at: number, length: number) => string): { width?: number; height?: number } {
  const chunk = ascii(12, 4)
  if (chunk === 'VP8X')
    return { width: 1 + (view.getUint32(24, true) & 0xffffff), height: 1 + (view.getUint32(27, true) & 0xffffff) }
  if (chunk === 'VP8 ') return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff }
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true)
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) }
  }
  return {}
}
