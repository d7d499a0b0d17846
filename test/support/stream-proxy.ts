import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
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

  wss.on('connection', (client, request) => {
    const url = new URL(request.url ?? '/', 'http://proxy')
    queries.push(url.searchParams)
    const remote = new WebSocket(upstreamWs + url.pathname + url.search)
    let stalled = false
    const closeBoth = () => {
      remote.terminate()
      client.terminate()
    }
    remote.on('message', (data: Buffer, isBinary) => {
      if (stalled || client.readyState !== WebSocket.OPEN) return
      let bytes = data
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
    })
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
