// The session workflow (src/session/*, Client.authenticate/authenticated/logout) against a real PDS
// (test/network): reuse of a saved session, refresh, login fallback, single-flight refresh under
// load, publication order (store, listener, then requests), routing by DID document, and the file
// store. Every request the client makes goes through a recording `fetch` (the `fetch` option), so
// each test counts exactly the createSession / refreshSession calls it caused.
//
// Tokens are minted with the PDS's `jwtSecret` where a test needs an expired one (a real token with
// its `exp` changed and re-signed: the server verifies it like any other) or a revoked refresh token
// (a real one with an unknown `jti`: the PDS finds no row for it and answers ExpiredToken "Token has
// been revoked", as for a token deleted by deleteSession; the real deleteSession is tested too).
import { spawn } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AuthenticationError,
  BearerAuth,
  Client,
  type ClientOptions,
  CreateSessionResponse,
  MemorySessionStore,
  NetworkError,
  OAuthSessionAuth,
  PasswordSession,
  type SessionData,
  type SessionEvent,
  type SessionStore,
  SessionStoreError,
  UsageError,
  XRPCClient,
  XRPCError,
} from '../src/index.js'
import { FileSessionStore } from '../src/node.js'
import { AuthFactorTokenRequiredError } from '../generated/com/atproto/server/createSession.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { mountProblem, mountReadOnly, mountTmpfs, unmount } from './support/mounts.js'
import { startEntryway } from './support/session-entryway.js'
import { startTokenProxy, type TokenProxyOptions } from './support/token-proxy.js'

const CREATE = 'com.atproto.server.createSession'
const REFRESH = 'com.atproto.server.refreshSession'
const DELETE = 'com.atproto.server.deleteSession'
const GET_SESSION = 'com.atproto.server.getSession' // needs a valid access token (describeRepo ignores it)

let network: TestNetwork
let alice: Account
let bob: Account
let carol: Account // only for the logout test, which revokes its refresh token chain
let scratch: string

beforeAll(async () => {
  network = await startNetwork()
  ;[alice, bob, carol] = await Promise.all([network.createAccount(), network.createAccount(), network.createAccount()])
  scratch = await mkdtemp(path.join(os.tmpdir(), 'session-test-'))
})
afterAll(async () => {
  await network?.close()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

// --- the wire: every request a client sends, and what came back -----------------------------------

interface Sent {
  nsid: string
  origin: string
  /** The bearer token, if any. */
  token: string | undefined
  /** The `x-test-id` header, to follow one call through its retry. */
  id: string | null
  status?: number
}

/** A `fetch` that records each request; `before` runs before it is sent and may throw to fail it. */
function recordingFetch(before?: (sent: Sent) => void | Promise<void>) {
  const sent: Sent[] = []
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const headers = new Headers(input instanceof Request ? input.headers : init?.headers)
    const entry: Sent = {
      nsid: url.pathname.replace(/^\/xrpc\//, ''),
      origin: url.origin,
      token: headers.get('authorization')?.replace(/^Bearer /, ''),
      id: headers.get('x-test-id'),
    }
    sent.push(entry)
    await before?.(entry)
    const response = await fetch(input, init)
    entry.status = response.status
    return response
  }
  return {
    fetch: fetchFn,
    sent,
    nsids: () => sent.map((s) => s.nsid),
    count: (nsid: string) => sent.filter((s) => s.nsid === nsid).length,
    clear: () => void (sent.length = 0),
  }
}

/** A client on the test PDS with a recording fetch and a recording `onSessionChange`. */
function newClient(options: Partial<ClientOptions> & { before?: (sent: Sent) => void | Promise<void> } = {}) {
  const { before, onSessionChange, ...rest } = options
  const wire = recordingFetch(before)
  const changes: { event: SessionEvent; session: SessionData }[] = []
  const client = new Client({
    service: network.pdsUrl,
    ...rest,
    fetch: wire.fetch,
    onSessionChange: async (event, session) => {
      changes.push({ event, session })
      await onSessionChange?.(event, session)
    },
  })
  return { client, wire, changes, events: () => changes.map((c) => c.event) }
}

// --- tokens and sessions -------------------------------------------------------------------------

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

/** The token with its claims changed, signed again with the PDS's secret (HS256). */
function mint(token: string, changes: Record<string, unknown>): string {
  const [header] = token.split('.')
  const payload = Buffer.from(JSON.stringify({ ...claims(token), ...changes })).toString('base64url')
  const signature = createHmac('sha256', network.jwtSecret).update(`${header}.${payload}`).digest('base64url')
  return `${header}.${payload}.${signature}`
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
/** Expired a minute ago: the server answers ExpiredToken, and the client sees it too (unless told to trust it). */
const expired = (token: string) => mint(token, { exp: nowSeconds() - 60 })
/** Well signed and unexpired, but unknown to the PDS (no refresh token row with this jti): refused as revoked. */
const revoked = (refreshJwt: string) => mint(refreshJwt, { jti: randomBytes(32).toString('base64') })

const latestRefreshJwt = new Map<string, string>()

/**
 * A fresh, unused session of the account, as saved by an earlier run: one cheap refreshSession over
 * plain fetch (no password hashing, unlike createSession), continuing the account's token chain.
 */
async function liveSession(account: Account): Promise<SessionData> {
  const refreshJwt = latestRefreshJwt.get(account.did) ?? account.refreshJwt
  const res = await fetch(`${network.pdsUrl}/xrpc/${REFRESH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${refreshJwt}` },
  })
  const body = (await res.json()) as SessionData
  if (!res.ok) throw new Error(`liveSession ${account.handle}: ${res.status} ${JSON.stringify(body)}`)
  latestRefreshJwt.set(account.did, body.refreshJwt)
  return body
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const sleepUntil = (time: number) => sleep(Math.max(0, time - Date.now()))

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** The whole token and its signature alone: neither may appear anywhere. */
function secretsOf(...values: string[]): string[] {
  return values.flatMap((value) => (value.split('.').length === 3 ? [value, value.split('.')[2]!] : [value]))
}

function expectNoSecret(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text, 'a secret leaked').not.toContain(secret)
}

function showsOf(value: unknown): string[] {
  return [String(value), JSON.stringify(value), inspect(value, { depth: Infinity, showHidden: true, getters: true })]
}

// --------------------------------------------------------------------------------------------------

describe('authenticate: reuse, refresh or replace the saved session', () => {
  it('logs in with the credentials when nothing is saved: one createSession, stored and announced', async () => {
    const file = path.join(scratch, 'fresh-login', 'session.json')
    const { client, wire, events } = newClient({ sessionStore: new FileSessionStore(file) })

    const session = await client.authenticate(alice.handle, alice.password)

    expect(wire.nsids()).toEqual([CREATE])
    expect(session.did).toBe(alice.did)
    expect(events()).toEqual(['create'])
    const stored = await readFile(file, 'utf8')
    expect(await new FileSessionStore(file).get(alice.handle)).toMatchObject({
      did: alice.did,
      refreshJwt: session.refreshJwt,
    })
    expect(stored).not.toContain(alice.password)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)

    // authenticated() serializes, and its JSON restores the same session both ways, without the password.
    const json = JSON.stringify(client.authenticated())
    expect(json).not.toContain(alice.password)
    expect(CreateSessionResponse.fromJSON(json).$data).toEqual(client.authenticated()!.$data)
    expect(CreateSessionResponse.fromJSON(JSON.parse(json)).$data).toEqual(client.authenticated()!.$data)
    expect(new CreateSessionResponse(JSON.parse(json)).accessJwt).toBe(session.accessJwt)

    // The next run: a new client on the same file starts from it, without a single request.
    const next = newClient({ sessionStore: new FileSessionStore(file) })
    const reused = await next.client.authenticate(alice.handle, alice.password)
    expect(next.wire.sent).toEqual([])
    expect(reused.refreshJwt).toBe(session.refreshJwt)
    expect(next.events()).toEqual([])
  })

  it('reuses a saved session whose access token is valid without any request, in every saved form', async () => {
    const saved = await liveSession(alice)
    const response = new CreateSessionResponse(saved)
    const forms: Record<string, CreateSessionResponse | object | string> = {
      response,
      'JSON object': JSON.parse(JSON.stringify(response)),
      'JSON string': JSON.stringify(response),
    }
    for (const [form, value] of Object.entries(forms)) {
      const { client, wire } = newClient()
      const session = await client.authenticate(alice.handle, alice.password, value)
      expect(wire.sent, form).toEqual([])
      expect(session.accessJwt, form).toBe(saved.accessJwt)
    }
    // The saved session is the account's whether it is named by handle (any case), DID or email.
    for (const identifier of [alice.did, alice.handle.toUpperCase(), alice.email]) {
      const { client, wire } = newClient()
      await client.authenticate(identifier, alice.password, saved)
      expect(wire.sent, identifier).toEqual([])
    }
    // And it works: the first request is the data call itself, with the saved token.
    const { client, wire } = newClient()
    await client.authenticate(alice.handle, alice.password, saved)
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
    expect(wire.sent).toEqual([expect.objectContaining({ nsid: GET_SESSION, token: saved.accessJwt, status: 200 })])
  })

  it('refreshes a saved session whose access token has expired: one refreshSession, no createSession', async () => {
    const live = await liveSession(alice)
    const store = new MemorySessionStore()
    await store.set({ ...live, refreshJwt: revoked(live.refreshJwt) }) // an older one, replaced by the one passed in
    const { client, wire, events } = newClient({ sessionStore: store })

    const session = await client.authenticate(alice.handle, alice.password, {
      ...live,
      accessJwt: expired(live.accessJwt),
    })

    expect(wire.nsids()).toEqual([REFRESH])
    expect(wire.sent[0]!.token).toBe(live.refreshJwt)
    expect(events()).toEqual(['refresh'])
    expect(session.refreshJwt).not.toBe(live.refreshJwt)
    expect((await store.get())?.refreshJwt).toBe(session.refreshJwt)
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
    expect(wire.count(CREATE)).toBe(0)
  })

  it('logs in when both tokens of the saved session have expired: one createSession, no refresh tried', async () => {
    const live = await liveSession(alice)
    const dead = { ...live, accessJwt: expired(live.accessJwt), refreshJwt: expired(live.refreshJwt) }
    const { client, wire, events } = newClient()

    const session = await client.authenticate(alice.handle, alice.password, dead)

    expect(wire.nsids()).toEqual([CREATE])
    expect(events()).toEqual(['create'])
    expect(session.did).toBe(alice.did)
  })

  it('logs in when the saved refresh token was revoked by a logout elsewhere: the refusal, then one createSession', async () => {
    const store = new MemorySessionStore()
    const first = newClient({ sessionStore: store })
    await first.client.authenticate(carol.handle, carol.password, await liveSession(carol))
    const saved = JSON.parse(JSON.stringify(first.client.authenticated())) as SessionData

    await first.client.logout()
    expect(first.wire.sent).toEqual([expect.objectContaining({ nsid: DELETE, token: saved.refreshJwt, status: 200 })])
    expect(first.events()).toEqual(['delete'])
    expect(first.changes[0]!.session.did).toBe(carol.did)
    expect(await store.get()).toBeUndefined()
    expect(first.client.authenticated()).toBeUndefined()

    // Another client, with the saved session once its access token has expired.
    const second = newClient()
    const session = await second.client.authenticate(carol.handle, carol.password, {
      ...saved,
      accessJwt: expired(saved.accessJwt),
    })
    expect(second.wire.sent.map((s) => [s.nsid, s.status])).toEqual([
      [REFRESH, 400], // ExpiredToken: "Token has been revoked"
      [CREATE, 200],
    ])
    expect(second.events()).toEqual(['create'])
    expect(session.refreshJwt).not.toBe(saved.refreshJwt)
    expect((await second.client.com.atproto.server.getSession()).did).toBe(carol.did)
  })

  it('refuses a wrong password with AuthenticationError carrying the server error, after one createSession', async () => {
    const live = await liveSession(alice)
    const dead = { ...live, accessJwt: expired(live.accessJwt), refreshJwt: expired(live.refreshJwt) }
    for (const [label, saved] of [
      ['no saved session', undefined],
      ['a dead saved session', dead],
    ] as const) {
      const { client, wire, events } = newClient()
      const error = await rejection(client.authenticate(alice.handle, 'not-the-password', saved))

      expect(error, label).toBeInstanceOf(AuthenticationError)
      const { serverError } = error as AuthenticationError
      expect(serverError, label).toBeInstanceOf(XRPCError)
      expect(serverError?.error, label).toBe('AuthenticationRequired')
      expect(serverError?.status, label).toBe(401)
      expect(wire.nsids(), label).toEqual([CREATE])
      expect(events(), label).toEqual([])
      expect(client.authenticated(), label).toBeUndefined()
      for (const shown of showsOf(error))
        expectNoSecret(shown, secretsOf('not-the-password', live.accessJwt, live.refreshJwt))
    }
  })

  it('does not use a saved session of another account, whether passed or in the store', async () => {
    const bobs = await liveSession(bob)

    const passed = newClient()
    const session = await passed.client.authenticate(alice.handle, alice.password, bobs)
    expect(passed.wire.nsids()).toEqual([CREATE])
    expect(session.did).toBe(alice.did)

    const store = new MemorySessionStore()
    await store.set(bobs)
    const stored = newClient({ sessionStore: store })
    await stored.client.authenticate(alice.handle, alice.password)
    expect(stored.wire.nsids()).toEqual([CREATE])
    expect((await store.get())?.did).toBe(alice.did) // replaced by the new login
    for (const sent of [...passed.wire.sent, ...stored.wire.sent]) expect(sent.token).toBeUndefined()
  })
})

