/**
 * The activity the firehose bench records, written through the SDK's own client: started by
 * ./firehose-record.ts in its own process (so the PDS has the bench's process, and a core, to
 * itself), with the accounts it made. Each account writes `commitsPerAccount` commits, all accounts
 * in parallel: posts (some with facets, langs, replies, quotes, link cards), likes, reposts,
 * follows, profile updates, deletes and a few multi-op `applyWrites`. Prints `{ writes }`.
 */
import { pathToFileURL } from 'node:url'
import { Client, PasswordSession } from '../../src/index.js'

export interface WriterJob {
  service: string
  accounts: { did: string; handle: string; password: string }[]
  commitsPerAccount: number
}

const WORDS = (
  'the a firehose relay post reply thread morning coffee rust typescript protocol sky blue cloud data ' +
  'repo commit record bench today tomorrow great idea love this wow check out new release notes café ' +
  'naïve 日本語 テスト über 🦋 ✨ 🚀 emoji links feeds lists moderation labels'
).split(' ')
const LANGS = [['en'], ['en'], ['en'], ['ja'], ['de', 'en'], ['fr'], ['pt-BR']]
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

interface Ref {
  uri: string
  cid: string
}
interface PostRef extends Ref {
  root: Ref
}
/** A record this account wrote and may delete; `key` is what it was about (a like's subject), so it may be written again. */
interface Own {
  collection: string
  rkey: string
  key?: string
  post?: PostRef
}

