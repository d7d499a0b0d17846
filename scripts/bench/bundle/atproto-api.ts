// @atproto/api: `AtpAgent` logs in, posts, gets a profile.
import { AtpAgent } from '@atproto/api'

export async function scenario(service: string, identifier: string, password: string, text: string): Promise<unknown> {
  const agent = new AtpAgent({ service })
  await agent.login({ identifier, password })
  await agent.post({ text, createdAt: new Date().toISOString() })
  return agent.getProfile({ actor: agent.assertDid })
}
