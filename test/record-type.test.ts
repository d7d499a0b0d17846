/**
 * A record's `$type` is its collection: on writes to a real PDS (createRecord, putRecord,
 * applyWrites) a record without one gets it, one with another is refused before anything is sent;
 * and validating a whole record by reference requires it exactly, as the PDS and `@atproto/lexicon`
 * do, while the same def nested as an object keeps its object rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import { validate as validateByRef } from '../generated/lexicons.js'
import { Client, ValidationError } from '../src/index.js'
import { compilation } from '../src/runtime/schema/compile.js'
import { checkWithInterpreter } from '../src/runtime/schema/core.js'
import { validate } from '../src/schema.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'

const createdAt = '2024-01-01T00:00:00.000Z'
const POST = 'app.bsky.feed.post'

for (const compiled of [true, false]) {
  describe(`a whole record's $type (${compiled ? 'compiled' : 'generic'} checks)`, () => {
    const saved = compilation.enabled
    beforeAll(() => void (compilation.enabled = compiled))
    afterAll(() => void (compilation.enabled = saved))

    const cases: [string, unknown, string | undefined][] = [
      ['its NSID', { $type: POST, text: 'hi', createdAt }, undefined],
      ['no $type', { text: 'hi', createdAt }, 'is required'],
      ['nsid#main', { $type: `${POST}#main`, text: 'hi', createdAt }, `must be "${POST}"`],
      ['another type', { $type: 'app.bsky.feed.like', text: 'hi', createdAt }, `must be "${POST}"`],
    ]

    it.each(cases)('by reference, as a record: %s', (_name, value, message) => {
      const result = validateByRef(POST, value)
      expect(result).toEqual(
        message === undefined ? { success: true, value } : { success: false, issues: [{ path: '$type', message }] },
      )
      // Both paths alike.
      expect(checkWithInterpreter(AppBskyFeedPost.recordSchema.asRecord, value)).toEqual(result)
    })

    it('nested as an object, the record def keeps the object rules: $type optional, #main accepted', () => {
      const verdicts = cases.map(([, value]) => validate(AppBskyFeedPost.recordSchema, value).success)
      expect(verdicts).toEqual([true, true, true, false])
    })
  })
}

describe('record writes on a real PDS', () => {
  let network: TestNetwork
  let alice: Account
  let client: Client
  const sent: string[] = []

  beforeAll(async () => {
    network = await startNetwork()
    alice = await network.createAccount('alice')
    client = new Client({
      service: network.pdsUrl,
      fetch: (input, init) => {
        sent.push(new URL(input instanceof Request ? input.url : String(input)).pathname.split('/').pop()!)
        return fetch(input, init)
      },
    })
    await client.authenticate(alice.handle, alice.password)
  })
  afterAll(() => network?.close())

  const stored = async (uri: string) => {
    const rkey = uri.split('/').pop()!
    return (await client.com.atproto.repo.getRecord({ repo: alice.did, collection: POST, rkey })).value
  }

  it('fills in a missing $type on what is sent, leaving the caller’s record as it was', async () => {
    const record = { text: 'no type', createdAt }
    const created = await client.com.atproto.repo.createRecord({ repo: alice.did, collection: POST, record })
    expect(record).toEqual({ text: 'no type', createdAt })
    expect(await stored(created.uri)).toEqual({ $type: POST, text: 'no type', createdAt })

    const put = await client.com.atproto.repo.putRecord({
      repo: alice.did,
      collection: POST,
      rkey: '3kznmn7xqxl22',
      record: { text: 'put', createdAt },
    })
    expect(await stored(put.uri)).toEqual({ $type: POST, text: 'put', createdAt })

    const writes = [
      { $type: 'com.atproto.repo.applyWrites#create' as const, collection: POST, value: { text: 'w', createdAt } },
    ]
    const applied = await client.com.atproto.repo.applyWrites({ repo: alice.did, writes })
    expect(writes[0].value).toEqual({ text: 'w', createdAt })
    const result = applied.results![0] as { uri: string }
    expect(await stored(result.uri)).toEqual({ $type: POST, text: 'w', createdAt })
  })

  it('refuses a $type other than the collection (nsid#main included) before sending, as the PDS would', async () => {
    sent.length = 0
    const repo = alice.did
    const attempts = [
      client.com.atproto.repo.createRecord({
        repo,
        collection: POST,
        record: { $type: `${POST}#main`, text: 'x', createdAt } as never,
      }),
      client.com.atproto.repo.putRecord({
        repo,
        collection: POST,
        rkey: 'self',
        record: { $type: 'app.bsky.feed.like', text: 'x', createdAt } as never,
      }),
      client.com.atproto.repo.applyWrites({
        repo,
        writes: [
          {
            $type: 'com.atproto.repo.applyWrites#create',
            collection: 'com.example.unknown',
            value: { $type: 'com.example.other' },
          },
        ],
      }),
    ]
    const errors = await Promise.all(
      attempts.map((call) =>
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
    expect(errors.map((e) => (e as ValidationError).issues.map((issue) => issue.path))).toEqual([
      ['record.$type'],
      ['record.$type'],
      ['writes[0].value.$type'],
    ])
    expect(sent).toEqual([])

    // What the PDS itself says to such a record, sent unchecked: refused too.
    const unchecked = new Client({ service: network.pdsUrl, validate: false })
    await unchecked.authenticate(alice.handle, alice.password)
    await expect(
      unchecked.com.atproto.repo.createRecord({
        repo,
        collection: POST,
        record: { $type: `${POST}#main`, text: 'x', createdAt } as never,
      }),
    ).rejects.toThrow(/\$type/)
  })
})