describe('during use', () => {
  it('50 parallel requests when the access token expires mid-use: one refresh, each request retried once, all succeed', async () => {
    // The server checks `exp` against its own clock. A client whose clock is behind the server's
    // cannot see the expiry coming; clockSkewMs −5 min makes this client trust a token until 5 min
    // past its `exp`, as such a client would. The access token is really valid for 0.8–1.8 s: the
    // first call is accepted, then we wait (real time) until the server's clock has passed `exp`.
    const live = await liveSession(alice)
    const exp = Math.ceil((Date.now() + 800) / 1000)
    const saved = { ...live, accessJwt: mint(live.accessJwt, { exp }) }
    // Requests started while the refresh is in flight should wait for it, not send the dead token.
    const late: Promise<{ did: string }>[] = []
    const { client, wire, events } = newClient({
      clockSkewMs: -5 * 60_000,
      maxConcurrentRequests: 100, // all 60 in flight at once (the default cap of 32 would queue some past the refresh)
      before: (sent) => {
        if (sent.nsid !== REFRESH) return
        for (let i = 0; i < 10; i++)
          late.push(
            client.com.atproto.server
              .getSession()
              .$headers({ 'x-test-id': `late ${i}` })
              .send(),
          ) // sent now
      },
    })
    await client.authenticate(alice.handle, alice.password, saved)
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
    expect(wire.sent.map((s) => s.status)).toEqual([200]) // in use, accepted

    await sleepUntil(exp * 1000 + 50)
    wire.clear()
    const ids = Array.from({ length: 50 }, (_, i) => String(i))
    const results: { did: string }[] = await Promise.all(
      ids.map((id) => client.com.atproto.server.getSession().$headers({ 'x-test-id': id })),
    )
    results.push(...(await Promise.all(late)))

    expect(results).toHaveLength(60)
    expect(results.every((r) => r.did === alice.did)).toBe(true)
    expect(wire.count(REFRESH)).toBe(1)
    expect(wire.count(CREATE)).toBe(0)
    expect(events()).toEqual(['refresh'])
    const renewed = client.authenticated()!.accessJwt
    for (const id of ids) {
      const attempts = wire.sent.filter((s) => s.id === id).map((s) => [s.token, s.status])
      expect(attempts, `request ${id}`).toEqual([
        [saved.accessJwt, 400], // ExpiredToken
        [renewed, 200],
      ])
    }
    for (let i = 0; i < 10; i++) {
      const attempts = wire.sent.filter((s) => s.id === `late ${i}`).map((s) => [s.token, s.status])
      expect(attempts, `late request ${i}`).toEqual([[renewed, 200]])
    }
  })

  it('refreshes before sending when the access token is known to have expired: one refresh, each request sent once', async () => {
    // Valid, by the default 60 s margin, for 0.5–1.5 s more; the server would accept it for another
    // minute. Once the margin is reached the client must refresh first rather than send it.
    const live = await liveSession(alice)
    const exp = Math.ceil((Date.now() + 60_000 + 500) / 1000)
    const saved = { ...live, accessJwt: mint(live.accessJwt, { exp }) }
    const store = new MemorySessionStore()
    const { client, wire, events } = newClient({ sessionStore: store })
    await client.authenticate(alice.handle, alice.password, saved)
    expect(wire.sent).toEqual([])
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)

    await sleepUntil(exp * 1000 - 60_000 + 20)
    wire.clear()
    const ids = Array.from({ length: 50 }, (_, i) => String(i))
    const results = await Promise.all(
      ids.map((id) => client.com.atproto.server.getSession().$headers({ 'x-test-id': id })),
    )

    expect(results.every((r) => r.did === alice.did)).toBe(true)
    const renewed = client.authenticated()!.accessJwt
    expect(wire.nsids()).toEqual([REFRESH, ...ids.map(() => GET_SESSION)])
    for (const sent of wire.sent.slice(1)) expect([sent.token, sent.status]).toEqual([renewed, 200])
    expect(new Set(wire.sent.slice(1).map((s) => s.id)).size).toBe(50)
    expect(events()).toEqual(['refresh'])
    expect((await store.get())?.accessJwt).toBe(renewed)
  })

  it('stores and announces the new session before the retried request is sent', async () => {
    const live = await liveSession(alice)
    const saved = { ...live, accessJwt: expired(live.accessJwt) }
    const order: string[] = []
    const name = (token: string | undefined) =>
      token === saved.accessJwt ? 'old' : token === saved.refreshJwt ? 'refresh token' : 'new'
    // A slow store: a client that did not wait for it would send the retry before it holds the session.
    class SlowStore extends MemorySessionStore {
      override async set(session: SessionData): Promise<void> {
        await sleep(50)
        await super.set(session)
        order.push(`store ${name(session.accessJwt)}`)
      }
    }
    const store = new SlowStore()
    await store.set(saved) // the session of an earlier run
    order.length = 0
    const { client } = newClient({
      clockSkewMs: -5 * 60_000, // trusts the expired token: see the test of 50 parallel requests
      sessionStore: store,
      onSessionChange: (event, session) => void order.push(`${event} ${name(session.accessJwt)}`),
      before: async (sent) => {
        const held = (await store.get())?.accessJwt
        order.push(`send ${sent.nsid.split('.').pop()} ${name(sent.token)}, store holds ${name(held)}`)
      },
    })
    await client.authenticate(alice.handle, alice.password) // from the store, no request

    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)

    expect(order).toEqual([
      'send getSession old, store holds old',
      'send refreshSession refresh token, store holds old',
      'store new',
      'refresh new',
      'send getSession new, store holds new',
    ])
  })

  it('logs in again, once, when the refresh is refused and the credentials are held', async () => {
    const live = await liveSession(alice)
    const saved = { ...live, accessJwt: expired(live.accessJwt), refreshJwt: revoked(live.refreshJwt) }
    const { client, wire, events } = newClient({ clockSkewMs: -5 * 60_000 }) // trusts the expired token
    await client.authenticate(alice.handle, alice.password, saved)

    const results = await Promise.all(Array.from({ length: 5 }, () => client.com.atproto.server.getSession()))

    expect(results.every((r) => r.did === alice.did)).toBe(true)
    expect(wire.sent.filter((s) => s.nsid !== GET_SESSION).map((s) => [s.nsid, s.status])).toEqual([
      [REFRESH, 400],
      [CREATE, 200],
    ])
    expect(wire.count(GET_SESSION)).toBe(10) // each: refused with the old token, then accepted
    expect(events()).toEqual(['create'])
  })

  it('ends the session without looping when the refresh is refused and logging in again fails', async () => {
    const live = await liveSession(alice)
    const saved = { ...live, accessJwt: expired(live.accessJwt), refreshJwt: revoked(live.refreshJwt) }
    const store = new MemorySessionStore()
    const { client, wire, events, changes } = newClient({ clockSkewMs: -5 * 60_000, sessionStore: store })
    // A valid saved session is used without checking the password (nothing to check it against).
    await client.authenticate(alice.handle, 'not-the-password', saved)
    expect(wire.sent).toEqual([])

    const errors = await Promise.all(Array.from({ length: 5 }, () => rejection(client.com.atproto.server.getSession())))

    for (const error of errors) {
      expect(error).toBeInstanceOf(AuthenticationError)
      for (const shown of showsOf(error))
        expectNoSecret(shown, secretsOf('not-the-password', saved.accessJwt, saved.refreshJwt))
    }
    expect(wire.count(REFRESH)).toBe(1)
    expect(wire.count(CREATE)).toBe(1)
    expect(wire.count(GET_SESSION)).toBe(5)
    expect(events()).toEqual(['expired'])
    expect(changes[0]!.session.refreshJwt).toBe(saved.refreshJwt)
    expect(client.authenticated()).toBeUndefined()
    expect(await store.get()).toBeUndefined()

    // Later calls go out without a token and fail on their own: nothing is refreshed or retried.
    wire.clear()
    const later = await rejection(client.com.atproto.server.getSession())
    expect(later).toBeInstanceOf(XRPCError)
    expect(wire.sent).toEqual([expect.objectContaining({ nsid: GET_SESSION, token: undefined, status: 401 })])
  })

  it("announces 'expired' when the refresh is refused and keepCredentials is false", async () => {
    const live = await liveSession(alice)
    const saved = { ...live, accessJwt: expired(live.accessJwt), refreshJwt: revoked(live.refreshJwt) }
    const store = new MemorySessionStore()
    await store.set(saved)
    const { client, wire, changes } = newClient({
      clockSkewMs: -5 * 60_000,
      sessionStore: store,
      keepCredentials: false,
    })
    await client.authenticate(alice.handle, alice.password)

    const error = await rejection(client.com.atproto.server.getSession())

    expect(error).toBeInstanceOf(AuthenticationError)
    expect(wire.sent.map((s) => [s.nsid, s.status])).toEqual([
      [GET_SESSION, 400],
      [REFRESH, 400],
    ])
    expect(changes.map((c) => [c.event, c.session.refreshJwt])).toEqual([['expired', saved.refreshJwt]])
    expect(await store.get()).toBeUndefined()
    expect(client.authenticated()).toBeUndefined()
  })

  it('keeps the session when the refresh fails on the network: no expired event, and the next call refreshes', async () => {
    // Every attempt of the first refresh call: the first and the transport's two retries (a refresh
    // is sent again with the same token when its answer is lost; see the lost-answer test).
    const attemptsOfOneCall = 3
    const failFirstRefresh = () => {
      let failed = 0
      return (sent: Sent) => {
        if (sent.nsid === REFRESH && failed < attemptsOfOneCall) {
          failed++
          throw new TypeError('fetch failed')
        }
      }
    }

    // In use: the server says ExpiredToken, the refresh does not get through.
    const live = await liveSession(alice)
    const saved = { ...live, accessJwt: expired(live.accessJwt) }
    const store = new MemorySessionStore()
    await store.set(saved)
    const { client, wire, events } = newClient({
      clockSkewMs: -5 * 60_000, // trusts the expired token: see the test of 50 parallel requests
      sessionStore: store,
      before: failFirstRefresh(),
    })
    await client.authenticate(alice.handle, alice.password)

    const error = await rejection(client.com.atproto.server.getSession())

    expect(error).toBeInstanceOf(NetworkError)
    for (const shown of showsOf(error))
      expectNoSecret(shown, secretsOf(alice.password, saved.accessJwt, saved.refreshJwt))
    expect(events()).toEqual([])
    expect(client.authenticated()?.$data).toEqual(saved)
    expect(await store.get()).toEqual(saved)
    expect(wire.count(CREATE)).toBe(0)
    // The network is back: the next call refreshes with the same refresh token and succeeds.
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
    expect(wire.sent.filter((s) => s.nsid === REFRESH).map((s) => s.token)).toEqual(
      Array(attemptsOfOneCall + 1).fill(saved.refreshJwt),
    )
    expect(events()).toEqual(['refresh'])
    expect(wire.count(CREATE)).toBe(0)

    // In authenticate: a network failure is reported as such, not answered with a login.
    const other = await liveSession(alice)
    const second = newClient({ before: failFirstRefresh() })
    const failure = await rejection(
      second.client.authenticate(alice.handle, alice.password, { ...other, accessJwt: expired(other.accessJwt) }),
    )
    expect(failure).toBeInstanceOf(NetworkError)
    expect(second.wire.nsids()).toEqual(Array(attemptsOfOneCall).fill(REFRESH))
    expect(second.events()).toEqual([])
  })
})

