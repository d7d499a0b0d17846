import { decodeFirst } from '@atcute/cbor'
import { BlueskySDKError } from '../../runtime/errors.js'

/**
 * An XRPC event-stream frame: two DAG-CBOR values back to back, a header (`{ op: 1, t: '#commit' }`
 * for a message, `{ op: -1 }` for an error) and a body. See the atproto spec's "Event Stream".
 */
export type Frame =
  | {
      op: 1
      /** The message's `$type`: the header's `t`, made absolute (`#commit` → `<nsid>#commit`). */ type: string
      body: Record<string, unknown>
    }
  | { op: -1; error: string; message: string | undefined }

/** Why a frame cannot be read (not two CBOR values, a header of no known shape, a body that is not an object); the cause of an InvalidMessageError. */
export class InvalidFrameError extends Error {
  override name = 'InvalidFrameError'
}

export function decodeFrame(nsid: string, bytes: Uint8Array): Frame {
  let header: unknown, body: unknown, rest: Uint8Array
  try {
    ;[header, rest] = decodeFirst(bytes)
    ;[body, rest] = decodeFirst(rest)
  } catch (error) {
    throw new InvalidFrameError(`not DAG-CBOR (${error instanceof Error ? error.message : String(error)})`)
  }
  if (rest.length !== 0) throw new InvalidFrameError(`${rest.length} bytes after the body`)
  if (!isObject(header)) throw new InvalidFrameError('the header is not an object')
  if (!isObject(body)) throw new InvalidFrameError('the body is not an object')
  if (header.op === 1) {
    const t = header.t
    if (typeof t !== 'string' || t === '' || t === '#') throw new InvalidFrameError('a message header without its type')
    return { op: 1, type: t.startsWith('#') ? nsid + t : t, body }
  }
  if (header.op === -1) {
    const { error, message } = body
    if (typeof error !== 'string' || error === '') throw new InvalidFrameError('an error frame without its error name')
    return { op: -1, error, message: typeof message === 'string' ? message : undefined }
  }
  throw new InvalidFrameError(`unknown op ${JSON.stringify(header.op)}`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}
