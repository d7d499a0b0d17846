/**
 * Type-level tests: checked by `npm run typecheck` (tsc), where every `@ts-expect-error` must be an
 * error; vitest runs the `expectTypeOf` assertions too. Nothing here reaches a server: the client
 * points at a closed port and every call made here is caught (a call neither awaited nor sent still
 * goes out, on a microtask).
 */
import { describe, expectTypeOf, it } from 'vitest'
import type * as AppBskyActorDefs from '../generated/app/bsky/actor/defs.js'
import { getProfile, type GetProfileResponse } from '../generated/app/bsky/actor/getProfile.js'
import type * as AppBskyFeedLike from '../generated/app/bsky/feed/like.js'
import type * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import type { GetRecordResponse, RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import type { getRecord } from '../generated/com/atproto/repo/getRecord.js'
import type { GetSessionResponse } from '../generated/com/atproto/server/getSession.js'
import { validate } from '../generated/lexicons.js'
import {
  Client,
  oauthScope,
  type DeclaredError,
  type RequestBuilder,
  type ValidationResult,
  type XRPCResponse,
} from '../src/index.js'

const client = new Client({ service: 'http://127.0.0.1:9', retry: false })
const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const now = '2024-01-01T00:00:00.000Z'

/** Builds a call for its type only: the call itself is caught, wherever it would go. */
function typed<T extends PromiseLike<unknown>>(call: T): T {
  Promise.resolve(call).catch(() => {})
  return call
}

describe('types', () => {
  it('types params, results and response getters', () => {
    expectTypeOf(
      typed(client.app.bsky.actor.getProfile({ actor: 'alice.test' })),
    ).resolves.toEqualTypeOf<GetProfileResponse>()
    expectTypeOf<GetProfileResponse['displayName']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<GetProfileResponse['$data']>().toEqualTypeOf<AppBskyActorDefs.ProfileViewDetailed>()
    expectTypeOf<GetProfileResponse['$status']>().toEqualTypeOf<number>()
    expectTypeOf(typed(client.call(getProfile, { actor: did }))).resolves.toEqualTypeOf<GetProfileResponse>()
    expectTypeOf(
      typed(client.app.bsky.actor.getProfile().actor('alice.test').send()),
    ).resolves.toEqualTypeOf<GetProfileResponse>()
    expectTypeOf(
      typed(client.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: 'x' })),
    ).resolves.toEqualTypeOf<GetRecordResponse>()
    expectTypeOf(typed(client.com.atproto.server.deleteSession())).resolves.toEqualTypeOf<XRPCResponse<undefined>>()
    expectTypeOf<DeclaredError<typeof getRecord>>().toEqualTypeOf<RecordNotFoundError>()
  })

  it('types output fields named like HTTP metadata as the lexicon does', () => {
    expectTypeOf<GetSessionResponse['status']>().toEqualTypeOf<
      'takendown' | 'suspended' | 'deactivated' | (string & {}) | undefined
    >()
    expectTypeOf<GetSessionResponse['$status']>().toEqualTypeOf<number>()
    expectTypeOf<GetSessionResponse['$headers']>().toEqualTypeOf<Headers>()
  })

  it('requires required params and input fields in the argument form', () => {
    // @ts-expect-error: a required param is missing
    typed(client.app.bsky.actor.getProfile({}))
    // @ts-expect-error: a required input field is missing
    typed(client.com.atproto.server.createSession({ identifier: 'alice.test' }))
    // @ts-expect-error: an unknown param
    typed(client.app.bsky.actor.getProfile({ actor: 'alice.test', actr: 'x' }))
    // @ts-expect-error: a param of the wrong type
    typed(client.app.bsky.feed.getAuthorFeed({ actor: did, limit: '10' }))
    // @ts-expect-error: a value outside the known filter values is fine, but not a number
    typed(client.app.bsky.feed.getAuthorFeed({ actor: did, filter: 3 }))
    // @ts-expect-error: a fluent setter with the wrong type
    typed(client.app.bsky.actor.getProfile().actor(42))
    // @ts-expect-error: an input field of the wrong type
    typed(client.com.atproto.server.createSession({ identifier: 'alice.test', password: 123 }))
    // @ts-expect-error: binary input needs an encoding
    typed(client.com.atproto.repo.uploadBlob(new Uint8Array([1])))
    // The fluent form may start empty.
    typed(client.app.bsky.actor.getProfile().actor('alice.test'))
  })

  it('keeps builder methods apart from field setters', () => {
    const builder = typed(client.app.bsky.feed.getTimeline().limit(10).$headers({ 'x-a': '1' }))
    expectTypeOf(builder.$signal).toBeFunction()
    expectTypeOf(builder.send).returns.resolves.toHaveProperty('feed')
    expectTypeOf(builder).toMatchTypeOf<RequestBuilder<unknown>>()
  })

  it('types a record by its collection', () => {
    const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', text: 'hi', createdAt: now }
    const like: AppBskyFeedLike.Record = {
      subject: { uri: `at://${did}/app.bsky.feed.post/3k`, cid: 'bafy' },
      createdAt: now,
    }
    const repo = did
    // Values typed as the generated Record interfaces are accepted as they are.
    typed(client.com.atproto.repo.createRecord({ repo, collection: 'app.bsky.feed.post', record: post }))
    typed(client.com.atproto.repo.putRecord({ repo, collection: 'app.bsky.feed.like', rkey: 'x', record: like }))
    // Inline records are checked field by field.
    typed(
      client.com.atproto.repo.createRecord({
        repo,
        collection: 'app.bsky.feed.post',
        record: { text: 'a', createdAt: now },
      }),
    )
    // A collection no lexicon here defines takes any object.
    typed(client.com.atproto.repo.createRecord({ repo, collection: 'com.example.thing', record: { anything: 1 } }))
    typed(
      client.com.atproto.repo.applyWrites({
        repo,
        writes: [
          { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post },
          { $type: 'com.atproto.repo.applyWrites#update', collection: 'app.bsky.feed.like', rkey: 'x', value: like },
          { $type: 'com.atproto.repo.applyWrites#delete', collection: 'app.bsky.feed.post', rkey: 'y' },
        ],
      }),
    )

    // @ts-expect-error: a post is not a like
    typed(client.com.atproto.repo.createRecord({ repo, collection: 'app.bsky.feed.like', record: post }))
    const badText = { text: 1, createdAt: now }
    const noText = { createdAt: now }
    // @ts-expect-error: a post's text is a string
    typed(client.com.atproto.repo.createRecord({ repo, collection: 'app.bsky.feed.post', record: badText }))
    // @ts-expect-error: a post needs its text
    typed(client.com.atproto.repo.putRecord({ repo, collection: 'app.bsky.feed.post', rkey: 'x', record: noText }))
    typed(
      client.com.atproto.repo.applyWrites({
        repo,
        writes: [
          // @ts-expect-error: in applyWrites too, a post is not a like
          { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.like', value: post },
        ],
      }),
    )
    // @ts-expect-error: createRecord input without its collection
    typed(client.com.atproto.repo.createRecord({ repo, record: {} }))
  })

  it('refuses malformed generated types', () => {
    // @ts-expect-error: a post without its text
    const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', createdAt: now }
    // @ts-expect-error: a post claiming another record type
    const liked: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.like', text: '', createdAt: '' }
    // @ts-expect-error: an embed without its $type (the union is open, so any $type-tagged object would do)
    const embedded: AppBskyFeedPost.Record = { text: '', createdAt: '', embed: { images: [] } }
    void [post, liked, embedded]
  })

  it('types the registry by reference', () => {
    const result = validate('app.bsky.feed.post', {})
    if (result.success) expectTypeOf(result.value).toEqualTypeOf<AppBskyFeedPost.Record>()
    expectTypeOf(validate('com.example.unknown#x', {})).toEqualTypeOf<ValidationResult<unknown>>()
  })

  it('types OAuth repo scopes by the record collections the program knows', () => {
    oauthScope().repo(['app.bsky.feed.post', 'app.bsky.graph.follow', '*'], { action: 'create' })
    // @ts-expect-error: a query is no record collection
    oauthScope().repo('app.bsky.feed.getTimeline')
    // @ts-expect-error: no such action (not run: it would throw)
    void (() => oauthScope().repo('app.bsky.feed.post', { action: 'upsert' }))
    // @ts-expect-error: an rpc scope names its service (not run: it would throw)
    void (() => oauthScope().rpc('app.bsky.actor.getProfile'))
  })
})
