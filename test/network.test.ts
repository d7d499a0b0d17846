// The local AT Protocol network helper (test/network): a real PLC + PDS, and PLC + PDS + AppView
// (PostgreSQL; skipped with a notice where none answers, required when CI=true).
import { existsSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeAppview } from './network/describe-appview.js'
import { boundServers, startNetwork, type TestNetwork } from './network/index.js'

async function xrpc(
  base: string,
  nsid: string,
  init: { token?: string; body?: unknown; query?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const url = new URL(`/xrpc/${nsid}`, base)
  for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value)
  const headers: Record<string, string> = {}
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} }
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

/** Starts a network, logging how long it took and the process's RSS (the numbers in the report). */
async function timedStart(label: string, options: Parameters<typeof startNetwork>[0]) {
  const before = process.memoryUsage().rss
  const started = performance.now()
  const network = await startNetwork(options)
  const rss = process.memoryUsage().rss
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
  console.log(
    `${label}: started in ${Math.round(performance.now() - started)} ms, RSS ${mb(rss)} MiB (+${mb(rss - before)} MiB)`,
  )
  return network
}

const port = (url: string) => Number(new URL(url).port)

describe('local network without AppView', () => {
  let network: TestNetwork
  let firstServer: number

  beforeAll(async () => {
    firstServer = boundServers.length
    network = await timedStart('PLC + PDS', {})
  })
  afterAll(() => network?.close())

  it('answers describeServer over plain fetch', async () => {
    const res = await xrpc(network.pdsUrl, 'com.atproto.server.describeServer')
    expect(res.status).toBe(200)
    expect(res.body.availableUserDomains).toEqual(expect.arrayContaining(['.test']))
    expect(res.body.did).toMatch(/^did:/)
  })

  it('creates accounts with tokens, and refuses a wrong password', async () => {
    const alice = await network.createAccount('alice')
    expect(alice).toMatchObject({ handle: 'alice.test', did: expect.stringMatching(/^did:plc:/) })
    expect(alice.accessJwt.split('.')).toHaveLength(3)
    expect(alice.refreshJwt.split('.')).toHaveLength(3)

    const ok = await xrpc(network.pdsUrl, 'com.atproto.server.createSession', {
      body: { identifier: alice.handle, password: alice.password },
    })
    expect(ok.status).toBe(200)
    expect(ok.body.did).toBe(alice.did)
    expect(ok.headers.get('ratelimit-limit')).toBeNull() // rate limits are off unless asked for

    const wrong = await xrpc(network.pdsUrl, 'com.atproto.server.createSession', {
      body: { identifier: alice.handle, password: 'not-the-password' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error).toBe('AuthenticationRequired')
  })

  it('keeps app.bsky preferences without an AppView', async () => {
    const bob = await network.createAccount()
    const preferences = [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }]
    const put = await xrpc(network.pdsUrl, 'app.bsky.actor.putPreferences', {
      token: bob.accessJwt,
      body: { preferences },
    })
    expect(put.status).toBe(200)
    const got = await xrpc(network.pdsUrl, 'app.bsky.actor.getPreferences', { token: bob.accessJwt })
    expect(got.status).toBe(200)
    expect(got.body.preferences).toEqual(preferences)
  })

  it('exposes the JWT secret: a token minted with a past exp is ExpiredToken', async () => {
    const carol = await network.createAccount()
    const res = await xrpc(network.pdsUrl, 'app.bsky.actor.getPreferences', {
      token: network.reissueToken(carol.accessJwt, Math.floor(Date.now() / 1000) - 60),
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('ExpiredToken')
  })

  it('binds every server to 127.0.0.1, and close() leaves nothing listening and no temp dir', async () => {
    const servers = boundServers.slice(firstServer)
    expect(servers.map((s) => s.address.port)).toEqual(
      expect.arrayContaining([port(network.pdsUrl), port(network.plcUrl)]),
    )
    for (const { address } of servers) expect(address.address).toBe('127.0.0.1')
    expect(existsSync(network.dataDir)).toBe(true)

    await network.processAll() // without an AppView: the PDS's background queue only
    await network.close()
    for (const { server } of servers) expect(server.listening).toBe(false)
    for (const url of [network.pdsUrl, network.plcUrl]) expect(await accepts(port(url))).toBe(false)
    expect(existsSync(network.dataDir)).toBe(false)
  })
})

describe('local network with rate limits', () => {
  let network: TestNetwork
  beforeAll(async () => {
    network = await startNetwork({ rateLimits: true })
  })
  afterAll(() => network?.close())

  it('reports the PDS rate limits on createSession', async () => {
    const dave = await network.createAccount()
    const res = await xrpc(network.pdsUrl, 'com.atproto.server.createSession', {
      body: { identifier: dave.handle, password: dave.password },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('ratelimit-limit')).toBe('30')
    expect(Number(res.headers.get('ratelimit-remaining'))).toBeLessThan(30)
  })
})

describeAppview('local network with AppView (needs PostgreSQL)', () => {
  let network: TestNetwork
  let firstServer: number

  beforeAll(async () => {
    firstServer = boundServers.length
    network = await timedStart('PLC + PDS + AppView + Ozone', { appview: true })
  })
  afterAll(() => network?.close())

  it('indexes a follow and serves the follower count through the PDS', async () => {
    const [alice, bob] = [await network.createAccount(), await network.createAccount()]
    const follow = await xrpc(network.pdsUrl, 'com.atproto.repo.createRecord', {
      token: alice.accessJwt,
      body: {
        repo: alice.did,
        collection: 'app.bsky.graph.follow',
        record: { $type: 'app.bsky.graph.follow', subject: bob.did, createdAt: new Date().toISOString() },
      },
    })
    expect(follow.status).toBe(200)
    expect(follow.body.uri).toMatch(/^at:\/\/did:plc:.+\/app\.bsky\.graph\.follow\//)

    await network.processAll()
    const profile = await xrpc(network.pdsUrl, 'app.bsky.actor.getProfile', {
      token: alice.accessJwt,
      query: { actor: bob.did },
    })
    expect(profile.status).toBe(200)
    expect(profile.body).toMatchObject({ did: bob.did, handle: bob.handle, followersCount: 1 })
  })

  it('binds every server to 127.0.0.1, and close() leaves nothing listening and no temp dir', async () => {
    const servers = boundServers.slice(firstServer)
    expect(servers.length).toBeGreaterThanOrEqual(5) // PLC, PDS, AppView, its dataplane and bsync, Ozone
    for (const { address } of servers) expect(address.address).toBe('127.0.0.1')

    await network.close()
    for (const { server } of servers) expect(server.listening).toBe(false)
    for (const url of [network.pdsUrl, network.plcUrl, network.appviewUrl!])
      expect(await accepts(port(url))).toBe(false)
    expect(existsSync(network.dataDir)).toBe(false)
  })
})