describe('opaque tokens and wrong clocks', () => {
  // Each server is the test PDS behind ./support/token-proxy.ts, which shows the client other tokens
  // (and, for a clock, another Date) and translates them back, so the PDS still decides when a
  // token has expired: when the test makes it (`replace` with an expired re-mint).
  // A nonce claim keeps apart two tokens the PDS issued in the same second (identical, with no jti):
  // the test's expired one and its successor.
  const remint = (token: string, changes: Record<string, unknown>) =>
    mint(token, { ...changes, nonce: randomBytes(8).toString('hex') })
  const shifted = (token: string, seconds: number) => {
    const { exp, iat } = claims(token) as { exp: number; iat: number }
    return remint(token, { exp: exp + seconds, iat: iat + seconds })
  }
  // `restored`: what a new client sends to resume a saved session of such tokens. One that cannot
  // read them sends nothing; one whose clock is off cannot know it before the server's first
  // answer, so it refreshes once (and learns the server's time from that answer).
  const servers: Record<string, TokenProxyOptions & { restored: string[] }> = {
    'opaque tokens': { disguise: () => `opaque-${randomBytes(24).toString('base64url')}`, restored: [] },
    'JWTs without exp': {
      disguise: (token) => remint(token, { exp: undefined }),
      restored: [],
    },
    // As a client clock 2 h ahead sees a right one: its Date and its tokens' exp 2 h behind ours.
    'a server clock 2 h behind ours': {
      disguise: (token) => shifted(token, -2 * 3600),
      clockOffsetMs: -2 * 3600_000,
      restored: [REFRESH],
    },
    // The same tokens with a Date that agrees with us: nothing to correct by, so their exp is not judged.
    'tokens that look expired on arrival': {
      disguise: (token) => remint(token, { exp: (claims(token).exp as number) - 2 * 3600 }),
      restored: [REFRESH],
    },
  }

  for (const [label, { restored, ...server }] of Object.entries(servers)) {
    it(`${label}: used until the server refuses one, then one refresh for all; never a login or a refresh per request`, async () => {
      const proxy = await startTokenProxy(network.pdsUrl, server)
      try {
        const { client, wire, events } = newClient({ service: proxy.url })
        await client.authenticate(alice.handle, alice.password)
        for (let i = 0; i < 5; i++) await client.com.atproto.server.getSession()
        expect(wire.nsids()).toEqual([CREATE, ...Array(5).fill(GET_SESSION)])

        // The PDS now finds the access token expired: the first refusals refresh, once, and are retried.
        proxy.replace(client.authenticated()!.accessJwt, expired)
        wire.clear()
        await Promise.all(Array.from({ length: 5 }, () => client.com.atproto.server.getSession()))
        for (let i = 0; i < 5; i++) await client.com.atproto.server.getSession()
        expect(wire.count(REFRESH)).toBe(1)
        expect(wire.count(GET_SESSION)).toBe(15) // 5 refused, 5 retried, 5 later
        expect(wire.sent.filter((s) => s.status !== 200).map((s) => [s.nsid, s.status])).toEqual(
          Array(5).fill([GET_SESSION, 400]),
        )
        expect(wire.count(CREATE)).toBe(0)
        expect(events()).toEqual(['create', 'refresh'])

        // Saved and restored by another client.
        const next = newClient({ service: proxy.url })
        await next.client.authenticate(alice.handle, alice.password, JSON.stringify(client.authenticated()))
        for (let i = 0; i < 5; i++) await next.client.com.atproto.server.getSession()
        expect(next.wire.nsids()).toEqual([...restored, ...Array(5).fill(GET_SESSION)])
      } finally {
        await proxy.close()
      }
    })
  }

  it("a server clock 2 h behind: expiry is judged by the server's time, read from the Date of its answers", async () => {
    const { restored: _, ...behind } = servers['a server clock 2 h behind ours']!
    const proxy = await startTokenProxy(network.pdsUrl, behind)
    try {
      const { client, wire } = newClient({ service: proxy.url })
      await client.authenticate(alice.handle, alice.password) // its answer's Date: 2 h behind ours
      const current = client.authenticated()!.$data
      // Valid 10 more minutes by the server's clock, expired 1 h 50 min ago by ours.
      const serverNow = nowSeconds() - 2 * 3600
      const good = remint(current.accessJwt, { exp: serverNow + 10 * 60 })
      proxy.alias(good, current.accessJwt)
      wire.clear()

      await client.authenticate(alice.handle, alice.password, { ...current, accessJwt: good })
      expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)

      expect(wire.sent.map((s) => [s.nsid, s.token === good, s.status])).toEqual([[GET_SESSION, true, 200]])
    } finally {
      await proxy.close()
    }
  })
})

