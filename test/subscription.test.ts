/**
 * Subscriptions end to end against the local PDS's own `com.atproto.sync.subscribeRepos`: activity
 * written with the client comes back as typed, validated record operations, exactly as written;
 * the faults a real server can't be made to show (a dropped, stalled or corrupted stream) come
 * from a WebSocket proxy on loopback in front of it (./support/stream-proxy.ts). On Node 20 the
 * tests use `ws` (which pauses and pings); where there is a global WebSocket (Node 22, 24) they use
 * that, which can do neither, so both ways of backpressure and stall detection are tested.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  FutureCursorError,
  isAccount,
  isCommit,
  isIdentity,
  isInfo,
} from '../generated/com/atproto/sync/subscribeRepos.js'
import {
  Client,
  InvalidMessageError,
  isRecordWrite,
  MemoryCursorStore,
  PasswordSession,
  RepoVerificationError,
  UsageError,
  ValidationError,
  XRPCError,
  type RepoOperation,
  type SubscribeOptions,
  type WebSocketConstructor,
} from '../src/index.js'
import { FileCursorStore, RedisCursorStore } from '../src/node.js'
import { signatureVerifier } from '../src/verify.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { connectRedis, describeRedis } from './network/redis.js'
import { repoRoot } from './support/codegen.js'
import { realPng } from './support/images.js'
import { startStreamProxy, type StreamProxy, type Tampering } from './support/stream-proxy.js'

const webSocket = ((globalThis as { WebSocket?: unknown }).WebSocket ?? WebSocket) as WebSocketConstructor
// ws's class is a WebSocketConstructor as it is, with no cast (tsc checks this line).
const withWs: SubscribeOptions = { webSocket: WebSocket }
const usesWs = webSocket === (WebSocket as unknown)

let network: TestNetwork
let proxy: StreamProxy
let alice: Account
let client: Client
/** An account that only writes headSeq's markers. */
let marker: Account
let markerClient: Client

/** Options every subscription of these tests takes: the WebSocket, fast reconnection. */
const base: SubscribeOptions = { ...withWs, webSocket, reconnect: { minDelayMs: 20, maxDelayMs: 200 } }

beforeAll(async () => {
  network = await startNetwork()
  proxy = await startStreamProxy(network.pdsUrl)
  alice = await network.createAccount()
  const session = new PasswordSession({ service: network.pdsUrl })
  client = new Client({ auth: session })
  await session.authenticate(alice.handle, alice.password)
  marker = await network.createAccount()
  const markerSession = new PasswordSession({ service: network.pdsUrl })
  await markerSession.authenticate(marker.handle, marker.password)
  markerClient = new Client({ auth: markerSession })
})
afterAll(async () => {
  await proxy?.close()
  await network?.close()
})

/**
 * The firehose's last seq now: what a subscription from `from` must reach. A marker commit is
 * written and the stream read until it arrives, so the head is known rather than guessed from a
 * quiet spell (on a loaded machine the PDS's backfill paused longer than any such spell: a head
 * short of the writes, even `from` itself).
 */
async function headSeq(from = 0): Promise<number> {
  return (await readToMarker(from)).seq
}

/** headSeq's read, and how long the messages took from the first to the marker's: the stream's own pace. */
async function readToMarker(from: number): Promise<{ seq: number; messages: number; ms: number }> {
  const { commit } = await markerClient.com.atproto.repo.createRecord({
    repo: marker.did,
    collection: 'com.example.marker',
    record: { $type: 'com.example.marker' },
  })
  const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos({ cursor: from }, base)
  let first: number | undefined
  let messages = 0
  for await (const message of sub) {
    first ??= performance.now()
    messages++
    if (isCommit(message) && message.repo === marker.did && message.rev === commit?.rev) {
      const ms = performance.now() - first
      await sub.close()
      return { seq: message.seq, messages, ms }
    }
  }
  throw new Error(`the stream from ${from} ended before the marker commit`)
}

async function post(text: string) {
  return client.com.atproto.repo.createRecord({
    repo: alice.did,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
  })
}

