import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { inspect } from 'node:util'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, OAuthSessionError } from '../src/index.js'
import { RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import { FileSessionStore, RedisSessionStore } from '../src/node.js'
import { createOAuthClient, oauthKeysFromEnv, signInLoopback } from '../src/oauth.js'
import { describeAppview } from './network/describe-appview.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { connectRedis, describeRedis, redisUrl } from './network/redis.js'
import { chromiumMissing, hasChromium, launchChromium } from './support/chromium.js'
import { repoRoot } from './support/codegen.js'
import { signInAsAPerson } from './support/oauth-sign-in.js'

/**
 * OAuth end to end against the local PDS's own authorization server (PAR, PKCE, DPoP, its sign-in
 * and consent pages driven in headless Chromium as a person would), with the OAuth client of
 * `@atproto/oauth-client-node` set up by `createOAuthClient` on the SDK's stores, its sessions
 * driving the namespaced client.
 */

if (!hasChromium && process.env.CI === 'true') throw new Error(`CI=true: ${chromiumMissing}`)

let network: TestNetwork
let browser: Browser
let scratch: string
let alice: Account

beforeAll(async () => {
  network = await startNetwork({ appview: true })
  browser = await launchChromium()
  scratch = await mkdtemp(path.join(os.tmpdir(), 'oauth-'))
  alice = await network.createAccount('alice')
  await network.processAll()
})
afterAll(async () => {
  await browser?.close()
  await network?.close()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

/** What the OAuth client sent to the PDS: each request's path, method, and the headers that matter here. */
interface Sent {
  path: string
  method: string
  authorization: string | null
  dpop: boolean
  body: string
}

function recordingFetch(sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const body = request.method === 'POST' ? await request.clone().text() : ''
    sent.push({
      path: new URL(request.url).pathname,
      method: request.method,
      authorization: request.headers.get('authorization'),
      dpop: request.headers.has('dpop'),
      body,
    })
    return fetch(request)
  }
}

function localOptions() {
  return { plcUrl: network.plcUrl, handleResolver: network.pdsUrl, allowHttp: true }
}

/** Signs `account` in through the browser with a loopback client; gives the session. */
async function signIn(oauth: Awaited<ReturnType<typeof createOAuthClient>>, account: Account) {
  return signInLoopback(oauth, account.handle, {
    open: (url) => signInAsAPerson(browser, url, { password: account.password }),
  })
}

describeAppview('OAuth with a loopback client', () => {
  it.skipIf(!hasChromium)(
    'signs in with PAR, PKCE and DPoP, then the namespaced client writes, reads and deletes records and gets a typed profile',
    async () => {
      const sent: Sent[] = []
      const file = path.join(scratch, 'sessions.json')
      const store = new FileSessionStore(file, { encryptionKey: randomBytes(32) })
      const oauth = await createOAuthClient({ store, ...localOptions(), fetch: recordingFetch(sent) })
      const metadata = oauth.clientMetadata
      expect(metadata.client_id).toMatch(/^http:\/\/localhost\?/)
      // The client id names the redirect without a port (any port matches on loopback); this run's has one.
      expect(new URL(metadata.client_id).searchParams.get('redirect_uri')).toBe('http://127.0.0.1/callback')
      expect(metadata.redirect_uris[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)

      let shownPage = ''
      const session = await signInLoopback(oauth, alice.handle, {
        open: async (url) => {
          expect(url.origin).toBe(new URL(network.pdsUrl).origin)
          shownPage = await signInAsAPerson(browser, url, { password: alice.password })
        },
      })
      expect(session.did).toBe(alice.did)
      expect(shownPage).toContain(`Signed in as ${alice.handle}`)

      // PAR with a PKCE S256 challenge and a DPoP proof; the code exchanged with its verifier, DPoP-bound.
      const par = sent.find((request) => request.path === '/oauth/par')!
      expect(par.dpop).toBe(true)
      const parBody = new URLSearchParams(par.body)
      expect(parBody.get('code_challenge_method')).toBe('S256')
      expect(parBody.get('code_challenge')).toMatch(/^[\w-]{43}$/)
      expect(parBody.get('login_hint')).toBe(alice.handle)
      const exchange = sent.find((request) => request.path === '/oauth/token')!
      expect(exchange.dpop).toBe(true)
      expect(new URLSearchParams(exchange.body).get('grant_type')).toBe('authorization_code')
      expect(new URLSearchParams(exchange.body).get('code_verifier')).toMatch(/^[\w-]{43,128}$/)
      const info = await session.getTokenInfo()
      expect(info.scope.split(' ').sort()).toEqual(['atproto', 'transition:generic'])

      // The session as it is drives the namespaced client; every call is DPoP-signed.
      sent.length = 0
      const client = new Client({ auth: session })
      expect(client.did).toBe(alice.did)
      const text = `over OAuth ${randomBytes(4).toString('hex')}`
      const created = await client.com.atproto.repo.createRecord({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        record: { text, createdAt: new Date().toISOString() },
      })
      const rkey = created.uri.split('/').pop()!
      const read = await client.com.atproto.repo.getRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey })
      expect(read.value).toMatchObject({ $type: 'app.bsky.feed.post', text })
      expect(read.cid).toBe(created.cid)
      await client.com.atproto.repo.deleteRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey })
      await expect(
        client.com.atproto.repo.getRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey }),
      ).rejects.toBeInstanceOf(RecordNotFoundError)

      await network.processAll()
      const profile = await client.app.bsky.actor.getProfile({ actor: alice.did })
      expect(profile.did).toBe(alice.did)
      expect(profile.handle).toBe(alice.handle)

      const xrpc = sent.filter((request) => request.path.startsWith('/xrpc/'))
      expect(xrpc.map((request) => request.path)).toEqual([
        '/xrpc/com.atproto.repo.createRecord',
        '/xrpc/com.atproto.repo.getRecord',
        '/xrpc/com.atproto.repo.deleteRecord',
        '/xrpc/com.atproto.repo.getRecord',
        '/xrpc/app.bsky.actor.getProfile',
      ])
      for (const request of xrpc) {
        expect(request.authorization).toMatch(/^DPoP /)
        expect(request.dpop).toBe(true)
      }

      // Stored in the file, sealed: no token in it, none in what the client shows of itself.
      const { access_token, refresh_token } = (await store.oauthStores().sessionStore.get(alice.did)).tokenSet
      const stored = await readFile(file, 'utf8')
      for (const shown of [stored, JSON.stringify(client), inspect(client, { depth: 5 })]) {
        expect(shown).not.toContain(access_token)
        expect(shown).not.toContain(refresh_token)
      }

      // Another process (a later run) restores it from the file by DID.
      const later = await createOAuthClient({
        store: new FileSessionStore(file, { encryptionKey: undefined }),
        ...localOptions(),
      })
      await expect(later.restore(alice.did)).rejects.toThrow() // without the key the sealed session is unreadable
    },
  )

  it.skipIf(!hasChromium)(
    'a sign-in the person denies rejects with the provider’s error, and stores nothing',
    async () => {
      const store = new FileSessionStore(path.join(scratch, 'denied.json'))
      const oauth = await createOAuthClient({ store, ...localOptions() })
      const bob = await network.createAccount()
      const signingIn = signInLoopback(oauth, bob.handle, {
        open: (url) => signInAsAPerson(browser, url, { password: bob.password, deny: true }),
      })
      const failure = await signingIn.catch((error: unknown) => error)
      expect((failure as { params?: URLSearchParams }).params?.get('error')).toBe('access_denied')
      expect(await store.oauthStores().sessionStore.get(bob.did)).toBeUndefined()
    },
  )

  it.skipIf(!hasChromium)(
    'a revoked session fails with OAuthSessionError, not a retry or a network error',
    async () => {
      const carol = await network.createAccount()
      const store = new FileSessionStore(path.join(scratch, 'revoked.json'))
      const oauth = await createOAuthClient({ store, ...localOptions() })
      const session = await signIn(oauth, carol)
      const client = new Client({ auth: session })
      await client.com.atproto.server.getSession()

      // Revoked at the authorization server by another process holding a copy of the session (as an
      // app's other server signing the user out would): the PDS refuses the access token, and the
      // OAuth client's refresh is refused too.
      const stored = await store.oauthStores().sessionStore.get(carol.did)
      const { refresh_token } = stored.tokenSet
      const elsewhere = new FileSessionStore(path.join(scratch, 'revoked-copy.json'))
      await elsewhere.oauthStores().sessionStore.set(carol.did, stored)
      await (await createOAuthClient({ store: elsewhere, ...localOptions() })).revoke(carol.did)
      const failure = await client.com.atproto.server.getSession().catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(OAuthSessionError)
      expect(failure).toMatchObject({ did: carol.did })
      expect(String(failure)).not.toContain(refresh_token)

      // Signed out here: the same, at once.
      const dave = await network.createAccount()
      const daveSession = await signIn(oauth, dave)
      const daveClient = new Client({ auth: daveSession })
      await daveSession.signOut()
      await expect(daveClient.com.atproto.server.getSession()).rejects.toBeInstanceOf(OAuthSessionError)
      // And a session gone from the store can't be restored: the same error, not the OAuth client's own.
      await expect(oauth.restore(dave.did)).rejects.toBeInstanceOf(OAuthSessionError)
    },
  )
})

