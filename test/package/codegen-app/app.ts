// Runs inside an app that installed both packed tarballs and generated its own lexicons
// (com.example.*) with the codegen bin: the namespaced client and a per-endpoint import against the
// local PDS, then the generated client against the lexicons' real server, directly and through the
// PDS on one client with the session.
import { CreateSessionResponse, PasswordSession, ValidationError } from 'blueskysdk'
import { describeServer } from 'blueskysdk/lexicons/com/atproto/server/describeServer'
import { FileSessionStore } from 'blueskysdk/node'
import { XRPCClient } from 'blueskysdk/xrpc'
import { createClient } from './generated/client.js'
import { NoteNotFoundError } from './generated/com/example/getNote.js'
import { validate } from './generated/lexicons.js'

const { PDS_URL, HANDLE, PASSWORD, NOTES_URL, NOTES_SERVICE } = process.env as Record<string, string>
const results: Record<string, unknown> = {}

const session = new PasswordSession({ service: PDS_URL, sessionStore: new FileSessionStore('session.json') })
const login = await session.authenticate(HANDLE, PASSWORD)
results.session = login instanceof CreateSessionResponse && login.handle === HANDLE
const client = createClient({ auth: session })
const created = await client.com.atproto.repo.createRecord({
  repo: login.did,
  collection: 'app.bsky.feed.post',
  record: { $type: 'app.bsky.feed.post', text: 'from a packed install', createdAt: new Date().toISOString() },
})
const rkey = created.uri.split('/').pop()!
results.post = (
  await client.com.atproto.repo.getRecord({ repo: login.did, collection: 'app.bsky.feed.post', rkey })
).value
results.badNote = await client.com.atproto.repo
  .createRecord({ repo: login.did, collection: 'com.example.note', record: { title: 'no date' } as never })
  .then(
    () => 'written',
    (error: unknown) => (error instanceof ValidationError ? error.issues.map((i) => i.path) : String(error)),
  )

results.perEndpoint = (await new XRPCClient({ service: PDS_URL }).call(describeServer)).availableUserDomains

const notes = createClient({ service: NOTES_URL })
results.noteMissing = await notes.com.example.getNote({ id: '3kznmn7xqxl23' }).then(
  () => 'resolved',
  (error: unknown) => (error instanceof NoteNotFoundError ? 'NoteNotFoundError' : String(error)),
)
const note = await client.com.example.createNote({ title: 'through the PDS' }, { proxy: NOTES_SERVICE })
results.note = (await client.com.example.getNote({ id: note.id }, { proxy: NOTES_SERVICE })).note
results.validNote = validate('com.example.note', {
  $type: 'com.example.note',
  title: 'a',
  createdAt: new Date().toISOString(),
}).success
results.invalidNote = validate('com.example.note', { title: 5 }).success

console.log(JSON.stringify(results))
