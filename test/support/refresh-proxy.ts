import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback server in front of the test PDS that forwards every call, with two faults the PDS
 * itself cannot be made to show: `singleUse` refuses a refresh token that has been used before, as
 * servers without the reference PDS's 2-hour grace period do; `dropRefreshAnswers` forwards that
 * many refreshes to the PDS (which rotates the token) and then hangs up instead of answering.
 */
export interface RefreshProxy {
  url: string
  /** Every call received: NSID and the status answered (0 for a dropped answer). */
  hits: { nsid: string; status: number }[]
  count(nsid: string): number
  close(): Promise<void>
}

const REFRESH = 'com.atproto.server.refreshSession'

export async function startRefreshProxy(
  pdsUrl: string,
  { singleUse = false, dropRefreshAnswers = 0 }: { singleUse?: boolean; dropRefreshAnswers?: number } = {},
): Promise<RefreshProxy> {
  const hits: RefreshProxy['hits'] = []
  const used = new Set<string>()
  let dropped = 0
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const nsid = new URL(req.url!, 'http://localhost').pathname.replace(/^\/xrpc\//, '')
    const hit = { nsid, status: 0 }
    hits.push(hit)
    const token = req.headers.authorization?.replace(/^Bearer /, '')
    if (nsid === REFRESH && singleUse && token) {
      if (used.has(token)) {
        hit.status = 400
        res.writeHead(400, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 'ExpiredToken', message: 'Token has been revoked' }))
        return
      }
      used.add(token)
    }
    const headers: Record<string, string> = {}
    for (const name of ['content-type', 'authorization'] as const)
      if (req.headers[name]) headers[name] = req.headers[name] as string
    const upstream = await fetch(new URL(req.url!, pdsUrl), {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    })
    const body = Buffer.from(await upstream.arrayBuffer())
    if (nsid === REFRESH && dropped < dropRefreshAnswers) {
      dropped++
      res.socket?.destroy() // the PDS has rotated the token; the client never hears of it
      return
    }
    hit.status = upstream.status
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    count: (nsid) => hits.filter((hit) => hit.nsid === nsid).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