/** Reads `sub` until a message with `seq >= until`, returning the seqs of what it yielded. */
async function seqsUntil(sub: AsyncIterable<{ $type: string; seq?: unknown }>, until: number): Promise<number[]> {
  const seqs: number[] = []
  for await (const message of sub) {
    const seq = seqOf(message)
    if (seq !== undefined) seqs.push(seq)
    if ((seq ?? 0) >= until) break
  }
  return seqs
}

/** A message's seq (every kind has one but `#info`). */
const seqOf = (message: { $type: string; seq?: unknown }): number | undefined =>
  typeof message.seq === 'number' ? message.seq : undefined

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('subscribeRepos on the local PDS', () => {
  it('yields every op written, exactly as written: record, CID, collection and rkey, typed and validated', async () => {
    const from = await headSeq()
    const bob = await network.createAccount()
    const written: { action: string; uri: string; cid: string | null; record?: object }[] = []
    const write = async (collection: string, record: Record<string, unknown>, rkey?: string) => {
      const input = { repo: alice.did, collection, record: { $type: collection, ...record } }
      const result = rkey
        ? await client.com.atproto.repo.putRecord({ ...input, rkey })
        : await client.com.atproto.repo.createRecord(input)
      written.push({
        action: rkey && written.some((w) => w.uri === result.uri) ? 'update' : 'create',
        uri: result.uri,
        cid: result.cid,
        record: input.record,
      })
      return result
    }
    const createdAt = new Date().toISOString()
    const first = await write('app.bsky.feed.post', { text: 'hello @bob.test, the firehose', createdAt, langs: ['en'] })
    const reply = { root: { uri: first.uri, cid: first.cid }, parent: { uri: first.uri, cid: first.cid } }
    await write('app.bsky.feed.post', { text: 'a reply', reply, createdAt })
    const like = await write('app.bsky.feed.like', { subject: { uri: first.uri, cid: first.cid }, createdAt })
    await write('app.bsky.graph.follow', { subject: bob.did, createdAt })
    const upload = await client.com.atproto.repo.uploadBlob(realPng(8, 8), { encoding: 'image/png' })
    await write('app.bsky.actor.profile', { displayName: 'Alice', avatar: upload.blob }, 'self')
    await write('app.bsky.actor.profile', { displayName: 'Alice A.', avatar: upload.blob }, 'self')
    await client.com.atproto.repo.deleteRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.like',
      rkey: like.uri.split('/').pop()!,
    })
    written.push({ action: 'delete', uri: like.uri, cid: null })
    await client.com.atproto.identity.updateHandle({ handle: 'alice-renamed.test' })

    const ops: RepoOperation[] = []
    let identity: { did: string; handle?: string } | undefined
    const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos({ cursor: from }, base)
    for await (const message of sub) {
      if (isCommit(message) && message.repo === alice.did) {
        expect(message.ops.length).toBe(1)
        ops.push(...message.ops)
      }
      if (isIdentity(message) && message.did === alice.did && message.handle === 'alice-renamed.test') {
        identity = message
        break
      }
    }
    expect(sub.stats.invalid).toBe(0)
    expect(identity).toMatchObject({ $type: 'com.atproto.sync.subscribeRepos#identity', did: alice.did })

    expect(ops.map((op) => [op.action, `at://${alice.did}/${op.path}`, op.cid?.$link ?? null])).toEqual(
      written.map((w) => [w.action, w.uri, w.cid]),
    )
    for (const [i, op] of ops.entries()) {
      const [collection, rkey] = written[i].uri.split('/').slice(-2)
      expect(op).toMatchObject({ collection, rkey, path: `${collection}/${rkey}` })
      // Decoded from the commit's CAR blocks: the record as written (blob refs in their JSON form).
      if (op.action !== 'delete') expect(JSON.parse(JSON.stringify(op.record))).toEqual(written[i].record)
      expect(op.action === 'delete' || op.invalid === undefined).toBe(true)
    }
    const posts = ops.filter((op) => isRecordWrite(op, 'app.bsky.feed.post'))
    expect(posts.map((op) => (isRecordWrite(op, 'app.bsky.feed.post') ? op.record.text : undefined))).toEqual([
      'hello @bob.test, the firehose',
      'a reply',
    ])
  })

  it('is callable by descriptor and by NSID, lazily: nothing connects until the loop asks', async () => {
    const before = proxy.connections()
    const sub = new Client({ service: proxy.url }).call(
      'com.atproto.sync.subscribeRepos',
      { cursor: 0 },
      base,
    ) as AsyncIterableIterator<unknown> & { close(): Promise<void> }
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(proxy.connections()).toBe(before)
    expect((await sub.next()).done).toBe(false)
    expect(proxy.connections()).toBe(before + 1)
    await sub.close()
    expect((await sub.next()).done).toBe(true)
  })

  it('refuses bad params before connecting', async () => {
    const before = proxy.connections()
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({ cursor: 'soon' as never }, base)
    await expect(sub.next()).rejects.toBeInstanceOf(ValidationError)
    expect(proxy.connections()).toBe(before)
  })

  it('ends with the typed error of an error frame: FutureCursor', async () => {
    const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos({ cursor: 10 ** 9 }, base)
    const error = await sub.next().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FutureCursorError)
    expect(error).toMatchObject({ error: 'FutureCursor', nsid: 'com.atproto.sync.subscribeRepos' })
    expect((await sub.next()).done).toBe(true)
  })

  it('tells a consumer whose cursor is older than the backfill window: #info OutdatedCursor, then what is kept', async () => {
    const before = await headSeq()
    // Everything so far ages by 1.2 s; the window then reaches back to half a second before the post
    // written next, however long that write takes: the post is inside it, every older event outside.
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const writing = Date.now()
    try {
      const kept = await post('inside the backfill window')
      network.setRepoBackfillLimit(Date.now() - writing + 500)
      const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos({ cursor: 0 }, base)
      const messages: { $type: string }[] = []
      for await (const message of sub) {
        messages.push(message)
        if (isCommit(message) && message.rev === kept.commit?.rev) break
      }
      const [info, ...rest] = messages
      expect(isInfo(info)).toBe(true)
      expect(info).toMatchObject({ $type: 'com.atproto.sync.subscribeRepos#info', name: 'OutdatedCursor' })
      // The stream went on from the oldest event the window keeps: the post, nothing from before it.
      expect(rest.map((message) => message.$type)).toEqual(['com.atproto.sync.subscribeRepos#commit'])
      expect(seqOf(rest[0])).toBeGreaterThan(before)
      expect(sub.stats.invalid).toBe(0)
    } finally {
      network.setRepoBackfillLimit(undefined)
    }
  })

  it('surfaces account status changes as typed #account messages', async () => {
    const from = await headSeq()
    const carol = await network.createAccount()
    const session = new PasswordSession({ service: network.pdsUrl })
    await session.authenticate(carol.handle, carol.password)
    const carolClient = new Client({ auth: session })
    await carolClient.com.atproto.server.deactivateAccount({})
    await carolClient.com.atproto.server.activateAccount()

    const statuses: { active: boolean; status?: string }[] = []
    const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos({ cursor: from }, base)
    for await (const message of sub) {
      if (!isAccount(message) || message.did !== carol.did) continue
      statuses.push({ active: message.active, ...(message.status && { status: message.status }) })
      if (statuses.length === 3) break
    }
    // Created (active), deactivated, activated again: each typed by its $type, validated.
    expect(statuses).toEqual([{ active: true }, { active: false, status: 'deactivated' }, { active: true }])
    expect(sub.stats.invalid).toBe(0)
  })

  it('says what to do where the runtime has no WebSocket', async () => {
    const global = globalThis as { WebSocket?: unknown }
    const saved = global.WebSocket
    delete global.WebSocket
    try {
      const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({ cursor: 0 })
      await expect(sub.next()).rejects.toThrow(UsageError)
      await expect(new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({}).next()).rejects.toThrow(
        /import WebSocket from 'ws'/,
      )
    } finally {
      if (saved !== undefined) global.WebSocket = saved
    }
  })
})