describe('several processes, one stored session, without a lock', () => {
  // Two clients, each with its own FileSessionStore on one file, as two processes would be, seen
  // through a store without `lock` (as a store of the app's own may be: the SDK's stores lock, see
  // test/shared-sessions.test.ts). The race is made deterministic: the first client's
  // refreshSession is held (in its `fetch`) until the other has done its part.
  const lockless = (file: string): SessionStore => {
    const store = new FileSessionStore(file)
    return {
      get: (account) => store.get(account),
      set: (s) => store.set(s),
      delete: (account) => store.delete(account),
    }
  }
  const stored = (file: string) => new FileSessionStore(file).get()

  it("the loser of a refresh race does not write over the winner's stored session", async () => {
    const file = path.join(scratch, 'race-refresh', 'session.json')
    await new FileSessionStore(file).set(await liveSession(alice))
    const winner = newClient({ sessionStore: lockless(file) })
    let winnersWrite: number | undefined
    const loser = newClient({
      sessionStore: lockless(file),
      before: async (sent) => {
        if (sent.nsid !== REFRESH || winnersWrite !== undefined) return
        await winner.client.com.atproto.server.refreshSession() // refreshes the same session, and stores it
        winnersWrite = (await stat(file)).ino // each write is a new file renamed into place
      },
    })
    await Promise.all([winner, loser].map(({ client }) => client.authenticate(alice.handle, alice.password)))

    // The loser's refresh token was spent meanwhile; the PDS's grace period still answers it.
    const losers = await loser.client.com.atproto.server.refreshSession()
    const winners = winner.client.authenticated()!
    expect(winner.events()).toEqual(['refresh'])

    expect(loser.wire.sent.map((s) => [s.nsid, s.status])).toEqual([[REFRESH, 200]])
    expect(loser.events()).toEqual(['refresh'])
    expect((await stat(file)).ino).toBe(winnersWrite)
    expect(await stored(file)).toEqual(winners.$data)
    expect(loser.client.authenticated()?.accessJwt).toBe(losers.accessJwt) // kept in memory
    expect((await loser.client.com.atproto.server.getSession()).did).toBe(alice.did)
  })

  it('a loser whose refresh is refused adopts the newer session another process stored, and does not delete it', async () => {
    const file = path.join(scratch, 'race-refused', 'session.json')
    const live = await liveSession(alice)
    await new FileSessionStore(file).set({ ...live, refreshJwt: revoked(live.refreshJwt) }) // a dead refresh token
    const other = newClient({ sessionStore: lockless(file) })
    const winners = await liveSession(alice)
    const loser = newClient({
      sessionStore: lockless(file),
      keepCredentials: false, // so that only the stored session can save it
      before: async (sent) => {
        if (sent.nsid === REFRESH) await other.client.authenticate(alice.handle, alice.password, winners) // stored
      },
    })
    await loser.client.authenticate(alice.handle, alice.password)

    const adopted = await loser.client.com.atproto.server.refreshSession()

    expect(loser.wire.sent.map((s) => [s.nsid, s.status])).toEqual([[REFRESH, 400]]) // refused: revoked
    expect(adopted.refreshJwt).toBe(winners.refreshJwt)
    expect(loser.events()).toEqual([])
    expect(await stored(file)).toEqual(winners)
    loser.wire.clear()
    expect((await loser.client.com.atproto.server.getSession()).did).toBe(alice.did)
    expect(loser.wire.sent.map((s) => [s.nsid, s.token, s.status])).toEqual([[GET_SESSION, winners.accessJwt, 200]])
  })

  it("a dead session leaves the store alone when it holds another session (another account's)", async () => {
    const file = path.join(scratch, 'race-other-account', 'session.json')
    const live = await liveSession(alice)
    await new FileSessionStore(file).set({ ...live, refreshJwt: revoked(live.refreshJwt) })
    const bobs = await liveSession(bob)
    const other = newClient({ sessionStore: lockless(file) })
    const dying = newClient({
      sessionStore: lockless(file),
      keepCredentials: false,
      before: async (sent) => {
        if (sent.nsid === REFRESH) await other.client.authenticate(bob.handle, bob.password, bobs)
      },
    })
    await dying.client.authenticate(alice.handle, alice.password)

    expect(await rejection(dying.client.com.atproto.server.refreshSession())).toBeInstanceOf(AuthenticationError)

    expect(dying.events()).toEqual(['expired'])
    expect(dying.client.authenticated()).toBeUndefined()
    expect(await stored(file)).toEqual(bobs)
  })
})

