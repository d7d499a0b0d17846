/** The values every validator is timed on: the same JSON for all of them. */

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const cid = 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq'
const blobCid = 'bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa'
const strongRef = { uri: `at://${did}/app.bsky.feed.post/3kznmn7xqxl22`, cid }
const createdAt = '2024-11-26T21:40:58.123Z'

export interface Sample {
  name: string
  /** Lexicon reference the value is an instance of. */
  ref: string
  value: Record<string, unknown>
}

export const samples: Sample[] = [
  {
    name: 'post, minimal',
    ref: 'app.bsky.feed.post',
    value: { $type: 'app.bsky.feed.post', text: 'hello world', createdAt },
  },
  {
    name: 'post, 3 facets + reply',
    ref: 'app.bsky.feed.post',
    value: {
      $type: 'app.bsky.feed.post',
      text: 'hello @alice.test see https://example.com #atproto',
      langs: ['en'],
      reply: { root: strongRef, parent: strongRef },
      facets: [
        { index: { byteStart: 6, byteEnd: 17 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did }] },
        {
          index: { byteStart: 22, byteEnd: 41 },
          features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com' }],
        },
        { index: { byteStart: 42, byteEnd: 50 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'atproto' }] },
      ],
      createdAt,
    },
  },
  {
    name: 'post, images embed',
    ref: 'app.bsky.feed.post',
    value: {
      $type: 'app.bsky.feed.post',
      text: 'two pictures 🌅🏔️',
      embed: {
        $type: 'app.bsky.embed.images',
        images: [1, 2].map((n) => ({
          alt: `picture ${n}`,
          image: { $type: 'blob', ref: { $link: blobCid }, mimeType: 'image/jpeg', size: 412_000 + n },
          aspectRatio: { width: 1600, height: 900 },
        })),
      },
      createdAt,
    },
  },
  {
    name: 'profileViewDetailed',
    ref: 'app.bsky.actor.defs#profileViewDetailed',
    value: {
      did,
      handle: 'alice.bsky.social',
      displayName: 'Alice ✨',
      description: 'Writes about protocols.\nLikes 山 and long walks.',
      avatar: 'https://cdn.bsky.app/img/avatar/plain/did:plc:ewvi7nxzyoun6zhxrhs64oiz/bafkrei@jpeg',
      banner: 'https://cdn.bsky.app/img/banner/plain/did:plc:ewvi7nxzyoun6zhxrhs64oiz/bafkrei@jpeg',
      followersCount: 1234,
      followsCount: 321,
      postsCount: 4567,
      associated: { lists: 2, feedgens: 1, starterPacks: 0, labeler: false },
      indexedAt: createdAt,
      createdAt,
      viewer: { muted: false, blockedBy: false, following: `at://${did}/app.bsky.graph.follow/3kznmn7xqxl22` },
      labels: [],
      pinnedPost: strongRef,
    },
  },
]