describe('faults on the stream', () => {
  let head: number
  beforeAll(async () => {
    for (let i = 0; i < 20; i++) await post(`fault fodder ${i}`)
    head = await headSeq()
  })

  it('reconnects after a dropped connection and resumes after the last seq received: no loss, no repeat', async () => {
    proxy.dropAfter(5)
    const reconnects: number[] = []
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, onReconnect: (event) => reconnects.push(event.cursor!) },
    )
    const before = proxy.connections()
    const seqs = await seqsUntil(sub, head)
    expect(seqs).toEqual(range(1, head))
    expect(sub.stats.reconnects).toBe(1)
    expect(proxy.connections()).toBe(before + 2)
    expect(proxy.queries().at(-1)!.get('cursor')).toBe(String(reconnects[0]))
    expect(reconnects[0]).toBeGreaterThanOrEqual(5)
  })

  it('comes back after a ConsumerTooSlow error frame, from where it was; another error frame ends it, typed', async () => {
    proxy.errorAfter(6, 'ConsumerTooSlow')
    const reasons: string[] = []
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, onReconnect: (event) => reasons.push(event.reason) },
    )
    expect(await seqsUntil(sub, head)).toEqual(range(1, head))
    expect(reasons).toEqual(['ended with ConsumerTooSlow'])

    proxy.errorAfter(2, 'SomethingElse')
    const ended = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({ cursor: 0 }, base)
    const error = await seqsUntil(ended, head).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(XRPCError)
    expect(error).toMatchObject({ error: 'SomethingElse', status: 0, message: 'SomethingElse (from the proxy)' })
    expect(ended.cursor).toBe(2)
  })

  it('with reconnect off, ends the loop when the server ends the stream normally, and throws when it drops it', async () => {
    proxy.endAfter(3)
    const ends = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, reconnect: false },
    )
    expect(await seqsUntil(ends, head)).toEqual([1, 2, 3])
    proxy.dropAfter(3)
    const drops = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, reconnect: false },
    )
    const error = await seqsUntil(drops, head).catch((e: unknown) => e)
    expect(String(error)).toMatch(/^NetworkError: The com.atproto.sync.subscribeRepos stream closed \(1006/)
  })

  it('finds a stalled connection and reconnects', async () => {
    proxy.stallAfter(4)
    const reasons: string[] = []
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, stallTimeoutMs: 300, onReconnect: (event) => reasons.push(event.reason) },
    )
    expect(await seqsUntil(sub, head)).toEqual(range(1, head))
    expect(reasons).toEqual(['stalled (nothing for 300 ms)'])
  })

  it('reports a corrupted frame as an InvalidMessageError: ends the stream without a handler', async () => {
    proxy.corruptAfter(3)
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({ cursor: 0 }, base)
    const seqs: number[] = []
    const error = await (async () => {
      for await (const message of sub) seqs.push(seqOf(message)!)
    })().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidMessageError)
    expect(String(error)).toMatch(/unreadable frame: not DAG-CBOR/)
    expect(seqs).toEqual([1, 2, 3])
    expect(sub.cursor).toBe(3)
  })

  it('hands a corrupted (truncated) frame to onInvalidMessage and goes on', async () => {
    proxy.corruptAfter(3, 'truncate')
    const invalid: InvalidMessageError[] = []
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, onInvalidMessage: (error) => invalid.push(error) },
    )
    const seqs = await seqsUntil(sub, head)
    expect(invalid).toHaveLength(1)
    expect(invalid[0]).toBeInstanceOf(InvalidMessageError)
    // The frame that could not be read is the one reported, not dropped in silence; the rest all came.
    expect(seqs).toEqual(range(1, head).filter((seq) => seq !== 4))
    expect(sub.stats.invalid).toBe(1)
  })
})