describe('two-factor login', () => {
  it('sends authFactorToken with createSession; a server that wants one refuses with a typed error', async () => {
    // ./support/session-entryway.ts in front of the real PDS, wanting the code 123456.
    const entryway = await startEntryway(network.pdsUrl, network.plcUrl, { authFactorToken: '123456' })
    try {
      const { client } = newClient({ service: entryway.url })
      const required = await rejection(client.authenticate(alice.handle, alice.password))
      expect(required).toBeInstanceOf(AuthenticationError)
      expect((required as AuthenticationError).serverError).toBeInstanceOf(AuthFactorTokenRequiredError)
      expect((required as AuthenticationError).error).toBe('AuthFactorTokenRequired')
      expect((required as AuthenticationError).status).toBe(401)

      const wrong = await rejection(
        client.authenticate(alice.handle, alice.password, undefined, { authFactorToken: '1' }),
      )
      expect((wrong as AuthenticationError).error).toBe('InvalidToken')

      const session = await client.authenticate(alice.handle, alice.password, undefined, { authFactorToken: '123456' })
      expect(session.did).toBe(alice.did)
      const direct = new PasswordSession({ service: entryway.url })
      expect(
        (await direct.authenticate(alice.handle, alice.password, undefined, { authFactorToken: '123456' })).did,
      ).toBe(alice.did)

      expect(entryway.factorTokens).toEqual([undefined, '1', '123456', '123456'])
      for (const shown of showsOf(required)) expectNoSecret(shown, secretsOf(alice.password, '123456'))
    } finally {
      await entryway.close()
    }
  })
})

describe('auth objects', () => {
  it('one PasswordSession behind two clients: one login, one refresh for both, one logout ends both', async () => {
    const wire = recordingFetch()
    const events: SessionEvent[] = []
    const session = new PasswordSession({
      service: network.pdsUrl,
      fetch: wire.fetch,
      onSessionChange: (event) => void events.push(event),
    })
    const a = new Client({ auth: session, fetch: wire.fetch })
    const b = new Client({ auth: session, fetch: wire.fetch })
    const live = await liveSession(bob)
    await a.authenticate(bob.handle, bob.password, { ...live, accessJwt: expired(live.accessJwt) })
    expect(wire.nsids()).toEqual([REFRESH])
    expect(a.authenticated()?.accessJwt).toBe(b.authenticated()?.accessJwt)
    expect(a.did).toBe(bob.did)
    expect(b.did).toBe(bob.did)

    // Both clients at once, once the token is found expired: the session refreshes once for all.
    wire.clear()
    await session.authenticate(bob.handle, bob.password, {
      ...session.current!.$data,
      accessJwt: expired(session.current!.accessJwt),
    })
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => a.com.atproto.server.getSession()),
      ...Array.from({ length: 5 }, () => b.com.atproto.server.getSession()),
    ])
    expect(results.every((r) => r.did === bob.did)).toBe(true)
    expect(wire.count(REFRESH)).toBe(1)
    expect(wire.count(GET_SESSION)).toBe(10)
    expect(new Set(wire.sent.filter((s) => s.nsid === GET_SESSION).map((s) => s.token))).toEqual(
      new Set([session.current!.accessJwt]),
    )
    expect(events).toEqual(['refresh', 'refresh'])

    await b.logout()
    expect(a.authenticated()).toBeUndefined()
    expect(events.at(-1)).toBe('delete')
    expect(wire.count(DELETE)).toBe(1)
  })

  it("a client's own refreshSession and deleteSession calls run the session workflow: no refreshed session is lost", async () => {
    const store = new MemorySessionStore()
    const { client, wire, events } = newClient({ sessionStore: store })
    await client.authenticate(bob.handle, bob.password, await liveSession(bob))
    const before = client.authenticated()!

    const refreshed = await client.com.atproto.server.refreshSession()

    expect(refreshed.refreshJwt).not.toBe(before.refreshJwt)
    expect(refreshed.did).toBe(bob.did)
    expect(client.authenticated()!.refreshJwt).toBe(refreshed.refreshJwt) // adopted, not dropped
    expect((await store.get())?.refreshJwt).toBe(refreshed.refreshJwt)
    expect(events()).toEqual(['refresh'])
    expect(wire.sent.map((s) => [s.nsid, s.token])).toEqual([[REFRESH, before.refreshJwt]])
    expect((await client.com.atproto.server.getSession()).did).toBe(bob.did)

    await client.com.atproto.server.deleteSession()
    expect(client.authenticated()).toBeUndefined()
    expect(await store.get()).toBeUndefined()
    expect(events()).toEqual(['refresh', 'delete'])
  })

  it('a static bearer: the access token of a session managed elsewhere, or a function giving the current one', async () => {
    const live = await liveSession(bob)
    const wire = recordingFetch()
    const bearer = new XRPCClient({ service: network.pdsUrl, auth: new BearerAuth(live.accessJwt), fetch: wire.fetch })
    const { getSession } = await import('../generated/com/atproto/server/getSession.js')
    expect((await bearer.call(getSession)).did).toBe(bob.did)
    expect(wire.sent.map((s) => s.token)).toEqual([live.accessJwt])

    let calls = 0
    const rotating = new Client({
      service: network.pdsUrl,
      auth: new BearerAuth(async () => (calls++, live.accessJwt)),
    })
    expect((await rotating.com.atproto.server.getSession()).did).toBe(bob.did)
    expect(calls).toBe(1)
    // The bearer client has no password session to drive.
    await expect(rotating.authenticate(bob.handle, bob.password)).rejects.toBeInstanceOf(UsageError)
    expect(rotating.authenticated()).toBeUndefined()
    for (const shown of [...showsOf(bearer), ...showsOf(bearer.auth), ...showsOf(rotating)])
      expectNoSecret(shown, secretsOf(live.accessJwt))
  })

  it('a service-auth token from getServiceAuth, as a static bearer, authenticates a call the PDS accepts it for', async () => {
    const { client } = newClient()
    await client.authenticate(bob.handle, bob.password, await liveSession(bob))
    const { did: pdsDid } = await client.com.atproto.server.describeServer()
    const { token } = await client.com.atproto.server.getServiceAuth({
      aud: pdsDid,
      lxm: 'com.atproto.repo.uploadBlob',
      exp: Math.floor(Date.now() / 1000) + 60,
    })
    const service = new Client({ service: network.pdsUrl, auth: new BearerAuth(token) })
    const uploaded = await service.com.atproto.repo.uploadBlob(new TextEncoder().encode('hello'), {
      encoding: 'text/plain',
    })
    expect(uploaded.blob).toMatchObject({ mimeType: 'text/plain', size: 5 })
    // Bound to that one method: anything else is refused.
    await expect(service.com.atproto.server.getSession()).rejects.toBeInstanceOf(XRPCError)
  })

  it("hands each attempt to an OAuth session's fetchHandler by path, with method, headers and body", async () => {
    // The contract of @atproto/oauth-client's OAuthSession.fetchHandler(pathname, init): the session
    // resolves the path against its PDS and authenticates it. Here a session of that shape does so
    // with a real access token against the real PDS; the DPoP flow itself is the OAuth issue's test.
    const live = await liveSession(bob)
    const handled: { pathname: string; method?: string; contentType?: string | null; body: string }[] = []
    const oauthSession = {
      did: bob.did,
      async getTokenInfo() {
        return { aud: network.pdsUrl }
      },
      async fetchHandler(pathname: string, init: RequestInit = {}) {
        const headers = new Headers(init.headers)
        const body = init.body === undefined ? '' : await new Response(init.body as BodyInit).text()
        handled.push({ pathname, method: init.method, contentType: headers.get('content-type'), body })
        headers.set('authorization', `Bearer ${live.accessJwt}`)
        return fetch(new URL(pathname, network.pdsUrl), { ...init, headers, body: body || undefined })
      },
    }
    const client = new Client({ auth: new OAuthSessionAuth(oauthSession) })
    expect(client.did).toBe(bob.did)

    const listed = await client.com.atproto.repo.listRecords({ repo: bob.did, collection: 'app.bsky.feed.post' })
    expect(listed.records).toEqual([])
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'))
        controller.close()
      },
    })
    const uploaded = await client.com.atproto.repo.uploadBlob(stream, { encoding: 'text/plain' })
    expect(uploaded.blob).toMatchObject({ mimeType: 'text/plain', size: 8 })
    const created = await client.com.atproto.repo.createRecord({
      repo: bob.did,
      collection: 'app.bsky.feed.post',
      record: { text: 'via oauth', createdAt: new Date().toISOString() },
    })
    expect(created.uri).toContain(bob.did)

    expect(handled.map((h) => [h.pathname.split('?')[0], h.method, h.contentType])).toEqual([
      ['/xrpc/com.atproto.repo.listRecords', 'GET', null],
      ['/xrpc/com.atproto.repo.uploadBlob', 'POST', 'text/plain'],
      ['/xrpc/com.atproto.repo.createRecord', 'POST', 'application/json'],
    ])
    expect(handled[0]!.pathname).toContain(`repo=${encodeURIComponent(bob.did)}`)
    expect(handled[1]!.body).toBe('streamed')
    expect(JSON.parse(handled[2]!.body)).toMatchObject({
      collection: 'app.bsky.feed.post',
      record: { text: 'via oauth' },
    })
    for (const shown of showsOf(client)) expectNoSecret(shown, secretsOf(live.accessJwt))
  })

  it('refuses session options beside an auth object (they belong to the session)', () => {
    const session = new PasswordSession({ service: network.pdsUrl })
    expect(() => new Client({ auth: session, sessionStore: new MemorySessionStore() })).toThrow(UsageError)
  })
})

