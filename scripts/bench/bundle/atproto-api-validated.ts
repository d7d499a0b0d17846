// @atproto/api, with the post validated before sending (`AppBskyFeedPost.validateRecord`).
import { AppBskyFeedPost, AtpAgent } from '@atproto/api'

export async function scenario(service: string, identifier: string, password: string, text: string): Promise<unknown> {
  const agent = new AtpAgent({ service })
  await agent.login({ identifier, password })
  const record = { $type: 'app.bsky.feed.post' as const, text, createdAt: new Date().toISOString() }
  const result = AppBskyFeedPost.validateRecord(record)
  if (!result.success) throw result.error
  await agent.post(record)
  return agent.getProfile({ actor: agent.assertDid })
}
