/**
 * Type-level tests: checked by `npm run typecheck` (tsc), where every `@ts-expect-error` must be an
 * error; vitest runs the `expectTypeOf` assertions too. Nothing here is sent anywhere: the builders
 * are created and never awaited.
 */
import { describe, expectTypeOf, it } from 'vitest'
import type * as AppBskyActorDefs from '../generated/app/bsky/actor/defs.js'
import type * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import { getProfile, type GetProfileResponse } from '../generated/app/bsky/actor/getProfile.js'
import type { GetRecordResponse, RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import type { getRecord } from '../generated/com/atproto/repo/getRecord.js'
import { validate } from '../generated/lexicons.js'
import { Client, type DeclaredError, type ValidationResult, type XRPCResponse } from '../src/index.js'

const client = new Client({ service: 'http://127.0.0.1:9' })
const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

describe('types', () => {
  it('types params, results and response getters', () => {
    expectTypeOf(client.app.bsky.actor.getProfile({ actor: 'alice.test' })).resolves.toEqualTypeOf<GetProfileResponse>()
    expectTypeOf<GetProfileResponse['displayName']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<GetProfileResponse['data']>().toEqualTypeOf<AppBskyActorDefs.ProfileViewDetailed>()
    expectTypeOf(client.call(getProfile, { actor: did })).resolves.toEqualTypeOf<GetProfileResponse>()
    expectTypeOf(
      client.app.bsky.actor.getProfile().actor('alice.test').send(),
    ).resolves.toEqualTypeOf<GetProfileResponse>()
    expectTypeOf(
      client.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: 'x' }),
    ).resolves.toEqualTypeOf<GetRecordResponse>()
    expectTypeOf(client.com.atproto.server.deleteSession()).resolves.toEqualTypeOf<XRPCResponse<undefined>>()
    expectTypeOf<DeclaredError<typeof getRecord>>().toEqualTypeOf<RecordNotFoundError>()
  })

  it('refuses wrong params, wrong input fields and wrong record types', () => {
    // @ts-expect-error: a required param is missing
    client.app.bsky.actor.getProfile({})
    // @ts-expect-error: an unknown param
    client.app.bsky.actor.getProfile({ actor: 'alice.test', actr: 'x' })
    // @ts-expect-error: a param of the wrong type
    client.app.bsky.feed.getAuthorFeed({ actor: did, limit: '10' })
    // @ts-expect-error: a value outside the known filter values is fine, but not a number
    client.app.bsky.feed.getAuthorFeed({ actor: did, filter: 3 })
    // @ts-expect-error: a fluent setter with the wrong type
    client.app.bsky.actor.getProfile().actor(42)
    // @ts-expect-error: createRecord input without its collection
    client.com.atproto.repo.createRecord({ repo: did, record: {} })
    // @ts-expect-error: an input field of the wrong type
    client.com.atproto.server.createSession({ identifier: 'alice.test', password: 123 })
    // @ts-expect-error: binary input needs an encoding
    client.com.atproto.repo.uploadBlob(new Uint8Array([1]))

    // @ts-expect-error: a post without its text
    const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', createdAt: '2024-01-01T00:00:00Z' }
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
})
