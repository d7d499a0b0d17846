/**
 * Response bodies read to a limit. A server decides how much it sends; the client decides how much
 * it holds: a body past the limit is cut off (its stream cancelled), not buffered, and a
 * `content-length` already past it is refused before a byte is read.
 */

export type BoundedBody = { bytes: Uint8Array; tooLarge?: undefined } | { bytes?: undefined; tooLarge: true }

export async function readBounded(response: Response, limit: number): Promise<BoundedBody> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > limit) {
    await response.body?.cancel().catch(() => {})
    return { tooLarge: true }
  }
  const reader = response.body?.getReader()
  if (!reader) return { bytes: new Uint8Array(0) }
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength
      if (size > limit) return { tooLarge: true }
      chunks.push(read.value)
    }
  } finally {
    reader.cancel().catch(() => {})
  }
  if (chunks.length === 1) return { bytes: chunks[0] }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return { bytes }
}

/** An XRPC error body is a name and a message: one larger than this is not one, and is not read further. */
const ERROR_BODY_LIMIT = 64 * 1024

/**
 * The `error` and `message` of an error answer, reading at most ERROR_BODY_LIMIT bytes of it (a
 * hostile server's endless error body is cut off, not buffered). Anything else — a proxy's HTML
 * page, a dropped connection, too big a body — gives neither, and the status says enough.
 */
export async function readErrorBody(response: Response): Promise<{ error?: string; message?: string }> {
  try {
    const { bytes } = await readBounded(response, ERROR_BODY_LIMIT)
    if (!bytes) return {}
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { error?: unknown; message?: unknown } | null
    return {
      error: typeof body?.error === 'string' ? body.error : undefined,
      message: typeof body?.message === 'string' ? body.message : undefined,
    }
  } catch {
    return {}
  }
}