describe('verify: every repo event against what its repo signed', () => {
  let head: number
  beforeAll(async () => {
    await post('signed, and proven by the tree') // a commit creating a record: what the proxy lies about
    head = await headSeq()
  })

  it('accepts the real stream: every commit and sync signed by its repo, every op proven by the signed tree', async () => {
    const verify = signatureVerifier({ plcUrl: network.plcUrl })
    const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, verify },
    )
    expect(await seqsUntil(sub, head)).toEqual(range(1, head))
    expect(sub.stats.invalid).toBe(0)
  })

  const cases: [Tampering, RegExp][] = [
    // The first commit creating a record: a post, or one of headSeq's markers.
    ['record', /the record of [a-z.]+\/\w+ does not hash to its CID/],
    ['op', /the signed tree does not hold [a-z.]+\/\w+ at the op's CID/],
    ['signature', /the commit's signature is not did:plc:/],
  ]
  for (const [how, reason] of cases) {
    it(`refuses a commit that lies (${how}) with a RepoVerificationError, never as data`, async () => {
      const verify = signatureVerifier({ plcUrl: network.plcUrl })
      proxy.tamperAfter(0, how)
      const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({ cursor: 0 }, { ...base, verify })
      const seen: number[] = []
      const error = await (async () => {
        for await (const message of sub) seen.push(seqOf(message)!)
      })().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RepoVerificationError)
      expect((error as RepoVerificationError).reason).toMatch(reason)
      // Everything before the lie came, and the cursor stops before it.
      expect(seen).toEqual(range(1, (error as RepoVerificationError).seq! - 1))
      expect(sub.cursor).toBe((error as RepoVerificationError).seq! - 1)
    })
  }

  it('without verify, the same lie would pass for data: what verify is for', async () => {
    proxy.tamperAfter(0, 'record')
    const sub = new Client({ service: proxy.url }).com.atproto.sync.subscribeRepos({ cursor: 0 }, base)
    for await (const message of sub) {
      if (isCommit(message)) for (const op of message.ops) if (op.record?.text === 'not what was signed') return
      if (seqOf(message)! >= head) throw new Error('the tampered commit never came')
    }
  })
})