describe('secrets', () => {
  it('never shows a token or the password in the client or its JSON', async () => {
    const saved = await liveSession(alice)
    const { client } = newClient({ sessionStore: new MemorySessionStore() })
    await client.authenticate(alice.handle, alice.password, saved)
    expect(client.authenticated()).toBeDefined()

    const secrets = secretsOf(alice.password, saved.accessJwt, saved.refreshJwt)
    for (const shown of showsOf(client)) expectNoSecret(shown, secrets)
    expect(JSON.parse(JSON.stringify(client))).toMatchObject({
      did: alice.did,
      auth: { type: 'PasswordSession', session: { did: alice.did } },
    })
    // The session holds its tokens by design, never the password.
    for (const shown of showsOf(client.authenticated())) expectNoSecret(shown, [alice.password])
  })

  it("util.inspect of a real login's session hides its tokens; its JSON, the saving form, keeps them", async () => {
    const { client } = newClient()
    const session = await client.authenticate(bob.handle, bob.password)
    const secrets = secretsOf(bob.password, session.accessJwt, session.refreshJwt)

    for (const shown of [session, client.authenticated(), { nested: [session] }].flatMap((value) => [
      inspect(value),
      inspect(value, { depth: Infinity, showHidden: true, getters: true }),
    ])) {
      expectNoSecret(shown, secrets)
      expect(shown).toContain('CreateSessionResponse')
      expect(shown).toContain(bob.did)
      expect(shown).toContain(bob.handle)
    }
    const saved = JSON.parse(JSON.stringify(session)) as SessionData
    expect([saved.accessJwt, saved.refreshJwt]).toEqual([session.accessJwt, session.refreshJwt])
    expect(JSON.stringify(session)).not.toContain(bob.password)
    // Any response: a service-auth token is redacted too, at any depth of the data.
    const serviceAuth = await client.com.atproto.server.getServiceAuth({ aud: bob.did })
    expectNoSecret(inspect({ nested: [serviceAuth] }), secretsOf(serviceAuth.token))
    expect(inspect(serviceAuth)).toContain("token: '[redacted]'")
  })
})

describe('routing', () => {
  it('sends data calls to the PDS named in the DID document, not to the login service', async () => {
    // The client's `service` only logs in (see ./support/session-entryway.ts); the PDS of the test
    // network is named in the account's DID document as http://localhost:PORT, a loopback URL the
    // client may follow.
    const entryway = await startEntryway(network.pdsUrl, network.plcUrl)
    try {
      const { client, wire } = newClient({ service: entryway.url })
      const session = await client.authenticate(alice.handle, alice.password)
      expect(session.didDoc).toMatchObject({
        service: [{ id: '#atproto_pds', serviceEndpoint: network.pdsUrl }],
      })
      expect(CreateSessionResponse.fromJSON(JSON.stringify(session)).didDoc).toEqual(session.didDoc)

      expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
      await client.com.atproto.repo.describeRepo({ repo: alice.did })

      expect(entryway.hits).toEqual([CREATE])
      expect(wire.sent.slice(1).map((s) => [s.nsid, s.origin, s.status])).toEqual([
        [GET_SESSION, new URL(network.pdsUrl).origin, 200],
        ['com.atproto.repo.describeRepo', new URL(network.pdsUrl).origin, 200],
      ])
    } finally {
      await entryway.close()
    }
  })

  it('follows an https: PDS or an http: one on a loopback address, and nothing else', async () => {
    const live = await liveSession(alice)
    const pds = new URL(network.pdsUrl)
    const withPds = (serviceEndpoint: string) => ({
      ...live,
      didDoc: {
        id: alice.did,
        alsoKnownAs: [`at://${alice.handle}`],
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint }],
      },
    })
    // Where the first data call goes; nothing leaves the machine (other hosts fail like the offline).
    const firstCallOrigin = async (saved: SessionData) => {
      const { client, wire } = newClient({
        retry: false,
        before: (sent) => {
          if (sent.origin !== pds.origin) throw new TypeError('fetch failed (this test never leaves the machine)')
        },
      })
      await client.authenticate(alice.handle, alice.password, saved)
      await client.com.atproto.server.getSession().catch(() => {})
      return wire.sent[0]!.origin
    }

    const followed = {
      'https:': 'https://pds.example.com',
      'http: to localhost': `http://localhost:${pds.port}`,
      'http: to 127.0.0.0/8': `http://127.0.0.2:${pds.port}`,
      'http: to 127.0.0.1 written short': `http://127.1:${pds.port}`,
      'http: to [::1]': `http://[::1]:${pds.port}`,
    }
    for (const [label, endpoint] of Object.entries(followed))
      expect(await firstCallOrigin(withPds(endpoint)), label).toBe(new URL(endpoint).origin)

    // Tokens would travel in clear, or to a name a resolver may send anywhere: the client keeps to its service.
    const refused = {
      'http: off this machine': 'http://pds.example.com',
      'http: to a name under localhost': `http://evil.localhost:${pds.port}`,
      'http: to a name ending in localhost': `http://evillocalhost:${pds.port}`,
      'another scheme': 'ftp://127.0.0.1/',
    }
    for (const [label, endpoint] of Object.entries(refused))
      expect(await firstCallOrigin(withPds(endpoint)), label).toBe(pds.origin)
  })

  it("follows only the session's own DID document: its id is the session's DID and it claims the session's handle", async () => {
    const live = await liveSession(alice)
    const elsewhere = 'https://pds.example.com'
    const withDoc = (doc: Record<string, unknown>) => ({
      ...live,
      didDoc: {
        id: alice.did,
        alsoKnownAs: [`at://${alice.handle}`],
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: elsewhere }],
        ...doc,
      },
    })
    const firstCallOrigin = async (saved: SessionData) => {
      const { client, wire } = newClient({
        retry: false,
        before: (sent) => {
          if (sent.origin === elsewhere) throw new TypeError('fetch failed (this test never leaves the machine)')
        },
      })
      await client.authenticate(alice.handle, alice.password, saved)
      await client.com.atproto.server.getSession().catch(() => {})
      return wire.sent[0]!.origin
    }

    expect(await firstCallOrigin(withDoc({ alsoKnownAs: [`at://${alice.handle.toUpperCase()}`] }))).toBe(elsewhere)
    const refused = {
      "another account's document": { id: bob.did, alsoKnownAs: [`at://${bob.handle}`] },
      'no id': { id: undefined },
      'a handle not claimed': { alsoKnownAs: [`at://${bob.handle}`] },
      'the handle without at://': { alsoKnownAs: [alice.handle] },
      'no alsoKnownAs': { alsoKnownAs: undefined },
      'alsoKnownAs not a list': { alsoKnownAs: `at://${alice.handle}` },
    }
    for (const [label, doc] of Object.entries(refused))
      expect(await firstCallOrigin(withDoc(doc)), label).toBe(new URL(network.pdsUrl).origin)
  })
})

