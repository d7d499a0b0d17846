// Schema-driven types misused: each line marked below must be a type error.
import type * as AppBskyFeedPost from 'blueskysdk/lexicons/app/bsky/feed/post'
import { createClient } from './generated/client.js'
import type * as ComExampleNote from './generated/com/example/note.js'

export async function run(client: ReturnType<typeof createClient>, repo: string): Promise<void> {
  const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', createdAt: 'now' } // 7: no text
  await client.app.bsky.actor.getProfile({ actr: 'alice.test' }) // 8: wrong param name
  const note: ComExampleNote.Record = { title: 1, createdAt: 'now' } // 9: title is a string
  await client.com.example.getNote({}) // 10: id is required
  await client.com.atproto.repo.createRecord({ repo, collection: 'com.example.note', record: { title: 'x' } }) // 11
  const about: ComExampleNote.Record = { title: 'x', createdAt: 'now', subject: { uri: 'at://x' } } // 12: no cid
  void [post, note, about]
}
