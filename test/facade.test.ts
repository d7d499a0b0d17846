/**
 * bskyFacade against real servers: writes on a PDS (each creates, reads back and deletes the right
 * record), media through uploadBlob and back, reply refs in a nested thread, concurrent profile
 * updates, bad input refused before anything is written; and every read method, and `paginate`,
 * against a real AppView (PostgreSQL needed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import { bskyFacade, type BskyFacade, PostInputError } from '../src/facade/facade.js'
import { paginate } from '../src/facade/paginate.js'
import { BlueskySDKError, Client, UsageError, ValidationError } from '../src/index.js'
import { describeAppview } from './network/describe-appview.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { fakePng } from './support/images.js'
import { json, startFaultServer } from './support/fault-server.js'

const utf8 = (text: string, start: number, end: number) =>
  new TextDecoder().decode(new TextEncoder().encode(text).slice(start, end))

async function loggedIn(
  network: TestNetwork,
  account: Account,
  calls?: string[],
): Promise<{ client: Client; bsky: BskyFacade }> {
  const client = new Client({
    service: network.pdsUrl,
    fetch: (input, init) => {
      calls?.push(new URL(input instanceof Request ? input.url : String(input)).pathname.split('/').pop()!)
      return fetch(input, init)
    },
  })
  await client.authenticate(account.handle, account.password)
  return { client, bsky: bskyFacade(client) }
}

describe('bskyFacade writes, on a real PDS', () => {
  let network: TestNetwork
  let alice: Account
  let bob: Account
  let bsky: BskyFacade
  let client: Client
  const calls: string[] = []
  const record = async (uri: string) => {
    const [, , repo, collection, rkey] = uri.split('/')
    return (await client.com.atproto.repo.getRecord({ repo, collection, rkey })).value as Record<string, unknown>
  }
  const count = async (collection: string) =>
    (await client.com.atproto.repo.listRecords({ repo: alice.did, collection })).records.length

  beforeAll(async () => {
    network = await startNetwork()
    ;[alice, bob] = await Promise.all([network.createAccount('alice'), network.createAccount('bob')])
    ;({ client, bsky } = await loggedIn(network, alice, calls))
  })
  afterAll(() => network?.close())

  it('posts rich text with facets at the right UTF-8 byte offsets', async () => {
    const text = 'héllo 👋🏽 @bob.test, see example.com/docs. #日本語 #42 @nobody.test'
    const post = await bsky.post({ text, langs: ['en'] })
    const value = (await record(post.uri)) as unknown as AppBskyFeedPost.Record
    expect(value).toMatchObject({ $type: 'app.bsky.feed.post', text, langs: ['en'] })
    const facets = value.facets!.map((f) => [utf8(text, f.index.byteStart, f.index.byteEnd), f.features[0]])
    expect(facets).toEqual([
      ['@bob.test', { $type: 'app.bsky.richtext.facet#mention', did: bob.did }],
      ['example.com/docs', { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/docs' }],
      ['#日本語', { $type: 'app.bsky.richtext.facet#tag', tag: '日本語' }],
    ])
    await bsky.deletePost(post.uri)
    expect(await count('app.bsky.feed.post')).toBe(0)
  })

  it('posts images that round-trip through getBlob, with their aspect ratios', async () => {
    const images = [fakePng(1600, 900), fakePng(300, 400, 2048)]
    const post = await bsky.post({ text: 'pictures', images: images.map((data, i) => ({ data, alt: `picture ${i}` })) })
    const value = (await record(post.uri)) as any
    expect(value.embed.$type).toBe('app.bsky.embed.images')
    expect(value.embed.images.map((i: any) => [i.alt, i.aspectRatio])).toEqual([
      ['picture 0', { width: 1600, height: 900 }],
      ['picture 1', { width: 300, height: 400 }],
    ])
    for (const [i, image] of value.embed.images.entries()) {
      const blob = await client.com.atproto.sync.getBlob({ did: alice.did, cid: image.image.ref.$link })
      expect(blob.data).toEqual(images[i])
      expect(blob.contentType).toBe('image/png')
    }
    await bsky.deletePost(post.uri)
  })

  it('likes and reposts by (uri, cid) as @atproto/api users call them, and refuses a subject that is no record', async () => {
    const post = await bsky.post({ text: 'like me by uri and cid' })
    const like = await bsky.like(post.uri, post.cid)
    const repost = await bsky.repost(post.uri, post.cid)
    expect(await record(like.uri)).toMatchObject({ subject: { uri: post.uri, cid: post.cid } })
    expect(await record(repost.uri)).toMatchObject({ subject: { uri: post.uri, cid: post.cid } })

    calls.length = 0
    const refusals = [
      bsky.like(post.uri), // no CID: a like that would point at nothing
      bsky.like({ uri: 'not an at uri', cid: post.cid }),
      bsky.repost(`at://${alice.did}`, post.cid), // a repo, not a record
      bsky.unlike(post.uri), // a post's URI is not a like's
      bsky.deletePost('at://x/app.bsky.feed.post'),
    ]
    for (const refusal of refusals) {
      const error = await refusal.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(PostInputError)
      expect(error).toBeInstanceOf(BlueskySDKError)
    }
    expect(calls).toEqual([])
    await bsky.unlike(like.uri)
    await bsky.unrepost(repost.uri)
    await bsky.deletePost(post.uri)
  })

  it('posts a video', async () => {
    const video = new Uint8Array(4096)
    video.set([0, 0, 0, 32, ...new TextEncoder().encode('ftypisom')]) // an MP4 file begins with its ftyp box
    const post = await bsky.post({
      text: 'a clip',
      video: { data: video, alt: 'nothing much', aspectRatio: { width: 16, height: 9 } },
    })
    const embed = (await record(post.uri)).embed as any
    expect(embed).toMatchObject({
      $type: 'app.bsky.embed.video',
      alt: 'nothing much',
      aspectRatio: { width: 16, height: 9 },
    })
    expect(embed.video).toMatchObject({ $type: 'blob', mimeType: 'video/mp4', size: 4096 })
    await bsky.deletePost(post.uri)
  })

  it('computes reply refs in a nested thread', async () => {
    const root = await bsky.post({ text: 'root' })
    const first = await bsky.reply(root, 'first reply')
    const second = await bsky.reply(first, { text: 'reply to the reply' })
    expect((await record(first.uri)).reply).toEqual({ root, parent: root })
    expect((await record(second.uri)).reply).toEqual({ root, parent: first })
    for (const post of [second, first, root]) await bsky.deletePost(post.uri)
  })

  it('quotes, with and without media, and posts link cards', async () => {
    const quoted = await bsky.post({ text: 'quote me' })
    const quote = await bsky.quote(quoted, 'quoting')
    expect((await record(quote.uri)).embed).toEqual({ $type: 'app.bsky.embed.record', record: quoted })
    const withMedia = await bsky.quote(quoted, {
      text: 'with a picture',
      images: [{ data: fakePng(10, 10), alt: 'dot' }],
    })
    const embed = (await record(withMedia.uri)).embed as any
    expect(embed.$type).toBe('app.bsky.embed.recordWithMedia')
    expect(embed.record).toEqual({ record: quoted })
    expect(embed.media.$type).toBe('app.bsky.embed.images')
    const card = await bsky.post({
      text: 'a link',
      external: { uri: 'https://atproto.com', title: 'AT Protocol', description: 'docs', thumb: fakePng(1200, 630) },
    })
    const external = ((await record(card.uri)).embed as any).external
    expect(external).toMatchObject({ uri: 'https://atproto.com', title: 'AT Protocol', description: 'docs' })
    expect(external.thumb).toMatchObject({ $type: 'blob', mimeType: 'image/png' })
    for (const post of [card, withMedia, quote, quoted]) await bsky.deletePost(post.uri)
  })

  it('likes and reposts, follows and blocks, and undoes each', async () => {
    const post = await bsky.post({ text: 'like me' })
    const before = Date.now()
    const like = await bsky.like(post)
    const repost = await bsky.repost(post)
    const follow = await bsky.follow(bob.handle)
    const block = await bsky.block(bob.did)
    for (const [uri, $type, subject] of [
      [like.uri, 'app.bsky.feed.like', post],
      [repost.uri, 'app.bsky.feed.repost', post],
      [follow.uri, 'app.bsky.graph.follow', bob.did],
      [block.uri, 'app.bsky.graph.block', bob.did],
    ] as const) {
      const value = await record(uri)
      expect(value).toMatchObject({ $type, subject })
      expect(Date.parse(value.createdAt as string)).toBeGreaterThanOrEqual(before - 1000)
    }
    await bsky.unlike(like.uri)
    await bsky.unrepost(repost.uri)
    await bsky.unfollow(bob.handle) // by account: the follow record is found and deleted
    await bsky.unblock(block.uri)
    for (const collection of [
      'app.bsky.feed.like',
      'app.bsky.feed.repost',
      'app.bsky.graph.follow',
      'app.bsky.graph.block',
    ]) {
      expect(await count(collection)).toBe(0)
    }
    await bsky.deletePost(post.uri)
  })

  it('upserts the profile under two concurrent writers, keeping both changes', async () => {
    const [a, b] = [bsky, (await loggedIn(network, alice)).bsky]
    await Promise.all([
      a.upsertProfile((profile) => ({ ...profile, displayName: 'Alice' })),
      b.upsertProfile((profile) => ({ ...profile, description: 'Writes code' })),
    ])
    expect(await record(`at://${alice.did}/app.bsky.actor.profile/self`)).toMatchObject({
      $type: 'app.bsky.actor.profile',
      displayName: 'Alice',
      description: 'Writes code',
    })
  })

  it('updates preferences: saved feeds and muted words', async () => {
    const feed = `at://${bob.did}/app.bsky.feed.generator/cats`
    await bsky.addSavedFeed(feed, { pinned: true })
    await bsky.addSavedFeed(feed) // already there: no duplicate
    await bsky.addMutedWord('#spoilers')
    const preferences = await bsky.getPreferences()
    const saved = preferences.find((p) => p.$type === 'app.bsky.actor.defs#savedFeedsPrefV2') as any
    expect(saved.items).toEqual([{ id: expect.any(String), type: 'feed', value: feed, pinned: true }])
    const muted = preferences.find((p) => p.$type === 'app.bsky.actor.defs#mutedWordsPref') as any
    // actorTarget is the lexicon's default, filled in when the response is validated.
    expect(muted.items).toEqual([
      { id: expect.any(String), value: 'spoilers', targets: ['content', 'tag'], actorTarget: 'all' },
    ])
  })

  it('refuses bad input before anything is written', async () => {
    calls.length = 0
    const posts = await count('app.bsky.feed.post')
    await expect(bsky.post({ text: 'x'.repeat(301) })).rejects.toThrow(/300/)
    const five = Array.from({ length: 5 }, (_, i) => ({ data: fakePng(10, 10), alt: `${i}` }))
    await expect(bsky.post({ text: 'five', images: five })).rejects.toThrow('at most 4 images')
    await expect(
      bsky.post({ text: 'big', images: [{ data: fakePng(10, 10, 2_000_001), alt: 'big' }] }),
    ).rejects.toThrow(PostInputError)
    await expect(
      bsky.post({ text: 'not an image', images: [{ data: new TextEncoder().encode('plain text'), alt: 'x' }] }),
    ).rejects.toThrow(PostInputError)
    await expect(bsky.follow('nobody-here.test')).rejects.toThrow('Unknown account nobody-here.test')
    // Checked by the client against the post lexicon, as every record it writes.
    const badLang = await bsky.post({ text: 'hi', langs: ['not a language!'] }).catch((e: unknown) => e)
    expect(badLang).toBeInstanceOf(ValidationError)
    expect((badLang as ValidationError).issues).toEqual([{ path: 'record.langs[0]', message: expect.any(String) }])
    // A facade that acts for no account says so before anything is sent.
    const anonymous = bskyFacade(new Client({ service: network.pdsUrl }))
    await expect(anonymous.like(`at://${bob.did}/app.bsky.feed.post/3kaaaaaaaaa22`, 'bafy')).rejects.toThrow(
      PostInputError,
    )
    await expect(anonymous.post({ text: 'who am I' })).rejects.toBeInstanceOf(UsageError)
    expect(calls.filter((call) => call.endsWith('uploadBlob') || call.endsWith('createRecord'))).toEqual([])
    expect(await count('app.bsky.feed.post')).toBe(posts)
    expect(await count('app.bsky.graph.follow')).toBe(0)
  })

  it('leaves no half-created post when the create fails after uploading', async () => {
    const posts = await count('app.bsky.feed.post')
    const error = await bsky
      .post({
        text: 'broken reply',
        images: [{ data: fakePng(10, 10), alt: 'x' }],
        replyTo: {
          uri: `at://${alice.did}/app.bsky.feed.post/3kaaaaaaaaa22`,
          cid: 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq',
        },
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(await count('app.bsky.feed.post')).toBe(posts)
  })

  it('reaches chat through the chat proxy', async () => {
    const server = await startFaultServer()
    try {
      server.script(json(200, { convos: [] }))
      await bskyFacade(new Client({ service: server.url })).chat.convo.listConvos()
      expect(server.requests[0].headers['atproto-proxy']).toBe('did:web:api.bsky.chat#bsky_chat')
    } finally {
      await server.close()
    }
  })
})

describeAppview('bskyFacade reads, on a real AppView (needs PostgreSQL)', () => {
  let network: TestNetwork
  let alice: Account, bob: Account, carol: Account
  let a: BskyFacade, b: BskyFacade, c: BskyFacade
  let root: { uri: string; cid: string }
  let reply: { uri: string; cid: string }

  beforeAll(async () => {
    network = await startNetwork({ appview: true })
    ;[alice, bob, carol] = await Promise.all([
      network.createAccount('alice'),
      network.createAccount('bob'),
      network.createAccount('carol'),
    ])
    ;[{ bsky: a }, { bsky: b }, { bsky: c }] = await Promise.all(
      [alice, bob, carol].map((account) => loggedIn(network, account)),
    )
    await a.upsertProfile(() => ({ displayName: 'Alice', description: 'first of three' }))
    await b.follow(alice.did)
    await c.follow(alice.handle)
    await a.follow(bob.did)
    for (let i = 1; i <= 5; i++) await a.post({ text: `post number ${i} about cats` })
    root = await a.post({ text: 'hello @bob.test and @carol.test #threads' })
    // The AppView indexes repos concurrently: a reply indexed before its parent notifies nobody.
    await network.processAll()
    reply = await b.reply(root, 'hi alice')
    await network.processAll()
    await c.reply(reply, 'hi both')
    await b.like(root)
    await c.like(root)
    await b.repost(root)
    await network.processAll()
  }, 120_000)
  afterAll(() => network?.close())

  it('gets profiles', async () => {
    const profile = await b.getProfile(alice.handle)
    expect(profile).toMatchObject({
      did: alice.did,
      displayName: 'Alice',
      followersCount: 2,
      followsCount: 1,
      postsCount: 6,
    })
    const profiles = await b.getProfiles([alice.did, carol.did])
    expect(profiles.profiles.map((p) => p.handle)).toEqual([alice.handle, carol.handle])
  })

  it('gets timelines, author feeds and threads', async () => {
    const timeline = await b.getTimeline({ limit: 50 })
    expect(timeline.feed.some((item) => item.post.uri === root.uri)).toBe(true)
    const feed = await b.getAuthorFeed(alice.handle, { limit: 3 })
    expect(feed.feed).toHaveLength(3)
    expect(feed.cursor).toBeTruthy()
    const thread = await b.getPostThread(root.uri)
    const view = thread.thread as any
    expect(view.post.uri).toBe(root.uri)
    expect(view.replies[0].post.uri).toBe(reply.uri)
    expect(view.replies[0].replies[0].post.record.text).toBe('hi both')
  })

  it('lists followers, follows, likes and reposts', async () => {
    expect((await a.getFollowers(alice.did)).followers.map((p) => p.did).sort()).toEqual([bob.did, carol.did].sort())
    expect((await a.getFollows(alice.did)).follows.map((p) => p.did)).toEqual([bob.did])
    expect((await a.getLikes(root.uri)).likes.map((l) => l.actor.did).sort()).toEqual([bob.did, carol.did].sort())
    expect((await a.getRepostedBy(root.uri)).repostedBy.map((p) => p.did)).toEqual([bob.did])
  })

  it('searches posts and actors, and lists notifications', async () => {
    const posts = await a.searchPosts('cats')
    expect(posts.posts.length).toBeGreaterThan(0)
    const actors = await a.searchActors('alice')
    expect(actors.actors.map((p) => p.did)).toContain(alice.did)
    const notifications = await a.listNotifications()
    const reasons = new Set(notifications.notifications.map((n) => n.reason))
    for (const reason of ['follow', 'like', 'repost', 'reply']) expect(reasons).toContain(reason)
    const mentioned = await b.listNotifications()
    expect(mentioned.notifications.map((n) => n.reason)).toContain('mention')
  })

  it('paginates over a feed longer than one page', async () => {
    const uris: string[] = []
    for await (const item of paginate(b.getAuthorFeed(alice.did), { pageSize: 2 })) uris.push(item.post.uri)
    expect(uris).toHaveLength(6)
    expect(new Set(uris).size).toBe(6)
    const first = []
    for await (const item of paginate(b.getAuthorFeed(alice.did), { pageSize: 2, max: 3 })) first.push(item.post.uri)
    expect(first).toEqual(uris.slice(0, 3))
  })

  it('mutes and unmutes accounts and threads', async () => {
    await b.mute(carol.did)
    await network.processAll()
    expect((await b.getProfile(carol.did)).viewer?.muted).toBe(true)
    await b.unmute(carol.did)
    await b.muteThread(root.uri)
    await network.processAll()
    expect((await b.getProfile(carol.did)).viewer?.muted).toBe(false)
    const thread = (await b.getPostThread(root.uri)).thread as any
    expect(thread.post.viewer.threadMuted).toBe(true)
    await b.unmuteThread(root.uri)
  })

  it('resolves handles', async () => {
    expect(await a.resolveHandle('@carol.test')).toBe(carol.did)
  })
})