describe('store failures: the session goes on in memory, the failure is reported', () => {
  /** A client whose store errors are collected. */
  function storeClient(sessionStore: FileSessionStore, options: Partial<ClientOptions> = {}) {
    const storeErrors: SessionStoreError[] = []
    const made = newClient({ sessionStore, onSessionStoreError: (error) => void storeErrors.push(error), ...options })
    const reported = () => storeErrors.map((error) => [error.operation, error.code])
    return { ...made, storeErrors, reported }
  }

  function expectSafeErrors(errors: SessionStoreError[], session: SessionData | undefined, password: string) {
    for (const error of errors) {
      expect(error).toBeInstanceOf(SessionStoreError)
      const secrets = secretsOf(password, ...(session ? [session.accessJwt, session.refreshJwt] : []))
      for (const shown of showsOf(error)) expectNoSecret(shown, secrets)
    }
  }

  /** Fills the filesystem holding `file` until it refuses (ENOSPC). */
  async function fillUp(file: string) {
    const handle = await (await import('node:fs/promises')).open(file, 'w')
    try {
      for (;;) await handle.write(Buffer.alloc(1024, 1))
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC')
    } finally {
      await handle.close()
    }
  }

  it.skipIf(mountProblem)(
    'a full disk (a filled 16 KiB tmpfs): login and refreshes succeed, ENOSPC is reported, no temporary file is left, and the next change is written once there is room',
    async () => {
      const dir = path.join(scratch, 'full-disk')
      await mkdir(dir)
      mountTmpfs(dir, '16k') // room for the file twice over (the old and its replacement), once emptied
      try {
        await fillUp(path.join(dir, 'filler'))
        const file = path.join(dir, 'session.json')

        // A login.
        const login = storeClient(new FileSessionStore(file))
        const session = await login.client.authenticate(alice.handle, alice.password)
        expect(login.wire.nsids()).toEqual([CREATE])
        expect(login.reported()).toEqual([['set', 'ENOSPC']])
        expect(login.events()).toEqual(['create'])
        expect(await readdir(dir)).toEqual(['filler']) // the temporary file of the failed write is gone
        expect((await login.client.com.atproto.server.getSession()).did).toBe(alice.did)
        expect(login.client.authenticated()?.accessJwt).toBe(session.accessJwt)
        expectSafeErrors(login.storeErrors, session, alice.password)

        // A refresh inside authenticate (a saved session whose access token has expired).
        const live = await liveSession(alice)
        const resumed = storeClient(new FileSessionStore(file))
        const refreshed = await resumed.client.authenticate(alice.handle, alice.password, {
          ...live,
          accessJwt: expired(live.accessJwt),
        })
        expect(resumed.wire.nsids()).toEqual([REFRESH])
        expect(resumed.reported()).toEqual([
          ['lock', 'ENOSPC'], // the refresh lock's file: the refresh goes on without it
          ['set', 'ENOSPC'],
        ])
        expect(refreshed.refreshJwt).not.toBe(live.refreshJwt)
        expect(resumed.client.authenticated()?.refreshJwt).toBe(refreshed.refreshJwt)

        // A refresh mid-use: the server refuses the expired token, the request is retried and succeeds.
        const other = await liveSession(alice)
        const inUse = storeClient(new FileSessionStore(file), { clockSkewMs: -5 * 60_000 }) // trusts the expired token
        await inUse.client.authenticate(alice.handle, alice.password, { ...other, accessJwt: expired(other.accessJwt) })
        inUse.wire.clear()
        expect((await inUse.client.com.atproto.server.getSession()).did).toBe(alice.did)
        expect(inUse.wire.sent.map((s) => [s.nsid, s.status])).toEqual([
          [GET_SESSION, 400],
          [REFRESH, 200],
          [GET_SESSION, 200],
        ])
        expect(inUse.reported()).toEqual([
          ['set', 'ENOSPC'], // re-writing the saved session in authenticate
          ['lock', 'ENOSPC'], // the refresh lock
          ['set', 'ENOSPC'], // the refreshed one
        ])
        expect(await readdir(dir)).toEqual(['filler'])

        // Room again: the next change is written.
        await rm(path.join(dir, 'filler'))
        const next = await inUse.client.com.atproto.server.refreshSession()
        expect(inUse.reported(), JSON.stringify(inUse.reported())).toHaveLength(3) // nothing new: the lock and the write worked
        expect(await new FileSessionStore(file).get()).toMatchObject({ refreshJwt: next.refreshJwt })
        expect((await stat(file)).mode & 0o777).toBe(0o600)
        expect(await readdir(dir)).toEqual(['session.json'])
      } finally {
        unmount(dir)
      }
    },
  )

  it.skipIf(mountProblem)(
    'a read-only directory (a read-only bind mount): a stored session is refreshed, a valid one passed in adopted, logout completes; each EROFS is reported',
    async () => {
      const source = path.join(scratch, 'read-only-source')
      const dir = path.join(scratch, 'read-only')
      await Promise.all([mkdir(source), mkdir(dir)])
      const live = await liveSession(bob)
      await new FileSessionStore(path.join(source, 'session.json')).set({ ...live, accessJwt: expired(live.accessJwt) })
      mountReadOnly(source, dir)
      try {
        const file = path.join(dir, 'session.json')
        const stored = storeClient(new FileSessionStore(file))
        const refreshed = await stored.client.authenticate(bob.handle, bob.password)
        expect(stored.wire.nsids()).toEqual([REFRESH])
        // The refresh lock's file cannot be made either: reported, and the refresh goes on without it.
        expect(stored.reported()).toEqual([
          ['lock', 'EROFS'],
          ['set', 'EROFS'],
        ])
        expect(stored.events()).toEqual(['refresh'])
        expect((await stored.client.com.atproto.server.getSession()).did).toBe(bob.did)
        expect(stored.client.authenticated()?.refreshJwt).toBe(refreshed.refreshJwt)
        expectSafeErrors(stored.storeErrors, refreshed.$data, bob.password)

        // A still-valid saved session, passed in: adopted with no request, though re-writing it fails.
        const passed = storeClient(new FileSessionStore(file))
        const adopted = await passed.client.authenticate(bob.handle, bob.password, refreshed)
        expect(passed.wire.sent).toEqual([])
        expect(passed.reported()).toEqual([['set', 'EROFS']])
        expect(adopted.accessJwt).toBe(refreshed.accessJwt)

        await stored.client.logout()
        expect(stored.reported()).toEqual([
          ['lock', 'EROFS'],
          ['set', 'EROFS'],
          ['delete', 'EROFS'],
        ])
        expect(stored.client.authenticated()).toBeUndefined()
      } finally {
        unmount(dir)
      }
    },
  )

  it('a store path under a regular file (ENOTDIR, needs no mount): reading and writing fail, the login succeeds', async () => {
    const notADirectory = path.join(scratch, 'not-a-directory')
    await writeFile(notADirectory, 'a file')
    const { client, wire, reported, storeErrors } = storeClient(
      new FileSessionStore(path.join(notADirectory, 'sessions', 'session.json')),
    )
    const session = await client.authenticate(alice.handle, alice.password)
    expect(wire.nsids()).toEqual([CREATE])
    expect(reported()).toEqual([
      ['get', 'ENOTDIR'],
      ['set', 'ENOTDIR'],
    ])
    expect(JSON.parse(JSON.stringify(storeErrors[0]))).toEqual({
      name: 'SessionStoreError',
      message: "The session store's get() failed (ENOTDIR); the session goes on in memory",
      operation: 'get',
      code: 'ENOTDIR',
    })
    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
    expectSafeErrors(storeErrors, session.$data, alice.password)
  })
})