describe('the cursor: at-least-once', () => {
  let head: number
  beforeAll(async () => {
    head = await headSeq()
  })

  it('commits a message when the loop asks for the next one; a throwing handler leaves its message for the next run', async () => {
    const store = new MemoryCursorStore()
    const failing = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
      {},
      { ...base, cursorStore: store },
    )
    // No cursor in the params or the store: live from now. Start it, then write.
    const started = failing.next()
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (let i = 0; i < 5; i++) await post(`at least once ${i}`)
    const seen: number[] = []
    // A live stream may begin with events the PDS sequenced just before it connected (it emits them
    // a little after their commit): those at or below head are not this test's writes.
    const thrown = await (async () => {
      const first = await started
      if (!first.done && seqOf(first.value)! > head) seen.push(seqOf(first.value)!)
      for await (const message of failing) {
        if (seqOf(message)! <= head) continue
        seen.push(seqOf(message)!)
        if (seen.length === 3) throw new Error('the handler failed')
      }
    })().catch((e: unknown) => e)
    expect(String(thrown)).toContain('the handler failed')
    expect(seen).toEqual(range(head + 1, head + 3))
    await failing.close()
    expect(await store.get()).toBe(head + 2) // the third was never handled

    // The next run starts with the message whose handler failed: one duplicate, nothing lost.
    const again = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
      {},
      { ...base, cursorStore: store },
    )
    expect(await seqsUntil(again, head + 5)).toEqual(range(head + 3, head + 5))
    await again.close()
    expect(await store.get()).toBe(head + 4) // the last one was broken out of, not committed

    // commit() before a break moves the store past the message.
    const committing = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
      {},
      { ...base, cursorStore: store },
    )
    for await (const message of committing) {
      expect(message).toMatchObject({ seq: head + 5 })
      committing.commit()
      break
    }
    expect(await store.get()).toBe(head + 5)
  })

  it('keeps the cursor in a file across processes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cursor-'))
    try {
      const file = path.join(dir, 'cursor.json')
      const first = new FileCursorStore(file, { key: 'firehose' })
      const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
        { cursor: 0 },
        { ...base, cursorStore: first },
      )
      await seqsUntil(sub, 10)
      expect(await new FileCursorStore(file, { key: 'firehose' }).get()).toBe(9)
      expect(await new FileCursorStore(file, { key: 'other' }).get()).toBeUndefined()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('ends cleanly on its signal, with the store written', async () => {
    const store = new MemoryCursorStore()
    const controller = new AbortController()
    const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
      { cursor: 0 },
      { ...base, cursorStore: store, signal: controller.signal },
    )
    let count = 0
    for await (const _ of sub) if (++count === 4) controller.abort()
    expect(count).toBe(4)
    await sub.close()
    expect(await store.get()).toBe(3)
  })
})