describeRedis('OAuth sessions shared by processes', () => {
  describeAppview('on Redis', () => {
    let redis: Awaited<ReturnType<typeof connectRedis>>
    beforeAll(async () => {
      redis = await connectRedis()
    })
    afterAll(() => redis?.destroy())

    /** Signs `account` in on a fresh Redis prefix, then marks its access token expired in the store. */
    async function expiredSharedSession(account: Account) {
      const prefix = `oauth-test:${randomBytes(4).toString('hex')}:`
      const stores = new RedisSessionStore({ client: redis, prefix }).oauthStores()
      const oauth = await createOAuthClient({ store: stores, ...localOptions() })
      await signIn(oauth, account)
      const stored = await stores.sessionStore.get(account.did)
      await stores.sessionStore.set(account.did, {
        ...stored,
        tokenSet: { ...stored.tokenSet, expires_at: new Date(Date.now() - 60_000).toISOString() },
      })
      return { prefix, stores, before: stored.tokenSet.refresh_token as string }
    }

    async function runWorkers(prefix: string, did: string, locking: 'lock' | 'no-lock', count = 3) {
      const worker = path.join(repoRoot, 'test/support/oauth-worker.ts')
      const children = Array.from({ length: count }, () =>
        spawn(
          process.execPath,
          ['--import', 'tsx', worker, network.pdsUrl, network.plcUrl, `${redisUrl}#${prefix}`, did, locking],
          { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] },
        ),
      )
      const lines = children.map((child) => {
        let out = ''
        child.stdout.on('data', (chunk: Buffer) => (out += chunk))
        return {
          ready: new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('ready\n') && resolve())),
          done: new Promise<string>((resolve) => child.on('exit', () => resolve(out))),
        }
      })
      await Promise.all(lines.map((line) => line.ready))
      for (const child of children) child.stdin.end('go\n')
      const outputs = await Promise.all(lines.map((line) => line.done))
      return outputs.map((out) => JSON.parse(out.split('\n').filter(Boolean).at(-1)!) as Record<string, unknown>)
    }

    it.skipIf(!hasChromium)(
      'an expired session found by three processes at once is refreshed once, under the Redis lock, and stays alive',
      async () => {
        const erin = await network.createAccount()
        const { prefix, stores, before } = await expiredSharedSession(erin)
        const results = await runWorkers(prefix, erin.did, 'lock')
        expect(results).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ ok: true, did: erin.did })))
        expect(results.reduce((sum, result) => sum + (result.refreshes as number), 0)).toBe(1)
        const after = await stores.sessionStore.get(erin.did)
        expect(after.tokenSet.refresh_token).not.toBe(before) // rotated, and the new one stored
        const oauth = await createOAuthClient({ store: stores, ...localOptions() })
        const client = new Client({ auth: await oauth.restore(erin.did) })
        expect((await client.com.atproto.server.getSession()).did).toBe(erin.did)
      },
    )

    it.skipIf(!hasChromium)(
      'without the lock the three processes race with one refresh token, and the provider refuses the replays: dead sessions',
      async () => {
        const frank = await network.createAccount()
        const { prefix } = await expiredSharedSession(frank)
        const results = await runWorkers(prefix, frank.did, 'no-lock')
        // The provider rotates a refresh token in one transaction: one of them is granted new tokens.
        // The others lose the race: replaying the used token revokes the whole session (the winner's
        // too), or, sent while the rotation is under way, fails with the provider's server_error.
        expect(results.reduce((sum, result) => sum + (result.refreshes as number), 0)).toBe(1)
        const failures = results.filter((result) => !result.ok)
        expect(failures.length).toBeGreaterThanOrEqual(2)
        for (const failure of failures) expect(failure.error).toMatch(/^OAuthSessionError: |OAuth "server_error"/)
      },
    )
  })
})

