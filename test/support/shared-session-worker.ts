// A worker process of test/shared-sessions.test.ts: resumes the account's stored session from a
// shared store (file, Redis or PostgreSQL), as a bot's worker would at start-up, makes one call,
// and prints the refresh token it ends with. Usage: shared-session-worker.ts <service> <store> <where> <identifier> <password>
import pg from 'pg'
import { createClient } from 'redis'
import { Client } from '../../src/index.js'
import { FileSessionStore, PostgresSessionStore, RedisSessionStore } from '../../src/node.js'
import type { SessionStore } from '../../src/session/store.js'

const [service, kind, where, identifier, password] = process.argv.slice(2) as [string, string, string, string, string]
let close = async () => {}
let sessionStore: SessionStore
if (kind === 'file') sessionStore = new FileSessionStore(where)
else if (kind === 'redis') {
  const client = await createClient({ url: where.split('#')[0] }).connect()
  sessionStore = new RedisSessionStore({ client, prefix: where.split('#')[1] })
  close = async () => void client.destroy()
} else {
  const pool = new pg.Pool({ connectionString: where.split('#')[0] })
  sessionStore = new PostgresSessionStore({ pool, table: where.split('#')[1] })
  close = () => pool.end()
}
const client = new Client({ service, sessionStore, onSessionStoreError: (error) => console.error(error.message) })
process.stdout.write('ready\n')
await new Promise((resolve) => process.stdin.once('data', resolve)) // all start together
await client.authenticate(identifier, password)
const session = await client.com.atproto.server.getSession()
process.stdout.write(`${JSON.stringify({ did: session.did, refreshJwt: client.authenticated()!.refreshJwt })}\n`)
await close()