describe('FileSessionStore', () => {
  const session = (n: number, padding = 16): SessionData => ({
    did: 'did:plc:filestorefilestorefilest',
    handle: 'file.test',
    accessJwt: `access-${n}`,
    refreshJwt: `refresh-${n}`,
    didDoc: { n, padding: 'x'.repeat(padding) },
  })

  it('round-trips a session in an owner-only file (0600), even over a wider one, and forgets it on delete', async () => {
    const file = path.join(scratch, 'mode', 'session.json')
    const store = new FileSessionStore(file)
    expect(await store.get()).toBeUndefined()
    await mkdir(path.dirname(file))
    await writeFile(file, JSON.stringify(session(1)))
    await chmod(file, 0o644) // a session file someone widened

    await store.set(session(2))

    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await store.get()).toEqual(session(2))
    expect(JSON.parse(JSON.stringify(store))).toEqual({ type: 'FileSessionStore', path: file })
    await store.delete()
    expect(await store.get()).toBeUndefined()
    expect(await readdir(path.dirname(file))).toEqual([])
  })

  it('survives a crash mid-write: a process killed while writing leaves a whole session, never a torn file', async () => {
    // A child process (./support/session-file-writer.ts) overwrites the session in a loop with
    // ~8 MB sessions and is killed with SIGKILL at an arbitrary moment. A leftover temporary file
    // shows the kill landed inside `set` (between creating the temporary file and renaming it);
    // we try until one does. What this proves: replacing the file is atomic against the death of
    // the process. It does not prove durability across a power loss (the directory entry is not
    // fsynced), which no test here can show.
    const writer = fileURLToPath(new URL('./support/session-file-writer.ts', import.meta.url))
    for (let attempt = 1; ; attempt++) {
      const dir = path.join(scratch, `crash-${attempt}`)
      const file = path.join(dir, 'session.json')
      const child = spawn(process.execPath, ['--import', 'tsx', writer, file], {
        cwd: fileURLToPath(new URL('..', import.meta.url)), // where `--import tsx` resolves
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      )
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve())
          child.once('exit', () => reject(new Error('the writer exited before it was ready')))
        })
        await sleep(150 + Math.random() * 300)
      } finally {
        child.kill('SIGKILL')
      }
      expect(await exited).toBe('SIGKILL')

      JSON.parse(await readFile(file, 'utf8')) // whole: it parses
      const saved = (await new FileSessionStore(file).get()) as ReturnType<typeof session>
      const n = Number(/^access-(\d+)$/.exec(saved.accessJwt)?.[1])
      expect(saved.refreshJwt).toBe(`refresh-${n}`)
      const { padding, n: docN } = saved.didDoc as { n: number; padding: string }
      expect(docN).toBe(n)
      expect(padding).toBe(String(n % 10).repeat(n === 0 ? 16 : 8 << 20))
      expect((await stat(file)).mode & 0o777).toBe(0o600)
      expect((await new FileSessionStore(file).get())?.accessJwt).toBe(`access-${n}`)

      const leftovers = (await readdir(dir)).filter((name) => name.endsWith('.tmp'))
      // Killed between two writes: try again. The temporary file exists for ~30-55% of the writer's
      // time, depending on the Node version (least on Node 22), so 5 tries missed now and then; 40 don't.
      if (leftovers.length === 0 && attempt < 40) continue
      expect(leftovers.length).toBeGreaterThan(0)
      for (const leftover of leftovers) expect((await stat(path.join(dir, leftover))).mode & 0o777).toBe(0o600)
      // The store still works after the crash, and a logout removes what the dead writer left: its
      // temporary file, and (logging out of its account too) the file.
      await new FileSessionStore(file).set(session(1))
      expect(await new FileSessionStore(file).get()).toEqual(session(1))
      await new FileSessionStore(file).delete()
      expect(await readdir(dir)).toEqual(['session.json']) // the crash writer's account is another
      await new FileSessionStore(file).delete('did:plc:crashtestcrashtestcrasht')
      expect(await readdir(dir)).toEqual([])
      break
    }
  })

  it('creates missing parent directories owner-only (0700)', async () => {
    const file = path.join(scratch, 'parents', 'a', 'b', 'session.json')
    await new FileSessionStore(file).set(session(1))
    for (const dir of ['parents', 'parents/a', 'parents/a/b'])
      expect((await stat(path.join(scratch, dir))).mode & 0o777, dir).toBe(0o700)
  })

  it("delete removes the temporary files of this path's writers that died or stopped mid-write, and nothing else", async () => {
    const dir = path.join(scratch, 'leftovers')
    const file = path.join(dir, 'session.json')
    await mkdir(dir)
    const dead = spawn(process.execPath, ['-e', '']) // a process that has exited: its pid is free
    await new Promise((resolve) => dead.once('exit', resolve))
    const uuid = () => crypto.randomUUID()
    const litter = [`session.json.${dead.pid}.${uuid()}.tmp`, `session.json.${process.pid}.${uuid()}.tmp`]
    const kept = [
      `session.json.${process.ppid}.${uuid()}.tmp`, // a running process's write in progress
      `other.json.${dead.pid}.${uuid()}.tmp`, // another store's
      'session.json.bak', // the user's
    ]
    for (const name of [...litter, ...kept]) await writeFile(path.join(dir, name), 'tokens')
    const store = new FileSessionStore(file)
    await store.set(session(1))

    await store.delete()

    expect((await readdir(dir)).sort()).toEqual([...kept].sort())
  })

  it('a failed write leaves the previous session intact', async () => {
    const file = path.join(scratch, 'failed-write', 'session.json')
    const store = new FileSessionStore(file)
    await store.set(session(1))
    const unserializable = { ...session(2), didDoc: { n: 10n } } as unknown as SessionData
    await expect(store.set(unserializable)).rejects.toThrow(TypeError)
    expect(await store.get()).toEqual(session(1))
  })

  it('a failed write leaves no temporary file behind', async () => {
    const file = path.join(scratch, 'failed-write-litter', 'session.json')
    const store = new FileSessionStore(file)
    await store.set(session(1))
    const unserializable = { ...session(2), didDoc: { n: 10n } } as unknown as SessionData
    await expect(store.set(unserializable)).rejects.toThrow(TypeError)
    expect(await readdir(path.dirname(file))).toEqual(['session.json'])
  })

  it('two writers in one process (two clients sharing the file) neither fail nor tear the file', async () => {
    const file = path.join(scratch, 'concurrent', 'session.json')
    const stores = [new FileSessionStore(file), new FileSessionStore(file)]
    for (let round = 0; round < 20; round++) {
      const results = await Promise.allSettled([stores[0]!.set(session(1, 100_000)), stores[1]!.set(session(2, 10))])
      expect(
        results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')),
        `round ${round}`,
      ).toEqual(['ok', 'ok'])
      const stored = JSON.stringify(await new FileSessionStore(file).get())
      expect([JSON.stringify(session(1, 100_000)), JSON.stringify(session(2, 10))], `round ${round}`).toContain(stored)
    }
  })
})
