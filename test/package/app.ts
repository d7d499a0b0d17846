// Runs inside a temporary app that installed the packed tarball: the namespaced client and a
// per-endpoint import against the local PDS, then the app's own generated lexicons.
import { Client, CreateSessionResponse } from 'blueskysdk'
import { describeServer } from 'blueskysdk/lexicons/com/atproto/server/describeServer'
import { XrpcClient } from 'blueskysdk/xrpc'
import { getNote, NoteNotFoundError } from './generated/com/example/getNote.js'
import { validate } from './generated/lexicons.js'

const { PDS_URL, HANDLE, PASSWORD, NOTES_URL } = process.env as Record<string, string>
const results: Record<string, unknown> = {}

const client = new Client({ service: PDS_URL })
const session = await client.authenticate(HANDLE, PASSWORD)
results.session = session instanceof CreateSessionResponse && session.handle === HANDLE
const created = await client.com.atproto.repo.createRecord({
  repo: session.did,
  collection: 'app.bsky.feed.post',
  record: { $type: 'app.bsky.feed.post', text: 'from a packed install', createdAt: new Date().toISOString() },
})
const rkey = created.uri.split('/').pop()!
results.post = (
  await client.com.atproto.repo.getRecord({ repo: session.did, collection: 'app.bsky.feed.post', rkey })
).value

results.perEndpoint = (await new XrpcClient({ service: PDS_URL }).call(describeServer)).availableUserDomains

const notes = new XrpcClient({ service: NOTES_URL })
results.note = (await notes.call(getNote, { id: '3kznmn7xqxl22' })).note
results.noteMissing = await notes.call(getNote, { id: '3kznmn7xqxl23' }).then(
  () => 'resolved',
  (error: unknown) => (error instanceof NoteNotFoundError ? 'NoteNotFoundError' : String(error)),
)
results.validNote = validate('com.example.note', { title: 'a', createdAt: new Date().toISOString() }).success
results.invalidNote = validate('com.example.note', { title: 5 }).success

console.log(JSON.stringify(results))
