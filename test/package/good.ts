// Schema-driven types used correctly: must type-check.
import { Client, type XRPCError } from 'blueskysdk'
import type * as AppBskyFeedPost from 'blueskysdk/lexicons/app/bsky/feed/post'
import type { GetProfileResponse } from 'blueskysdk/lexicons/app/bsky/actor/getProfile'
import type * as ComExampleNote from './generated/com/example/note.js'

export async function run(client: Client): Promise<string | undefined> {
  const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', text: 'hi', createdAt: new Date().toISOString() }
  const profile: GetProfileResponse = await client.app.bsky.actor.getProfile({ actor: 'alice.test' })
  const note: ComExampleNote.Record = { title: 'a note', createdAt: post.createdAt }
  const failure: XRPCError | undefined = undefined
  return profile.displayName ?? note.title ?? failure
}
