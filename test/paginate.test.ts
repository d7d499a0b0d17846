/**
 * `paginate` against a real PDS (com.atproto.repo.listRecords over an account's records), with the
 * requests counted through the client's `fetch`: no page past `max`, no limit above what is still
 * wanted, and the caller's builder left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { paginate } from '../src/facade/paginate.js'
import { Client, UsageError } from '../src/index.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'

const RECORDS = 7
const collection = 'app.bsky.feed.like'

let network: TestNetwork
let alice: Account
let client: Client
/** The query of each listRecords request sent. */
const listed: URLSearchParams[] = []

beforeAll(async () => {
  network = await startNetwork()
  alice = await network.createAccount('alice')
  client = new Client({
    service: network.pdsUrl,
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      if (url.pathname.endsWith('/com.atproto.repo.listRecords')) listed.push(url.searchParams)
      return fetch(input, init)
    },
  })
  await client.authenticate(alice.handle, alice.password)
  const subject = { uri: `at://${alice.did}/app.bsky.feed.post/3kznmn7xqxl22`, cid: await someCid() }
  await client.com.atproto.repo.applyWrites({
    repo: alice.did,
    writes: Array.from({ length: RECORDS }, () => ({
      $type: 'com.atproto.repo.applyWrites#create' as const,
      collection,
      value: { $type: collection, subject, createdAt: new Date().toISOString() },
    })),
  })
})
afterAll(() => network?.close())

/** A real CID: the repo's current commit. */
async function someCid(): Promise<string> {
  return (await client.com.atproto.sync.getLatestCommit({ did: alice.did })).cid
}

const list = () => client.com.atproto.repo.listRecords({ repo: alice.did, collection })

/** Runs `paginate` and returns the items' URIs and the limit and cursor of each request it sent. */
async function run(options: Parameters<typeof paginate>[1], request = list()) {
  listed.length = 0
  const uris: string[] = []
  for await (const record of paginate(request, options)) uris.push(record.uri)
  const requests = listed.map((query) => ({ limit: query.get('limit'), cursor: query.has('cursor') }))
  return { uris, requests }
}

describe('paginate on a real PDS', () => {
  it('reads every item, page by page', async () => {
    const { uris, requests } = await run({ pageSize: 3 })
    expect(new Set(uris).size).toBe(RECORDS)
    expect(requests.slice(0, 3)).toEqual([
      { limit: '3', cursor: false },
      { limit: '3', cursor: true },
      { limit: '3', cursor: true },
    ])
  })

  it('cuts the last page to what max leaves, and sends nothing once max items are yielded', async () => {
    expect(await run({ pageSize: 3, max: 5 })).toMatchObject({
      requests: [
        { limit: '3', cursor: false },
        { limit: '2', cursor: true },
      ],
    })
    expect((await run({ pageSize: 3, max: 6 })).requests).toHaveLength(2)
    // Without a pageSize, the lexicon's default (50) would be fetched for 2 items.
    const few = await run({ max: 2 })
    expect(few.uris).toHaveLength(2)
    expect(few.requests).toEqual([{ limit: '2', cursor: false }])
    expect((await run({ max: 0 })).requests).toEqual([])
  })

  it("keeps the builder's own limit as the page size", async () => {
    const { uris, requests } = await run({ max: 3 }, list().limit(2))
    expect(uris).toHaveLength(3)
    expect(requests).toEqual([
      { limit: '2', cursor: false },
      { limit: '1', cursor: true },
    ])
  })

  it("leaves the caller's builder unchanged", async () => {
    const request = list()
    await run({ pageSize: 2, max: 4 }, request)
    listed.length = 0
    const all = await request.send()
    await list().send()
    expect(all.records).toHaveLength(RECORDS)
    // No cursor, no limit of paginate's: what a fresh builder sends (the lexicon's default limit).
    expect(listed.map((query) => query.toString())).toEqual([listed[1].toString(), listed[1].toString()])
    expect(listed[0].has('cursor')).toBe(false)
  })

  it('refuses a pageSize for an endpoint without a limit param, before sending', async () => {
    const pages = paginate(client.com.atproto.server.describeServer() as any, { pageSize: 2 })
    await expect(pages.next()).rejects.toBeInstanceOf(UsageError)
  })
})
