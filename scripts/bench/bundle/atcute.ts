// @atcute/client with @atcute/password-session: log in, create a post, get a profile.
import type {} from '@atcute/bluesky'
import type {} from '@atcute/atproto'
import { Client, ok } from '@atcute/client'
import { PasswordSession } from '@atcute/password-session'

export async function scenario(service: string, identifier: string, password: string, text: string): Promise<unknown> {
  const session = await PasswordSession.login({ service, identifier, password })
  const rpc = new Client({ handler: session })
  const record = { $type: 'app.bsky.feed.post' as const, text, createdAt: new Date().toISOString() }
  await ok(
    rpc.post('com.atproto.repo.createRecord', {
      input: { repo: session.did, collection: 'app.bsky.feed.post', record },
    }),
  )
  return ok(rpc.get('app.bsky.actor.getProfile', { params: { actor: session.did } }))
}
