import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Client,
  DidDocumentInvalidError,
  HandleConflictError,
  HandleMismatchError,
  HandleNotFoundError,
  IdentityResolver,
  PasswordSession,
} from '../src/index.js'
import { nodeDnsTxt } from '../src/node.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { type DnsServer, dnsmasqProblem, startDnsServer } from './support/dns-server.js'

/**
 * Identity against real servers: a real DNS server (dnsmasq on loopback) serving `_atproto` TXT
 * records, the local PLC directory and PDS, and a loopback HTTP server standing in for handles'
 * `/.well-known/atproto-did` (the resolver's `wellKnownUrl` points there: the one test-only
 * allowance, since the handles' own HTTPS hosts cannot exist here).
 */

const skip = dnsmasqProblem !== undefined && process.env.CI !== 'true'
if (skip) console.warn(`[skipped] identity tests: ${dnsmasqProblem}`)

let network: TestNetwork
let alice: Account
let bob: Account
let dns: DnsServer
let wellKnown: Server & { url: string; files: Map<string, string>; hits: string[] }

beforeAll(async () => {
  if (skip) return
  network = await startNetwork()
  ;[alice, bob] = await Promise.all([network.createAccount(), network.createAccount()])
  dns = await startDnsServer({
    [`_atproto.${alice.handle}`]: `did=${alice.did}`,
    [`_atproto.both.${bob.handle}`]: `did=${bob.did}`,
    '_atproto.conflict.test': `did=${alice.did}`,
    '_atproto.imposter.test': `did=${alice.did}`,
  })
  const files = new Map<string, string>([
    [bob.handle, bob.did],
    [`both.${bob.handle}`, bob.did],
    ['conflict.test', bob.did],
  ])
  const hits: string[] = []
  const server = createServer((req, res) => {
    const handle = new URL(req.url!, 'http://localhost').pathname.split('/')[1]
    hits.push(handle)
    const did = files.get(handle)
    res.writeHead(did ? 200 : 404, { 'content-type': 'text/plain' })
    res.end(did ?? 'not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  wellKnown = Object.assign(server, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files,
    hits,
  })
})
afterAll(async () => {
  await dns?.close()
  await new Promise((resolve) => (wellKnown ? wellKnown.close(resolve) : resolve(undefined)))
  await network?.close()
})

function resolver(options: ConstructorParameters<typeof IdentityResolver>[0] = {}) {
  return new IdentityResolver({
    plcUrl: network.plcUrl,
    txt: nodeDnsTxt({ servers: [dns.address] }),
    wellKnownUrl: (handle) => `${wellKnown.url}/${handle}/.well-known/atproto-did`,
    ...options,
  })
}

describe.skipIf(skip)('identity resolution', () => {
  it('DNS only: the handle’s TXT record, its DID’s document naming it back, and the PDS', async () => {
    const identity = await resolver().resolve(alice.handle.toUpperCase())
    expect(identity).toMatchObject({ did: alice.did, handle: alice.handle })
    expect(identity.pds).toBe(`${network.pdsUrl}/`)
    expect(identity.signingKey).toMatch(/^z/)
    expect(identity.document.id).toBe(alice.did)
  })

  it('HTTPS only, and both methods agreeing', async () => {
    expect(await resolver().resolveHandle(bob.handle)).toBe(bob.did)
    expect(await resolver().resolveHandle(`both.${bob.handle}`)).toBe(bob.did)
  })

  it('both disagreeing is a conflict, not a guess', async () => {
    const error = await resolver()
      .resolveHandle('conflict.test')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HandleConflictError)
    expect((error as HandleConflictError).dids.sort()).toEqual([alice.did, bob.did].sort())
  })

  it('a handle neither method knows is not found', async () => {
    await expect(resolver().resolveHandle('nobody.test')).rejects.toBeInstanceOf(HandleNotFoundError)
    await expect(resolver().resolve('not a handle')).rejects.toBeInstanceOf(HandleNotFoundError)
  })

  it('a handle whose DID’s document does not name it back is refused; from the DID, the document’s own handle', async () => {
    await expect(resolver().resolve('imposter.test')).rejects.toBeInstanceOf(HandleMismatchError)
    expect(await resolver().resolve(alice.did)).toMatchObject({ did: alice.did, handle: alice.handle })
    // bob's handle resolves over HTTPS only: verified from the DID as well.
    expect(await resolver().resolve(bob.did)).toMatchObject({ did: bob.did, handle: bob.handle })
  })

  it('did:web from its host, and a document that is not the DID’s own is refused', async () => {
    let own = true
    const host = createServer((req, res) => {
      const { port } = host.address() as AddressInfo
      const did = `did:web:127.0.0.1%3A${port}`
      res.writeHead(req.url === '/.well-known/did.json' ? 200 : 404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: own ? did : 'did:web:someone.else', alsoKnownAs: ['at://web.test'] }))
    })
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve))
    try {
      const did = `did:web:127.0.0.1%3A${(host.address() as AddressInfo).port}`
      expect(await resolver().resolveDid(did)).toMatchObject({ id: did, alsoKnownAs: ['at://web.test'] })
      own = false
      await expect(resolver().resolveDid(did)).rejects.toBeInstanceOf(DidDocumentInvalidError)
    } finally {
      host.close()
    }
  })

  it('caches answers, serves a stale one while asking again, and asks again once expired', async () => {
    const fresh = resolver({ ttlMs: 60_000 })
    wellKnown.hits.length = 0
    await fresh.resolveHandle(bob.handle)
    await fresh.resolveHandle(bob.handle)
    expect(wellKnown.hits).toEqual([bob.handle]) // the second from the cache

    const stale = resolver({ ttlMs: 1, staleMs: 60_000 })
    await stale.resolveHandle(bob.handle)
    await new Promise((resolve) => setTimeout(resolve, 10))
    wellKnown.hits.length = 0
    wellKnown.files.set(bob.handle, alice.did) // the handle moved
    expect(await stale.resolveHandle(bob.handle)).toBe(bob.did) // stale, at once…
    // …asked again meanwhile: the fresh answer is served once it is in.
    let answer = bob.did
    for (let i = 0; i < 100 && answer === bob.did; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      answer = await stale.resolveHandle(bob.handle)
    }
    expect(answer).toBe(alice.did)
    expect(wellKnown.hits[0]).toBe(bob.handle)

    const expired = resolver({ ttlMs: 1, staleMs: 0 })
    wellKnown.files.set(bob.handle, bob.did)
    await expired.resolveHandle(bob.handle)
    await new Promise((resolve) => setTimeout(resolve, 10))
    wellKnown.hits.length = 0
    expect(await expired.resolveHandle(bob.handle)).toBe(bob.did)
    expect(wellKnown.hits).toEqual([bob.handle])
  })
})

describe.skipIf(skip)('log in by handle anywhere', () => {
  it('finds the PDS from the handle when the session has no service, and logs in there', async () => {
    const session = new PasswordSession({ identity: resolver() })
    const client = new Client({ auth: session })
    await session.authenticate(alice.handle, alice.password)
    expect(session.toJSON()).toMatchObject({ service: `${network.pdsUrl}/`, session: { did: alice.did } })
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
  })

  it('with a client of its own, by handle, and refuses an email without a service', async () => {
    const session = new PasswordSession({ identity: resolver() })
    await expect(session.authenticate(alice.email, alice.password)).rejects.toThrow(/needs the service/)
    await expect(session.authenticate('imposter.test', alice.password)).rejects.toBeInstanceOf(HandleMismatchError)
  })
})
