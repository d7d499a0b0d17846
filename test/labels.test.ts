/**
 * `com.atproto.label.subscribeLabels` against a real labeler: the Ozone of the local network (with
 * the AppView; PostgreSQL). A moderator labels a post and takes the label back through Ozone's own
 * moderation API, called with the SDK's client; the label stream yields both as typed, validated
 * labels, and resumes from a cursor.
 */
import WebSocket from 'ws'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { isLabels } from '../generated/com/atproto/label/subscribeLabels.js'
import type { Label } from '../generated/com/atproto/label/defs.js'
import {
  Client,
  LabelVerificationError,
  PasswordSession,
  type SubscribeOptions,
  type WebSocketConstructor,
} from '../src/index.js'
import { signatureVerifier } from '../src/verify.js'
import { describeAppview } from './network/describe-appview.js'
import { type OzoneService, startNetwork, type TestNetwork } from './network/index.js'
import { startStreamProxy } from './support/stream-proxy.js'

const webSocket = ((globalThis as { WebSocket?: unknown }).WebSocket ?? WebSocket) as WebSocketConstructor
const base: SubscribeOptions = { webSocket, reconnect: { minDelayMs: 20, maxDelayMs: 200 } }

describeAppview('subscribeLabels from a real labeler (Ozone)', () => {
  let network: TestNetwork
  let ozone: OzoneService
  let subject: { uri: string; cid: string }

  beforeAll(async () => {
    network = await startNetwork({ appview: true })
    ozone = network.ozone!
    const alice = await network.createAccount()
    const session = new PasswordSession({ service: network.pdsUrl })
    await session.authenticate(alice.handle, alice.password)
    const client = new Client({ auth: session })
    const post = await client.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'label me', createdAt: new Date().toISOString() },
    })
    subject = { uri: post.uri, cid: post.cid }
    await network.processAll()
  }, 60_000)
  afterAll(() => network?.close())

  /** Labels (or takes back) `vals` on the post, as Ozone's moderator, through its moderation API. */
  async function label(create: string[], negate: string[] = []) {
    const lxm = 'tools.ozone.moderation.emitEvent'
    await new Client({ service: ozone.url }).tools.ozone.moderation.emitEvent(
      {
        event: { $type: 'tools.ozone.moderation.defs#modEventLabel', createLabelVals: create, negateLabelVals: negate },
        subject: { $type: 'com.atproto.repo.strongRef', ...subject },
        createdBy: ozone.moderatorDid,
      },
      { headers: await ozone.modHeaders(lxm, 'moderator') },
    )
  }

  /** The labels of the stream from `cursor` until `count` have come, with the seq of the last message. */
  async function labelsFrom(
    cursor: number,
    count: number,
    options: SubscribeOptions = {},
  ): Promise<{ labels: Label[]; seq: number }> {
    const labels: Label[] = []
    let seq = cursor
    const sub = new Client({ service: ozone.url }).com.atproto.label.subscribeLabels(
      { cursor },
      { ...base, ...options },
    )
    for await (const message of sub) {
      expect(isLabels(message)).toBe(true)
      if (!isLabels(message)) continue
      labels.push(...message.labels)
      seq = message.seq
      if (labels.length >= count) break
    }
    return { labels, seq }
  }

  it('yields the labels a moderator applies and takes back, typed and validated, and resumes after a cursor', async () => {
    await label(['spam'])
    const first = await labelsFrom(0, 1)
    const [applied] = first.labels
    expect(applied).toMatchObject({ src: ozone.did, uri: subject.uri, cid: subject.cid, val: 'spam', ver: 1 })
    expect(applied.neg ?? false).toBe(false)
    expect(Date.parse(applied.cts)).toBeGreaterThan(0)
    // Signed by the labeler: the signature arrives as bytes (binary, read as base64 on demand).
    expect(applied.sig?.$bytes).toMatch(/^[A-Za-z0-9+/]{80,}=*$/)

    // Taken back: from the last cursor, only the negation.
    await label([], ['spam'])
    const second = await labelsFrom(first.seq, 1)
    expect(second.labels).toEqual([
      expect.objectContaining({ src: ozone.did, uri: subject.uri, val: 'spam', neg: true }),
    ])
    expect(second.seq).toBeGreaterThan(first.seq)

    await label(['rude'])
    const third = await labelsFrom(second.seq, 1)
    expect(third.labels.map((l) => [l.val, l.neg ?? false])).toEqual([['rude', false]])
  })

  it('verifies each label against its labeler’s #atproto_label key, and refuses one that was changed', async () => {
    const verify = signatureVerifier({ plcUrl: network.plcUrl })
    const verified = await labelsFrom(0, 2, { verify })
    expect(verified.labels.map((l) => l.val)).toEqual(['spam', 'rude'])

    const proxy = await startStreamProxy(ozone.url)
    try {
      proxy.tamperAfter(0, 'label')
      const sub = new Client({ service: proxy.url }).com.atproto.label.subscribeLabels(
        { cursor: 0 },
        { ...base, verify },
      )
      const error = await sub.next().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LabelVerificationError)
      expect(String(error)).toMatch(/the label not-what-was-signed on at:\/\/\S+ is not signed by did:plc:/)
    } finally {
      await proxy.close()
    }
  })
})
