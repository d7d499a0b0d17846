// A worker process of test/oauth.test.ts: restores an OAuth session from the Redis stores shared
// with the other workers, as a back end's process would, makes one call through the namespaced
// client, and prints how many tokens it was granted (refreshes; a DPoP nonce retry is not one) and
// how the call went.
// Usage: oauth-worker.ts <pdsUrl> <plcUrl> <redisUrl#prefix> <did> <lock|no-lock>
import { createClient } from 'redis'
import { Client } from '../../src/index.js'
import { RedisSessionStore } from '../../src/node.js'
import { createOAuthClient } from '../../src/oauth.js'

const [pdsUrl, plcUrl, where, did, locking] = process.argv.slice(2) as [string, string, string, string, string]
const redis = await createClient({ url: where.split('#')[0] }).connect()
const stores = new RedisSessionStore({ client: redis, prefix: where.split('#')[1] }).oauthStores()
let refreshes = 0
const oauth = await createOAuthClient({
  store: locking === 'lock' ? stores : { ...stores, requestLock: async (_name, fn) => fn() },
  plcUrl,
  handleResolver: pdsUrl,
  allowHttp: true,
  fetch: async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    const token = new URL(url).pathname === '/oauth/token'
    // A slow token endpoint: every worker has read the expired session before any refresh lands,
    // so without the lock they all race (deterministically, not by luck of timing).
    if (token) await new Promise((resolve) => setTimeout(resolve, 500))
    const response = await fetch(input, init)
    if (token && response.ok) refreshes++
    return response
  },
})
process.stdout.write('ready\n')
await new Promise((resolve) => process.stdin.once('data', resolve)) // all start together
let outcome: Record<string, unknown>
try {
  const client = new Client({ auth: await oauth.restore(did) })
  const session = await client.com.atproto.server.getSession()
  outcome = { ok: true, did: session.did }
} catch (error) {
  outcome = { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` }
}
process.stdout.write(`${JSON.stringify({ ...outcome, refreshes })}\n`)
redis.destroy()