describe('createOAuthClient for a confidential web back end', () => {
  it('builds private_key_jwt metadata and serves only public keys', async () => {
    const { JoseKey } = await import('@atproto/oauth-client-node')
    const key = await JoseKey.generate(['ES256'], 'k1')
    const env = { OAUTH_PRIVATE_KEYS: JSON.stringify([key.privateJwk]) }
    const oauth = await createOAuthClient({
      clientId: 'https://app.example.com/oauth-client-metadata.json',
      redirectUris: ['https://app.example.com/oauth/callback'],
      keys: oauthKeysFromEnv('OAUTH_PRIVATE_KEYS', env),
      clientName: 'Example',
    })
    expect(oauth.clientMetadata).toMatchObject({
      client_id: 'https://app.example.com/oauth-client-metadata.json',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      application_type: 'web',
      dpop_bound_access_tokens: true,
      jwks_uri: 'https://app.example.com/jwks.json',
      scope: 'atproto transition:generic',
    })
    expect(oauth.jwks.keys).toEqual([expect.objectContaining({ kid: 'k1', kty: 'EC', crv: 'P-256' })])
    expect(JSON.stringify(oauth.jwks)).not.toContain('"d"')
  })

  it('refuses what cannot work, naming no key material', async () => {
    expect(() => oauthKeysFromEnv('OAUTH_PRIVATE_KEYS', {})).toThrow(/OAUTH_PRIVATE_KEYS is not set/)
    expect(() => oauthKeysFromEnv('OAUTH_PRIVATE_KEYS', { OAUTH_PRIVATE_KEYS: 'secret-ish' })).toThrow(/neither a JWK/)
    const notAKey = { kty: 'EC', crv: 'P-256', d: 'secret-part', kid: 'bad' } // no public part
    const failure = await createOAuthClient({
      clientId: 'https://app.example.com/client.json',
      redirectUris: ['https://app.example.com/cb'],
      keys: [notAKey],
    }).catch((error: unknown) => error)
    expect(String(failure)).toMatch(/OAuth private key 1 \(bad\)/)
    expect(String(failure)).not.toContain('secret-part')
    await expect(createOAuthClient({ scope: 'transition:generic' })).rejects.toThrow(/must include "atproto"/)
    await expect(
      createOAuthClient({
        clientId: 'http://app.example.com/c.json',
        redirectUris: ['https://a.example/cb'],
        keys: [],
      }),
    ).rejects.toThrow(/https URL/)
  })

  it('a scope builder goes in as its string', async () => {
    const { oauthScope } = await import('../src/index.js')
    const scope = oauthScope()
      .repo('app.bsky.feed.post', { action: 'create' })
      .rpc('app.bsky.actor.getProfile', { aud: '*' })
    const oauth = await createOAuthClient({ scope })
    expect(oauth.clientMetadata.scope).toBe(String(scope))
    expect(new URL(oauth.clientMetadata.client_id).searchParams.get('scope')).toBe(String(scope))
  })
})
