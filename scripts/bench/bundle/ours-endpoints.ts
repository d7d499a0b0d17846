// Ours, per-endpoint imports through the lean `XRPCClient`, with the post validated before sending.
import { getProfile } from '../../../generated/app/bsky/actor/getProfile.js'
import { recordSchema } from '../../../generated/app/bsky/feed/post.js'
import { createRecord } from '../../../generated/com/atproto/repo/createRecord.js'
import { createSession } from '../../../generated/com/atproto/server/createSession.js'
import { validate } from '../../../src/schema.js'
import { BearerAuth, XRPCClient } from '../../../src/xrpc.js'

export async function scenario(service: string, identifier: string, password: string, text: string): Promise<unknown> {
  const session = await new XRPCClient({ service }).call(createSession, { identifier, password })
  const client = new XRPCClient({ service, auth: new BearerAuth(session.accessJwt) })
  const record = { $type: 'app.bsky.feed.post' as const, text, createdAt: new Date().toISOString() }
  const result = validate(recordSchema, record)
  if (!result.success) throw new Error(result.issues[0].message)
  await client.call(createRecord, { repo: session.did, collection: 'app.bsky.feed.post', record })
  return client.call(getProfile, { actor: session.did })
}