/** A small seeded PRNG (mulberry32), so each run writes the same kind of mix. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export async function writeActivity(job: WriterJob): Promise<number> {
  const users = await Promise.all(
    job.accounts.map(async (account) => {
      const session = new PasswordSession({ service: job.service })
      await session.authenticate(account.handle, account.password)
      return { account, client: new Client({ auth: session }) }
    }),
  )
  const posts: PostRef[] = [] // shared: everyone replies to, likes, reposts and quotes everyone's posts
  const counts = await Promise.all(
    users.map(async ({ account, client }, index) => {
      let writes = 0
      const next = random(1000 + index)
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]
      const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ')
      const createdAt = () => new Date().toISOString()
      const repo = account.did
      const own: Own[] = []
      // The PDS drops an earlier like, repost or follow of the same subject as a duplicate: pick fresh ones.
      const taken = new Set<string>()
      const freshPost = (kind: string): PostRef => {
        for (let tries = 0; ; tries++) {
          const post = pick(posts)
          if (!taken.has(kind + post.uri) || tries > 20) return post
        }
      }
      // Most follows are of accounts elsewhere (random did:plc's), as on the network.
      const followee = () =>
        next() < 0.2
          ? pick(users).account.did
          : `did:plc:${Array.from({ length: 24 }, () => BASE32[Math.floor(next() * 32)]).join('')}`
      const create = async (
        collection: string,
        record: Record<string, unknown>,
        key?: string,
        post?: Omit<PostRef, 'uri' | 'cid'>,
      ) => {
        if (key && taken.has(key)) return
        const { uri, cid } = await client.com.atproto.repo.createRecord({ repo, collection, record: record as never })
        writes++
        if (key) taken.add(key)
        const ref = post ? { uri, cid, root: post.root.uri ? post.root : { uri, cid } } : undefined
        if (ref) posts.push(ref)
        own.push({ collection, rkey: uri.slice(uri.lastIndexOf('/') + 1), key, post: ref })
      }
      for (let n = 0; writes < job.commitsPerAccount; n++) {
        const roll = next()
        if (roll < 0.36 || posts.length < 5) {
          // A post: plain, or with facets (mention, link, tag), langs, a reply, a quote or a link card.
          const record: Record<string, unknown> = {
            $type: 'app.bsky.feed.post',
            text: words(3 + Math.floor(next() * 25)),
          }
          if (next() < 0.3) {
            const other = pick(users).account
            const link = `https://example.com/${pick(WORDS)}/${n}`
            const head = `${record.text} @${other.handle}`
            const text = `${head} ${link} #bsky`
            const bytes = (s: string) => Buffer.byteLength(s)
            const linkStart = bytes(head) + 1
            record.text = text
            record.facets = [
              {
                index: { byteStart: bytes(head) - bytes(`@${other.handle}`), byteEnd: bytes(head) },
                features: [{ $type: 'app.bsky.richtext.facet#mention', did: other.did }],
              },
              {
                index: { byteStart: linkStart, byteEnd: linkStart + bytes(link) },
                features: [{ $type: 'app.bsky.richtext.facet#link', uri: link }],
              },
              {
                index: { byteStart: linkStart + bytes(link) + 1, byteEnd: bytes(text) },
                features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'bsky' }],
              },
            ]
          }
          if (next() < 0.6) record.langs = pick(LANGS)
          let root: Ref = { uri: '', cid: '' }
          if (posts.length && next() < 0.35) {
            const parent = pick(posts)
            root = parent.root
            record.reply = { root: parent.root, parent: { uri: parent.uri, cid: parent.cid } }
          }
          const embed = next()
          if (posts.length && embed < 0.08) {
            const quoted = pick(posts)
            record.embed = { $type: 'app.bsky.embed.record', record: { uri: quoted.uri, cid: quoted.cid } }
          } else if (embed < 0.14) {
            record.embed = {
              $type: 'app.bsky.embed.external',
              external: { uri: `https://example.com/article/${n}`, title: words(5), description: words(12) },
            }
          }
          record.createdAt = createdAt()
          await create('app.bsky.feed.post', record, undefined, { root })
        } else if (roll < 0.62) {
          const subject = freshPost('like')
          await create(
            'app.bsky.feed.like',
            { $type: 'app.bsky.feed.like', subject: { uri: subject.uri, cid: subject.cid }, createdAt: createdAt() },
            'like' + subject.uri,
          )
        } else if (roll < 0.72) {
          const subject = freshPost('repost')
          await create(
            'app.bsky.feed.repost',
            { $type: 'app.bsky.feed.repost', subject: { uri: subject.uri, cid: subject.cid }, createdAt: createdAt() },
            'repost' + subject.uri,
          )
        } else if (roll < 0.8) {
          const subject = followee()
          await create(
            'app.bsky.graph.follow',
            { $type: 'app.bsky.graph.follow', subject, createdAt: createdAt() },
            'follow' + subject,
          )
        } else if (roll < 0.85) {
          await client.com.atproto.repo.putRecord({
            repo,
            collection: 'app.bsky.actor.profile',
            rkey: 'self',
            record: {
              $type: 'app.bsky.actor.profile',
              displayName: words(2).slice(0, 60),
              description: words(10 + Math.floor(next() * 20)),
            },
          })
          writes++
        } else if (roll < 0.97 && own.length) {
          const [gone] = own.splice(Math.floor(next() * own.length), 1)
          if (gone.key) taken.delete(gone.key)
          if (gone.post && posts.includes(gone.post)) posts.splice(posts.indexOf(gone.post), 1)
          await client.com.atproto.repo.deleteRecord({ repo, collection: gone.collection, rkey: gone.rkey })
          writes++
        } else {
          // One commit of several ops: likes of a thread and a follow, as a client's batch would be.
          const subjects = [...new Set([freshPost('like'), freshPost('like'), freshPost('like')])].filter(
            (post) => !taken.has('like' + post.uri),
          )
          const follow = followee()
          const values = [
            ...subjects.map((subject) => ({
              collection: 'app.bsky.feed.like',
              key: 'like' + subject.uri,
              value: {
                $type: 'app.bsky.feed.like',
                subject: { uri: subject.uri, cid: subject.cid },
                createdAt: createdAt(),
              },
            })),
            ...(taken.has('follow' + follow)
              ? []
              : [
                  {
                    collection: 'app.bsky.graph.follow',
                    key: 'follow' + follow,
                    value: { $type: 'app.bsky.graph.follow', subject: follow, createdAt: createdAt() },
                  },
                ]),
          ]
          if (!values.length) continue
          const { results } = await client.com.atproto.repo.applyWrites({
            repo,
            writes: values.map(({ collection, value }) => ({
              $type: 'com.atproto.repo.applyWrites#create' as const,
              collection,
              value,
            })),
          })
          writes++
          values.forEach(({ collection, key }, i) => {
            const uri = (results?.[i] as { uri?: string } | undefined)?.uri
            taken.add(key)
            if (uri) own.push({ collection, rkey: uri.slice(uri.lastIndexOf('/') + 1), key })
          })
        }
      }
      return writes
    }),
  )
  return counts.reduce((a, b) => a + b, 0)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const job = JSON.parse(process.argv[2]) as WriterJob
  console.log(JSON.stringify({ writes: await writeActivity(job) }))
}
