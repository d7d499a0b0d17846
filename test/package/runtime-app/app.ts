// Runs inside an app that installed only the runtime package (no generator): the namespaced
// client, the facade and a per-endpoint import against the local PDS, with a file session store.
import { bskyFacade, Client, CreateSessionResponse, ValidationError } from 'blueskysdk'
import { describeServer } from 'blueskysdk/lexicons/com/atproto/server/describeServer'
import { FileSessionStore } from 'blueskysdk/node'
import { XRPCClient } from 'blueskysdk/xrpc'

const { PDS_URL, HANDLE, PASSWORD } = process.env as Record<string, string>
const results: Record<string, unknown> = {}

const client = new Client({ service: PDS_URL, sessionStore: new FileSessionStore('session.json') })
const login = await client.authenticate(HANDLE, PASSWORD)
results.session = login instanceof CreateSessionResponse && login.handle === HANDLE

const posted = await bskyFacade(client).post({ text: 'from a runtime-only install #atproto' })
const rkey = posted.uri.split('/').pop()!
const record = await client.com.atproto.repo.getRecord({ repo: login.did, collection: 'app.bsky.feed.post', rkey })
results.post = record.value

results.badPost = await client.com.atproto.repo
  .createRecord({ repo: login.did, collection: 'app.bsky.feed.post', record: { text: 5 } as never })
  .then(
    () => 'written',
    (error: unknown) => (error instanceof ValidationError ? error.issues.map((i) => i.path) : String(error)),
  )

results.perEndpoint = (await new XRPCClient({ service: PDS_URL }).call(describeServer)).availableUserDomains

console.log(JSON.stringify(results))