describeRedis('the cursor in Redis', () => {
  it('resumes where another consumer left off', async () => {
    const redis = await connectRedis()
    try {
      const options = { client: redis, prefix: `cursor-test:${Date.now()}:`, key: 'firehose' }
      const sub = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
        { cursor: 0 },
        { ...base, cursorStore: new RedisCursorStore(options) },
      )
      await seqsUntil(sub, 6)
      const next = new Client({ service: network.pdsUrl }).com.atproto.sync.subscribeRepos(
        {},
        { ...base, cursorStore: new RedisCursorStore(options) },
      )
      expect(await seqsUntil(next, 8)).toEqual([6, 7, 8])
    } finally {
      await redis.destroy()
    }
  })
})

describe('a consumer far slower than the stream', () => {
  it('reads ahead only so far: the memory of a consumer 100x slower than the producer stays bounded', async () => {
    // Thousands of commits of ~32 KB: some 64 MB of frames, which a consumer that buffered them would hold.
    const filler = 'x'.repeat(32 * 1024)
    const writers = await Promise.all([0, 1, 2, 3].map(() => network.createAccount()))
    const from = await headSeq()
    const writing = performance.now()
    await Promise.all(
      writers.map(async (writer) => {
        const session = new PasswordSession({ service: network.pdsUrl })
        await session.authenticate(writer.handle, writer.password)
        const writerClient = new Client({ auth: session })
        for (let i = 0; i < 500; i++) {
          await writerClient.com.atproto.repo.createRecord({
            repo: writer.did,
            collection: 'com.example.filler',
            record: { $type: 'com.example.filler', filler, i },
          })
        }
      }),
    )
    const started = performance.now()
    // The producer's pace: the same stream read at full speed, from its first message to the marker after the writes.
    const full = await readToMarker(from)
    const until = full.seq
    expect(until - from).toBeGreaterThanOrEqual(2001) // the writes and the marker
    const perMessageMs = full.ms / (full.messages - 1)
    // Slow for long enough that the producer could send the whole stream three times over meanwhile:
    // a consumer that buffered would hold all of it. (Scaled by the pace, so a loaded machine's
    // slower stream makes a slower consumer, not a shorter slow spell.)
    const slowMessages = Math.ceil((3 * full.messages) / 100)
    const result = await slowConsumer(network.pdsUrl, from, until, Math.max(1, perMessageMs * 100), slowMessages)
    console.log(
      `[subscription.test] slow consumer (${usesWs ? 'ws: pause' : 'global WebSocket: close and resume'}): ${result.seqs} messages, ${perMessageMs.toFixed(2)} ms each at full speed, ${result.slowMs.toFixed(1)} ms slow for ${slowMessages}, peak buffered ${result.peakBuffered}, held +${result.liveGrowthMb.toFixed(1)} MB, RSS +${result.rssGrowthMb.toFixed(1)} MB, ${result.pauses} pauses, ${result.reconnects} reconnects, writes ${((started - writing) / 1000).toFixed(1)} s`,
    )
    expect(result.seqs).toBe(until - from)
    expect(result.gaps).toBe(0)
    expect(result.pauses).toBeGreaterThan(0)
    expect(result.peakBuffered).toBeLessThanOrEqual(100 + 16) // maxBufferedMessages, plus what was in flight
    // The frames total ~64 MB: the consumer held a fraction of that at any time (with ws, the buffer;
    // with a WebSocket that can't pause, also what the closed connections still received), and its
    // RSS never grew by it.
    expect(result.liveGrowthMb).toBeLessThan(28)
    expect(result.rssGrowthMb).toBeLessThan(48)
  }, 600_000) // a guard against a hang only: on a loaded machine the 2,000 writes alone take minutes
})

interface SlowResult {
  seqs: number
  gaps: number
  peakBuffered: number
  rssGrowthMb: number
  liveGrowthMb: number
  reconnects: number
  pauses: number
  slowMs: number
}

/** Runs test/support/slow-consumer.ts in its own process (the PDS's memory is this one's), and reads its report. */
function slowConsumer(
  pdsUrl: string,
  from: number,
  until: number,
  slowMs: number,
  slowMessages: number,
): Promise<SlowResult> {
  const worker = path.join(repoRoot, 'test/support/slow-consumer.ts')
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--expose-gc',
      worker,
      pdsUrl,
      String(from),
      String(until),
      String(slowMs),
      String(slowMessages),
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk))
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!))
        : reject(new Error(`slow consumer exited ${code}: ${out}`)),
    ),
  )
}
