import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback login server in front of the test PDS, like an entryway (bsky.social) in front of the
 * PDS that hosts an account: it forwards `createSession` and `refreshSession` to the PDS and adds
 * the account's DID document to the answer (the PDS of the test network does not: its
 * `enableDidDocWithSession` is off); every other call is refused with 501. A client whose `service`
 * is this server can only work by sending its data calls to the PDS the DID document names.
 */
export interface Entryway {
  url: string
  /** The NSID of every request this server received, in order. */
  hits: string[]
  close(): Promise<void>
}

const LOGIN_CALLS = new Set(['com.atproto.server.createSession', 'com.atproto.server.refreshSession'])

export async function startEntryway(pdsUrl: string, plcUrl: string): Promise<Entryway> {
  const hits: string[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const nsid = new URL(req.url!, 'http://localhost').pathname.replace(/^\/xrpc\//, '')
    hits.push(nsid)
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (!LOGIN_CALLS.has(nsid)) return reply(501, { error: 'MethodNotImplemented', message: 'login only' })
    const headers: Record<string, string> = {}
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type']
    if (req.headers.authorization) headers.authorization = req.headers.authorization
    const upstream = await fetch(new URL(req.url!, pdsUrl), {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    })
    const body = (await upstream.json()) as { did?: string }
    if (upstream.ok && body.did) {
      const didDoc = await (await fetch(`${plcUrl}/${body.did}`)).json()
      return reply(200, { ...body, didDoc })
    }
    reply(upstream.status, body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
