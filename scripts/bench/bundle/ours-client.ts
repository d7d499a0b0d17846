// Ours, the namespaced client: log in, create a post (checked against the post lexicon by createRecord), get a profile.
import { Client } from '../../../src/index.js'

export async function scenario(service: string, identifier: string, password: string, text: string): Promise<unknown> {
  const client = new Client({ service })
  const session = await client.authenticate(identifier, password)
  const record = { $type: 'app.bsky.feed.post' as const, text, createdAt: new Date().toISOString() }
  await client.com.atproto.repo.createRecord({ repo: session.did, collection: 'app.bsky.feed.post', record })
  return client.app.bsky.actor.getProfile({ actor: session.did })
}
