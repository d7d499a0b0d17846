import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { fromUint8Array, writeCarStream } from '@atcute/car'
import { BytesWrapper, decode, decodeFirst, encode } from '@atcute/cbor'
import { CidLinkWrapper, create } from '@atcute/cid'
import WebSocket, { WebSocketServer } from 'ws'

/**
 * A WebSocket proxy on loopback in front of a real server's event stream, for the faults the real
 * one cannot be made to show: it forwards every frame of the upstream stream (same path and query)
 * until told to drop the connection, stall it (read and forward nothing, answer no ping), or
 * corrupt a frame.
 */
export interface StreamProxy {
  /** The proxy's http URL: a client's `service`. */
  url: string
  /** Connections the proxy took since it started. */
  connections(): number
  /** The query strings of those connections (the cursor each one resumed after). */
  queries(): URLSearchParams[]
  /** Frames forwarded to clients. */
  forwarded(): number
  /** Terminates the client's connection once `n` more frames have been forwarded. */
  dropAfter(n: number): void
  /** After `n` more frames, the current connection goes silent: nothing forwarded, nothing read (no pongs). */
  stallAfter(n: number): void
  /** The frame after the next `n` goes out with its bytes mangled (`garble`) or cut short (`truncate`). */
  corruptAfter(n: number, how?: 'garble' | 'truncate'): void
  /**
   * The first commit creating a record after the next `n` frames goes out as a well-formed frame
   * that lies: its record's bytes changed under the same CID (`record`), its op pointing at another
   * CID (`op`), or its commit re-signed with random bytes and re-addressed, CAR and all (`signature`);
   * or the first `#labels` message with its first label's value changed (`label`).
   */
  tamperAfter(n: number, how: Tampering): void
  /** After `n` more frames, sends an error frame (`{ op: -1 }`, `{ error, message }`) and closes, as a server ending a stream does. */
  errorAfter(n: number, error: string): void
  /** After `n` more frames, closes the stream normally (1000), as a server with nothing more to send. */
  endAfter(n: number): void
  close(): Promise<void>
}

