// Schema-driven types misused: each line must be a type error.
import { Client } from 'blueskysdk'
import type * as AppBskyFeedPost from 'blueskysdk/lexicons/app/bsky/feed/post'
import type * as ComExampleNote from './generated/com/example/note.js'

export async function run(client: Client): Promise<void> {
  const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', createdAt: 'now' } // no text
  await client.app.bsky.actor.getProfile({ actr: 'alice.test' }) // wrong param name
  const note: ComExampleNote.Record = { title: 1, createdAt: 'now' } // title is a string
  void [post, note]
}
