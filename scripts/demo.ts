/**
 * `npm run demo`: the lexicon pipeline at work. Validates records with the generated validators, the
 * way an app checks data whose type it learns at run time, and shows what a generated endpoint
 * descriptor knows. (The client runtime, talking to a real local PDS, builds on this.)
 */
import { getProfile } from '../generated/app/bsky/actor/getProfile.js'
import * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import { validate } from '../generated/lexicons.js'

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const text = 'Hello @alice.test — café ☕ #atproto'
const mention = '@alice.test'
const byteStart = Buffer.byteLength(text.slice(0, text.indexOf(mention)))
const post: AppBskyFeedPost.Record = {
  $type: 'app.bsky.feed.post',
  text,
  facets: [
    {
      index: { byteStart, byteEnd: byteStart + Buffer.byteLength(mention) },
      features: [{ $type: 'app.bsky.richtext.facet#mention', did }],
    },
  ],
  langs: ['en'],
  createdAt: new Date().toISOString(),
}

console.log('1. A post with a mention facet, validated by its $type:')
const ok = validate(post.$type!, post)
console.log(`   validate(${JSON.stringify(post.$type)}, post) → success: ${ok.success}`)

console.log('\n2. The same post, broken in three places:')
const broken = { ...post, text: 'x'.repeat(301), langs: ['not a language'], createdAt: 'yesterday' }
const bad = validate('app.bsky.feed.post', broken)
if (!bad.success) for (const issue of bad.issues) console.log(`   ${issue.path}: ${issue.message}`)

console.log('\n3. A record of a type this app has never heard of:')
console.log(`   ${JSON.stringify(validate('com.example.unknown', {}))}`)

console.log('\n4. What the generated descriptor of app.bsky.actor.getProfile knows:')
console.log(`   ${getProfile.type} ${getProfile.nsid}, params ${getProfile.params ? 'validated' : 'none'}`)
console.log(
  `   output ${getProfile.output?.encoding}, declared errors: ${Object.keys(getProfile.errors).join(', ') || 'none'}`,
)
const params = getProfile.params!['~standard'].validate({ actor: 'not a handle!' })
console.log(`   params { actor: 'not a handle!' } →`, JSON.stringify(params))

if (!ok.success || bad.success) process.exitCode = 1
