import type { WebSocketConstructor, WebSocketLike } from '../../runtime/subscription.js'

/** The constructor to use: the one given, else the global one; undefined where there is neither (Node 20). */
export function webSocketClass(given: WebSocketConstructor | undefined): WebSocketConstructor | undefined {
  return given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
}

/** Opens `url`, with `ws`'s own frame size limit where the class is `ws` (it refuses a larger frame itself). */
export function openSocket(Class: WebSocketConstructor, url: string, maxFrameBytes: number): WebSocketLike {
  const isWs = typeof (Class.prototype as WebSocketLike).pause === 'function'
  const socket = isWs
    ? new Class(url, undefined, { maxPayload: maxFrameBytes, perMessageDeflate: false })
    : new Class(url)
  // ws hands over its own Buffer (a Uint8Array) with `nodebuffer`; `arraybuffer` would copy every frame.
  socket.binaryType = isWs ? 'nodebuffer' : 'arraybuffer'
  return socket
}

/** The http(s) URL of an XRPC call as the ws(s) URL of the same subscription (a ws(s) service stays as it is). */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl)
  if (url.protocol === 'http:') url.protocol = 'ws:'
  else if (url.protocol === 'https:') url.protocol = 'wss:'
  return url.toString()
}

/**
 * A frame's bytes: binary frames arrive as an ArrayBuffer (or a Buffer, from `ws`); text frames are
 * not frames. A Buffer is viewed as a plain Uint8Array (no copy): decoding slices it hundreds of
 * times per frame, and a Buffer's `subarray` makes a Buffer, several times the cost.
 */
export function frameBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array)
    return data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return undefined
}
