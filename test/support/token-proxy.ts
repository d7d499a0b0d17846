import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback server in front of the test PDS that hands the client other tokens than the PDS
 * issues, as servers the SDK must cope with do: opaque strings, JWTs without `exp`, or tokens and a
 * `Date` header from a clock hours off. Every call is forwarded to the PDS, each token the client
 * sends translated back to the real one it stands for, so the PDS judges them as it would its own.
 */
export interface TokenProxy {
  url: string
  /** Every call the proxy forwarded: NSID and the PDS's status. */
  hits: { nsid: string; status: number }[]
  /** From now on the PDS sees `token` (one the client holds) as `replacement` (say, an expired re-mint of it). */
  replace(token: string, replacement: (real: string) => string): void
  /** From now on the PDS sees `token` (one the test made) as the real token behind `as`. */
  alias(token: string, as: string): void
  close(): Promise<void>
}

export interface TokenProxyOptions {
  /** What the client gets instead of each token the PDS issues. */
  disguise: (token: string) => string
  /** Added to the `Date` of every answer: the proxy's clock is this far from the PDS's (default 0). */
  clockOffsetMs?: number
}

export async function startTokenProxy(
  pdsUrl: string,
  { disguise, clockOffsetMs = 0 }: TokenProxyOptions,
): Promise<TokenProxy> {
  const real = new Map<string, string>()
  const hits: TokenProxy['hits'] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers: Record<string, string> = {}
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type']
    const bearer = req.headers.authorization?.replace(/^Bearer /, '')
    if (bearer) headers.authorization = `Bearer ${real.get(bearer) ?? bearer}`
    const upstream = await fetch(new URL(req.url!, pdsUrl), {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    })
    hits.push({ nsid: new URL(req.url!, pdsUrl).pathname.replace(/^\/xrpc\//, ''), status: upstream.status })
    const text = await upstream.text()
    let body = text
    if (upstream.headers.get('content-type')?.startsWith('application/json')) {
      const json = JSON.parse(text) as Record<string, unknown>
      for (const field of ['accessJwt', 'refreshJwt']) {
        if (typeof json[field] !== 'string') continue
        const shown = disguise(json[field])
        real.set(shown, json[field])
        json[field] = shown
      }
      body = JSON.stringify(json)
    }
    const date = Date.parse(upstream.headers.get('date') ?? '') || Date.now()
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      date: new Date(date + clockOffsetMs).toUTCString(),
    })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    replace(token, replacement) {
      real.set(token, replacement(real.get(token) ?? token))
    },
    alias(token, as) {
      real.set(token, real.get(as) ?? as)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