export async function startStreamProxy(upstream: string): Promise<StreamProxy> {
  const upstreamWs = upstream.replace(/^http/, 'ws').replace(/\/$/, '')
  const server = createServer((_req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ server })
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const queries: URLSearchParams[] = []
  let forwarded = 0
  let fault: { at: number; kind: 'drop' | 'stall' | 'garble' | 'truncate' } | undefined
  let tampering: { at: number; how: Tampering } | undefined
  let ending: { at: number; error: string | undefined } | undefined

  wss.on('connection', (client, request) => {
    const url = new URL(request.url ?? '/', 'http://proxy')
    queries.push(url.searchParams)
    const remote = new WebSocket(upstreamWs + url.pathname + url.search)
    let stalled = false
    const closeBoth = () => {
      remote.terminate()
      client.terminate()
    }
    // Frames go out in order, each after the one before (tampering is asynchronous).
    let sending = Promise.resolve()
    remote.on('message', (data: Buffer, isBinary) => {
      sending = sending.then(() => forward(data, isBinary))
    })
    const forward = async (data: Buffer, isBinary: boolean) => {
      if (stalled || client.readyState !== WebSocket.OPEN) return
      let bytes: Buffer | Uint8Array = data
      if (ending && forwarded >= ending.at) {
        const { error } = ending
        ending = undefined
        if (error)
          client.send(Buffer.concat([encode({ op: -1 }), encode({ error, message: `${error} (from the proxy)` })]))
        client.close(error ? 1008 : 1000)
        remote.terminate()
        return
      }
      if (tampering && forwarded >= tampering.at) {
        const lie = await tamper(data, tampering.how)
        if (lie) {
          tampering = undefined
          bytes = lie
        }
      }
      if (fault && forwarded >= fault.at) {
        const { kind } = fault
        fault = undefined
        if (kind === 'drop') return closeBoth()
        if (kind === 'stall') {
          stalled = true
          // Read nothing more from the client: its pings go unanswered, as on a dead path.
          ;(client as unknown as { _socket: Socket })._socket.pause()
          remote.pause()
          return
        }
        bytes = kind === 'truncate' ? data.subarray(0, Math.floor(data.length / 2)) : garble(data)
      }
      forwarded++
      client.send(bytes, { binary: isBinary })
    }
    remote.on('close', (code, reason) => {
      if (client.readyState === WebSocket.OPEN) client.close(code === 1005 ? 1000 : code, reason)
    })
    remote.on('error', () => client.terminate())
    client.on('close', () => remote.terminate())
    client.on('error', () => remote.terminate())
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => queries.length,
    queries: () => queries,
    forwarded: () => forwarded,
    dropAfter: (n) => void (fault = { at: forwarded + n, kind: 'drop' }),
    stallAfter: (n) => void (fault = { at: forwarded + n, kind: 'stall' }),
    corruptAfter: (n, how = 'garble') => void (fault = { at: forwarded + n, kind: how }),
    tamperAfter: (n, how) => void (tampering = { at: forwarded + n, how }),
    errorAfter: (n, error) => void (ending = { at: forwarded + n, error }),
    endAfter: (n) => void (ending = { at: forwarded + n, error: undefined }),
    close: async () => {
      for (const client of wss.clients) client.terminate()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The frame with its header's first byte made a CBOR break code: no decoder reads it. */
function garble(data: Buffer): Buffer {
  const copy = Buffer.from(data)
  copy[0] = 0xff
  return copy
}

export type Tampering = 'record' | 'op' | 'signature' | 'label'

interface CommitBody {
  commit: CidLinkWrapper
  blocks: BytesWrapper
  ops: { action: string; path: string; cid: CidLinkWrapper | null }[]
  [key: string]: unknown
}

/** The frame re-encoded with one lie in it, or undefined if it is not a commit creating a record. */
async function tamper(frame: Uint8Array, how: Tampering): Promise<Uint8Array | undefined> {
  const [header, rest] = decodeFirst(frame) as [{ op: number; t?: string }, Uint8Array]
  if (how === 'label') {
    if (header.op !== 1 || header.t !== '#labels') return undefined
    const labels = decode(rest) as { labels: { val: string }[] }
    labels.labels[0].val = 'not-what-was-signed'
    return Buffer.concat([encode(header), encode(labels)])
  }
  if (header.op !== 1 || header.t !== '#commit') return undefined
  const body = decode(rest) as CommitBody
  const op = body.ops.find((o) => o.action === 'create' && o.cid)
  if (!op) return undefined
  const car = fromUint8Array(body.blocks.buf)
  const blocks = [...car].map((entry) => ({ cid: entry.cid.bytes, data: entry.bytes }))
  const sameCid = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
  let roots = car.roots
  if (how === 'op') op.cid = body.commit
  if (how === 'record') {
    const block = blocks.find((b) => sameCid(b.cid, op.cid!.bytes))!
    block.data = encode({ ...(decode(block.data) as object), text: 'not what was signed' })
  }
  if (how === 'signature') {
    const block = blocks.find((b) => sameCid(b.cid, body.commit.bytes))!
    const commit = decode(block.data) as Record<string, unknown>
    block.data = encode({ ...commit, sig: new BytesWrapper(randomBytes(64)) })
    const cid = await create(0x71, block.data)
    block.cid = cid.bytes
    body.commit = new CidLinkWrapper(cid.bytes)
    roots = [body.commit]
  }
  const chunks: Uint8Array[] = []
  for await (const chunk of writeCarStream(roots, blocks)) chunks.push(chunk)
  body.blocks = new BytesWrapper(Buffer.concat(chunks))
  return Buffer.concat([encode(header), encode(body)])
}
