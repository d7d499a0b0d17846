import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback login server in front of the test PDS, like an entryway (bsky.social) in front of the
 * PDS that hosts an account: it forwards `createSession` and `refreshSession` to the PDS and adds
 * the account's DID document to the answer (the PDS of the test network does not: its
 * `enableDidDocWithSession` is off); every other call is refused with 501. A client whose `service`
 * is this server can only work by sending its data calls to the PDS the DID document names.
 *
 * With `authFactorToken`, it wants a second factor, as an entryway does for an account with email
 * two-factor login (the test PDS has no such accounts): `createSession` without it is refused with
 * AuthFactorTokenRequired, with another one with InvalidToken.
 */
export interface Entryway {
  url: string
  /** The NSID of every request this server received, in order. */
  hits: string[]
  /** The `authFactorToken` of every createSession, in order. */
  factorTokens: (string | undefined)[]
  close(): Promise<void>
}

export interface EntrywayOptions {
  authFactorToken?: string
}

const LOGIN_CALLS = new Set(['com.atproto.server.createSession', 'com.atproto.server.refreshSession'])

export async function startEntryway(pdsUrl: string, plcUrl: string, options: EntrywayOptions = {}): Promise<Entryway> {
  const hits: string[] = []
  const factorTokens: (string | undefined)[] = []
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
    if (nsid === 'com.atproto.server.createSession') {
      const { authFactorToken } = JSON.parse(Buffer.concat(chunks).toString()) as { authFactorToken?: string }
      factorTokens.push(authFactorToken)
      if (options.authFactorToken !== undefined && authFactorToken === undefined)
        return reply(401, { error: 'AuthFactorTokenRequired', message: 'A sign in code has been sent to your email' })
      if (options.authFactorToken !== undefined && authFactorToken !== options.authFactorToken)
        return reply(400, { error: 'InvalidToken', message: 'Token is invalid' })
    }
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
    factorTokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
