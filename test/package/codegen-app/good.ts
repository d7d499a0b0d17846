// Schema-driven types used correctly: must type-check.
import { type XRPCError } from 'blueskysdk'
import type * as AppBskyFeedPost from 'blueskysdk/lexicons/app/bsky/feed/post'
import type { GetProfileResponse } from 'blueskysdk/lexicons/app/bsky/actor/getProfile'
import { createClient } from './generated/client.js'
import type { GetNoteResponse } from './generated/com/example/getNote.js'
import type * as ComExampleNote from './generated/com/example/note.js'
import type * as ComAtprotoRepoStrongRef from 'blueskysdk/lexicons/com/atproto/repo/strongRef'

export async function run(client: ReturnType<typeof createClient>): Promise<string | undefined> {
  const post: AppBskyFeedPost.Record = { $type: 'app.bsky.feed.post', text: 'hi', createdAt: new Date().toISOString() }
  const profile: GetProfileResponse = await client.app.bsky.actor.getProfile({ actor: 'alice.test' })
  const note: ComExampleNote.Record = { title: 'a note', createdAt: post.createdAt }
  // The generated note refers to the runtime's own strongRef type (imported, not generated again).
  const subject: ComAtprotoRepoStrongRef.Main | undefined = note.subject
  const got: GetNoteResponse = await client.com.example.getNote({ id: '3kznmn7xqxl22' })
  await client.com.atproto.repo.createRecord({ repo: 'did:plc:x', collection: 'com.example.note', record: note })
  await client.com.atproto.repo.createRecord({ repo: 'did:plc:x', collection: 'app.bsky.feed.post', record: post })
  const failure: XRPCError | undefined = undefined
  return profile.displayName ?? got.note.title ?? got.status ?? subject?.uri ?? failure
}
