/**
 * The client against a real PDS and PLC directory (in-process, on loopback): accounts, sessions,
 * records, blobs, repo and identity reads, preferences, and the server's errors as typed classes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import { RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import {
  AuthMissingError,
  Client,
  InvalidRequestError,
  InvalidTokenError,
  RateLimitError,
  ValidationError,
  XRPCError,
} from '../src/index.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'

let network: TestNetwork
let alice: Account
let bob: Account
let client: Client
const sent: string[] = []

beforeAll(async () => {
  network = await startNetwork()
  ;[alice, bob] = await Promise.all([network.createAccount('alice'), network.createAccount('bob')])
  client = new Client({
    service: network.pdsUrl,
    fetch: (input, init) => {
      sent.push(new URL(input instanceof Request ? input.url : String(input)).pathname)
      return fetch(input, init)
    },
  })
  await client.authenticate(alice.handle, alice.password)
})
afterAll(() => network?.close())

const now = () => new Date().toISOString()

describe('against a real PDS', () => {
  it('describes the server', async () => {
    const server = await client.com.atproto.server.describeServer()
    expect(server.availableUserDomains).toContain('.test')
    expect(server.did).toMatch(/^did:/)
  })

  it('creates an account and a session', async () => {
    const anonymous = new Client({ service: network.pdsUrl })
    const created = await anonymous.com.atproto.server.createAccount({
      handle: 'carol.test',
      email: 'carol@example.com',
      password: 'carol-password',
    })
    expect(created.handle).toBe('carol.test')
    expect(created.did).toMatch(/^did:plc:/)
    const session = await anonymous.com.atproto.server.createSession({
      identifier: 'carol.test',
      password: 'carol-password',
    })
    expect(session.did).toBe(created.did)
    expect(session.accessJwt.split('.')).toHaveLength(3)
    expect(session.$rateLimit).toBeUndefined() // rate limits are off on this server
    expect(session.$status).toBe(200)
  })

  it('writes, reads, lists, replaces and deletes posts, likes, follows and profiles', async () => {
    const repo = alice.did
    const post = await client.com.atproto.repo.createRecord({
      repo,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'hello from blueskysdk', createdAt: now() },
    })
    expect(post.uri).toMatch(new RegExp(`^at://${repo}/app.bsky.feed.post/`))
    const rkey = post.uri.split('/').pop()!

    const read = await client.com.atproto.repo.getRecord({ repo, collection: 'app.bsky.feed.post', rkey })
    expect(read.cid).toBe(post.cid)
    expect(read.value).toMatchObject({ $type: 'app.bsky.feed.post', text: 'hello from blueskysdk' })

    const like = await client.com.atproto.repo.createRecord({
      repo,
      collection: 'app.bsky.feed.like',
      record: { $type: 'app.bsky.feed.like', subject: { uri: post.uri, cid: post.cid }, createdAt: now() },
    })
    const follow = await client.com.atproto.repo.createRecord({
      repo,
      collection: 'app.bsky.graph.follow',
      record: { $type: 'app.bsky.graph.follow', subject: bob.did, createdAt: now() },
    })
    const profile = await client.com.atproto.repo.putRecord({
      repo,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: 'Alice', description: 'first' },
    })
    const replaced = await client.com.atproto.repo.putRecord({
      repo,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      swapRecord: profile.cid,
      record: { $type: 'app.bsky.actor.profile', displayName: 'Alice A.', description: 'second' },
    })
    expect(replaced.cid).not.toBe(profile.cid)

    for (const [collection, uri] of [
      ['app.bsky.feed.like', like.uri],
      ['app.bsky.graph.follow', follow.uri],
    ]) {
      const listed = await client.com.atproto.repo.listRecords({ repo, collection })
      expect(listed.records.map((r) => r.uri)).toEqual([uri])
    }
    const profiles = await client.com.atproto.repo.listRecords({ repo, collection: 'app.bsky.actor.profile' })
    expect(profiles.records[0].value).toMatchObject({ displayName: 'Alice A.' })

    for (const uri of [post.uri, like.uri, follow.uri]) {
      const [, , , collection, key] = uri.split('/')
      await client.com.atproto.repo.deleteRecord({ repo, collection, rkey: key })
    }
    const gone = await client.com.atproto.repo
      .getRecord({ repo, collection: 'app.bsky.feed.post', rkey })
      .catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(RecordNotFoundError)
    expect(gone).toMatchObject({ status: 400, error: 'RecordNotFound' })
  })

  it('runs createRecord, getRecord, listRecords, putRecord and deleteRecord for each everyday record type', async () => {
    const repo = alice.did
    const subject = {
      uri: `at://${bob.did}/app.bsky.feed.post/3kaaaaaaaaa22`,
      cid: 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq',
    }
    const kinds: [string, (n: number) => Record<string, unknown>][] = [
      ['app.bsky.feed.post', (n) => ({ $type: 'app.bsky.feed.post', text: `version ${n}`, createdAt: now() })],
      [
        'app.bsky.feed.like',
        (n) => ({ $type: 'app.bsky.feed.like', subject, createdAt: `2024-01-0${n}T00:00:00.000Z` }),
      ],
      [
        'app.bsky.graph.follow',
        (n) => ({ $type: 'app.bsky.graph.follow', subject: bob.did, createdAt: `2024-01-0${n}T00:00:00.000Z` }),
      ],
      ['app.bsky.actor.profile', (n) => ({ $type: 'app.bsky.actor.profile', displayName: `Alice ${n}` })],
    ]
    for (const [collection, record] of kinds) {
      const rkey = collection === 'app.bsky.actor.profile' ? 'self' : undefined
      // The profile (rkey self) may exist from an earlier test; creating over it is an error.
      if (rkey) await client.com.atproto.repo.deleteRecord({ repo, collection, rkey })
      const first = record(1)
      const created = await client.com.atproto.repo.createRecord({ repo, collection, rkey, record: first })
      const key = created.uri.split('/').pop()!
      expect((await client.com.atproto.repo.getRecord({ repo, collection, rkey: key })).value, collection).toEqual(
        first,
      )
      const listed = await client.com.atproto.repo.listRecords({ repo, collection })
      expect(
        listed.records.map((r) => r.uri),
        collection,
      ).toContain(created.uri)
      const replaced = await client.com.atproto.repo.putRecord({
        repo,
        collection,
        rkey: key,
        record: record(2),
        swapRecord: created.cid,
      })
      expect((await client.com.atproto.repo.getRecord({ repo, collection, rkey: key })).cid, collection).toBe(
        replaced.cid,
      )
      await client.com.atproto.repo.deleteRecord({ repo, collection, rkey: key, swapRecord: replaced.cid })
      await expect(
        client.com.atproto.repo.getRecord({ repo, collection, rkey: key }),
        collection,
      ).rejects.toBeInstanceOf(RecordNotFoundError)
    }
  })

  it('applies several writes at once', async () => {
    const result = await client.com.atproto.repo.applyWrites({
      repo: alice.did,
      writes: [
        {
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          rkey: '3kaaaaaaaaa22',
          value: { $type: 'app.bsky.feed.post', text: 'one', createdAt: now() },
        },
        {
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          rkey: '3kaaaaaaaab22',
          value: { $type: 'app.bsky.feed.post', text: 'two', createdAt: now() },
        },
      ],
    })
    expect(result.results).toHaveLength(2)
    await client.com.atproto.repo.applyWrites({
      repo: alice.did,
      writes: ['3kaaaaaaaaa22', '3kaaaaaaaab22'].map((rkey) => ({
        $type: 'com.atproto.repo.applyWrites#delete' as const,
        collection: 'app.bsky.feed.post',
        rkey,
      })),
    })
    const left = await client.com.atproto.repo.listRecords({ repo: alice.did, collection: 'app.bsky.feed.post' })
    expect(left.records).toEqual([])
  })

  it('uploads a blob, embeds it in a post, and reads the same bytes back', async () => {
    const bytes = new Uint8Array(2048).map((_, i) => (i * 31) % 256)
    const upload = await client.com.atproto.repo.uploadBlob(bytes, { encoding: 'image/png' })
    expect(upload.blob).toMatchObject({ $type: 'blob', mimeType: 'image/png', size: 2048 })
    const post = await client.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: {
        $type: 'app.bsky.feed.post',
        text: 'a picture',
        embed: { $type: 'app.bsky.embed.images', images: [{ image: upload.blob, alt: 'a gradient' }] },
        createdAt: now(),
      },
    })
    expect(post.uri).toBeTruthy()
    const cid = 'ref' in upload.blob ? upload.blob.ref.$link : upload.blob.cid
    const blob = await client.com.atproto.sync.getBlob({ did: alice.did, cid })
    expect(blob.data).toEqual(bytes)
    expect(blob.$data).toBe(blob.data)
    expect(blob.contentType).toBe('image/png')
  })

  it('describes a repo and resolves a handle', async () => {
    const repo = await client.com.atproto.repo.describeRepo({ repo: alice.handle })
    expect(repo).toMatchObject({ did: alice.did, handle: alice.handle, handleIsCorrect: true })
    const resolved = await client.com.atproto.identity.resolveHandle({ handle: bob.handle })
    expect(resolved.did).toBe(bob.did)
  })

  it('puts and gets preferences', async () => {
    const preferences = [
      { $type: 'app.bsky.actor.defs#adultContentPref', enabled: false },
      {
        $type: 'app.bsky.actor.defs#savedFeedsPrefV2',
        items: [{ id: '3kaaaaaaaaa22', type: 'timeline', value: 'following', pinned: true }],
      },
    ]
    await client.app.bsky.actor.putPreferences({ preferences })
    const read = await client.app.bsky.actor.getPreferences()
    expect(read.preferences).toEqual(preferences)
  })

  it('maps the server errors to typed classes', async () => {
    const invalid = await client.com.atproto.repo
      .createRecord(
        {
          repo: alice.did,
          collection: 'app.bsky.feed.post',
          record: { $type: 'app.bsky.feed.post', text: 42 } as unknown as AppBskyFeedPost.Record,
        },
        { validate: false },
      )
      .catch((e: unknown) => e)
    expect(invalid).toBeInstanceOf(InvalidRequestError)
    expect(invalid).toMatchObject({ status: 400, error: 'InvalidRequest' })

    const anonymous = new Client({ service: network.pdsUrl })
    const missing = await anonymous.app.bsky.actor.getPreferences().catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(AuthMissingError)
    expect(missing).toMatchObject({ status: 401, error: 'AuthMissing' })

    const forged = await anonymous.app.bsky.actor
      .getPreferences(undefined, { headers: { authorization: 'Bearer not.a.token' } })
      .catch((e: unknown) => e)
    expect(forged).toBeInstanceOf(InvalidTokenError)
    expect(forged).toBeInstanceOf(XRPCError)
    expect(forged).toMatchObject({ status: 400, error: 'InvalidToken' })
  })

  it('refuses a bad param without sending a request', async () => {
    sent.length = 0
    const error = await client.com.atproto.repo
      .listRecords({ repo: alice.did, collection: 'not an nsid' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues).toEqual([{ path: 'collection', message: 'must be a valid NSID' }])
    await expect(
      client.com.atproto.repo.listRecords({ repo: alice.did, collection: 'app.bsky.feed.post', limit: 1000 }),
    ).rejects.toThrow('limit: must not be greater than 100')
    expect(sent).toEqual([])
  })
})

describe('v2 behaviour against a real PDS', () => {
  const post = (text: string): AppBskyFeedPost.Record => ({ $type: 'app.bsky.feed.post', text, createdAt: now() })
  const countPosts = async () =>
    (await client.com.atproto.repo.listRecords({ repo: alice.did, collection: 'app.bsky.feed.post', limit: 100 }))
      .records.length

  it('sends a createRecord nobody awaits, exactly once', async () => {
    const before = await countPosts()
    sent.length = 0
    client.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post('fire') })
    const deadline = Date.now() + 5_000
    while ((await countPosts()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await new Promise((resolve) => setTimeout(resolve, 100)) // a second write, if one were coming
    expect(await countPosts()).toBe(before + 1)
    expect(sent.filter((path) => path.endsWith('/com.atproto.repo.createRecord'))).toHaveLength(1)
  })

  it('refuses invalid records in createRecord, putRecord and applyWrites with the field named, sending nothing', async () => {
    sent.length = 0
    const repo = alice.did
    const refusals = [
      client.com.atproto.repo.createRecord({ repo, collection: 'app.bsky.feed.post', record: post('x'.repeat(3001)) }),
      client.com.atproto.repo.createRecord({
        repo,
        collection: 'app.bsky.feed.post',
        record: { ...post('hi'), createdAt: 'yesterday' },
      }),
      // A post under the like collection: refused as a like (as the types refuse it too).
      client.com.atproto.repo.createRecord({ repo, collection: 'app.bsky.feed.like', record: post('hi') as never }),
      client.com.atproto.repo.putRecord({
        repo,
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
        record: { displayName: 'x'.repeat(700) },
      }),
      client.com.atproto.repo.applyWrites({
        repo,
        writes: [
          { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post('ok') },
          {
            $type: 'com.atproto.repo.applyWrites#create',
            collection: 'app.bsky.feed.post',
            value: { text: 7 } as never,
          },
        ],
      }),
    ]
    const errors = await Promise.all(
      refusals.map((call) =>
        call.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    )
    for (const error of errors) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).part).toBe('record')
    }
    expect(errors.map((e) => (e as ValidationError).issues.map((i) => i.path))).toEqual([
      ['record.text'],
      ['record.createdAt'],
      ['record.$type', 'record.subject'],
      ['record.displayName'],
      ['writes[1].value.text', 'writes[1].value.createdAt'],
    ])
    expect((errors[0] as ValidationError).message).toMatch(/record\.text: must not be longer than 3000 bytes/)
    expect(sent).toEqual([])

    // A collection no lexicon of the client defines passes through to the server, which decides.
    const unknown = await client.com.atproto.repo
      .createRecord({ repo, collection: 'com.example.thing', record: { anything: 1 } })
      .then(
        (created) => created.uri,
        (e: unknown) => e,
      )
    expect(sent).toEqual(['/xrpc/com.atproto.repo.createRecord'])
    expect(String(unknown)).toMatch(/^at:\/\/|InvalidRequest/)
  })

  it('reads every output field named like HTTP metadata through its getter: status, with $status beside it', async () => {
    const account = await network.createAccount()
    const own = new Client({ service: network.pdsUrl })
    await own.authenticate(account.handle, account.password)
    await own.com.atproto.server.deactivateAccount({})

    const status = await own.com.atproto.sync.getRepoStatus({ did: account.did })
    expect(status.status).toBe('deactivated')
    expect(status.active).toBe(false)
    expect(status.$status).toBe(200)

    const session = await own.com.atproto.server.getSession()
    expect(session.status).toBe('deactivated')
    expect(session.$status).toBe(200)
    expect(session.$headers.get('content-type')).toMatch(/^application\/json/)

    const refreshed = await own.com.atproto.server.refreshSession()
    expect(refreshed.status).toBe('deactivated')

    const login = await new Client({ service: network.pdsUrl }).com.atproto.server.createSession({
      identifier: account.handle,
      password: account.password,
    })
    expect(login.status).toBe('deactivated')
    expect(login.active).toBe(false)
    expect(login.toJSON()).toMatchObject({ status: 'deactivated', did: account.did })
  })
})

describe('against a rate-limited PDS', () => {
  let limited: TestNetwork
  beforeAll(async () => {
    limited = await startNetwork({ rateLimits: true })
  })
  afterAll(() => limited?.close())

  it('surfaces a 429 as a RateLimitError with the reset time', async () => {
    const account = await limited.createAccount('dave')
    const anonymous = new Client({ service: limited.pdsUrl })
    // createSession allows 30 per 5 minutes per account; the 31st is refused (procedures are not retried).
    let error: unknown
    for (let attempt = 0; attempt < 31 && !error; attempt++) {
      error = await anonymous.com.atproto.server
        .createSession({ identifier: account.handle, password: account.password })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
    }
    expect(error).toBeInstanceOf(RateLimitError)
    const { reset, rateLimit, status } = error as RateLimitError
    expect(status).toBe(429)
    expect(rateLimit).toMatchObject({ limit: 30, remaining: 0 })
    expect(reset!.getTime()).toBeGreaterThan(Date.now())
    expect(reset!.getTime()).toBeLessThanOrEqual(Date.now() + 5 * 60_000 + 1_000)
  })
})
