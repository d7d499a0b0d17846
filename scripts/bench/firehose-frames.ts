/**
 * The firehose bench's recording on disk: each frame as a 4-byte big-endian length, then its bytes;
 * beside it, the DID documents of the repos the frames name (as the PLC directory served them), by DID.
 */
import { readFile, writeFile } from 'node:fs/promises'

export async function writeFrames(file: string, frames: Buffer[]): Promise<void> {
  const out = Buffer.alloc(frames.reduce((sum, frame) => sum + 4 + frame.length, 0))
  let at = 0
  for (const frame of frames) {
    at = out.writeUInt32BE(frame.length, at)
    at += frame.copy(out, at)
  }
  await writeFile(file, out)
}

/** The frames of a recording, each a view into one buffer. */
export async function readFrames(file: string): Promise<Buffer[]> {
  const all = await readFile(file)
  const frames: Buffer[] = []
  for (let at = 0; at < all.length;) {
    const length = all.readUInt32BE(at)
    frames.push(all.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  return frames
}

export type DidDocuments = Record<string, unknown>

export async function writeDocuments(file: string, documents: DidDocuments): Promise<void> {
  await writeFile(file, JSON.stringify(documents))
}

export async function readDocuments(file: string): Promise<DidDocuments> {
  return JSON.parse(await readFile(file, 'utf8')) as DidDocuments
}
