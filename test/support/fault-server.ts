import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A real HTTP server on loopback for the faults a real PDS cannot be made to show: delays, dropped
 * connections, 503s, malformed and truncated bodies. Each test scripts the answers; the server
 * records every request it got.
 */
export interface RecordedRequest {
  method: string
  url: URL
  headers: IncomingMessage['headers']
  body: Buffer
}

export type Handler = (request: RecordedRequest, response: ServerResponse, index: number) => void | Promise<void>

export interface FaultServer {
  url: string
  requests: RecordedRequest[]
  /** Connections opened since the last `script`. */
  connections(): number
  /** The most requests it was answering at once since the last `script`. */
  maxInFlight(): number
  /** Answers the next requests in order with these handlers; the last one repeats. */
  script(...handlers: Handler[]): void
  close(): Promise<void>
}

export async function startFaultServer(): Promise<FaultServer> {
  let handlers: Handler[] = [json(200, {})]
  const requests: RecordedRequest[] = []
  let connections = 0
  let inFlight = 0
  let maxInFlight = 0
  const server = createServer(async (req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.once('close', () => inFlight--)
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const recorded = {
      method: req.method!,
      url: new URL(req.url!, 'http://localhost'),
      headers: req.headers,
      body: Buffer.concat(chunks),
    }
    requests.push(recorded)
    const index = requests.length - 1
    await handlers[Math.min(index, handlers.length - 1)](recorded, res, index)
  })
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    maxInFlight: () => maxInFlight,
    script(...next) {
      handlers = next
      requests.length = 0
      connections = 0
      maxInFlight = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
}

export function raw(status: number, body: string, contentType = 'text/html'): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType })
    res.end(body)
  }
}

/** Closes the connection without answering. */
export const drop: Handler = (_req, res) => {
  res.socket?.destroy()
}

/** Promises a long body, sends part of it, then hangs up. */
export const truncated: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
  res.write('{"did": "did:plc:abc", "availableUserDom')
  setTimeout(() => res.socket?.destroy(), 20)
}

export function delayed(ms: number, then: Handler): Handler {
  return async (req, res, index) => {
    await new Promise((resolve) => setTimeout(resolve, ms))
    if (!res.destroyed) await then(req, res, index)
  }
}

/**
 * An error answer whose body never ends: chunks of a JSON-looking error for as long as the client
 * reads (at most `maxBytes`, so the server stops by itself). `written()` says how much went out.
 */
export function endlessError(status: number, maxBytes = 64 * 1024 * 1024): Handler & { written(): number } {
  let written = 0
  const handler: Handler = async (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    const chunk = Buffer.alloc(16 * 1024, ' ')
    res.write('{"error": "Endless", "message": "')
    while (!res.destroyed && written < maxBytes) {
      written += chunk.length
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve))
    }
    res.end()
  }
  return Object.assign(handler, { written: () => written })
}
