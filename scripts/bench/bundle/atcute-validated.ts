// @atcute/client with @atcute/password-session, the post validated with `safeParse` from @atcute/lexicons.
import { AppBskyFeedPost } from '@atcute/bluesky'
import type {} from '@atcute/atproto'
import { Client, ok } from '@atcute/client'
import { safeParse } from '@atcute/lexicons/validations'
import { PasswordSession } from '@atcute/password-session'

export async function scenario(service: string, identifier: string, password: string, text: string): Promise<unknown> {
  const session = await PasswordSession.login({ service, identifier, password })
  const rpc = new Client({ handler: session })
  const result = safeParse(AppBskyFeedPost.mainSchema, {
    $type: 'app.bsky.feed.post',
    text,
    createdAt: new Date().toISOString(),
  })
  if (!result.ok) throw new Error(result.message)
  const record = result.value
  await ok(
    rpc.post('com.atproto.repo.createRecord', {
      input: { repo: session.did, collection: 'app.bsky.feed.post', record },
    }),
  )
  return ok(rpc.get('app.bsky.actor.getProfile', { params: { actor: session.did } }))
}
