/**
 * `npm run demo`: the SDK's main job against a real local network (a PDS and a PLC directory started
 * in-process on 127.0.0.1): log in, save the session to a file, restore it without logging in again,
 * survive an expired access token, post with rich text and an image, like, list, and show a typed
 * error and a call refused before sending. Exits 0 and leaves nothing behind.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import { Client, CreateSessionResponse, FileSessionStore, ValidationError } from '../src/index.js'
import { startNetwork } from '../test/network/index.js'

const step = (n: number, text: string) => console.log(`\n${n}. ${text}`)
const show = (text: string) => console.log(`   ${text}`)

/** Counts the login and refresh calls a client makes, to show what the session workflow saves. */
function countingFetch(counts: Record<string, number>): typeof fetch {
  return (input, init) => {
    const nsid = new URL(input instanceof Request ? input.url : String(input)).pathname.split('/').pop()!
    const method = nsid.slice(nsid.lastIndexOf('.') + 1)
    counts[method] = (counts[method] ?? 0) + 1
    return fetch(input, init)
  }
}

console.log('Starting a local PDS and PLC directory on 127.0.0.1…')
const network = await startNetwork()
const scratch = await mkdtemp(path.join(tmpdir(), 'blueskysdk-demo-'))
try {
  show(`PDS at ${network.pdsUrl}`)

  step(1, 'Create an account and log in')
  const signup = new Client({ service: network.pdsUrl })
  const account = await signup.com.atproto.server.createAccount({
    handle: 'sdkdemo.test',
    email: 'sdkdemo@example.com',
    password: 'sdkdemo-password',
  })
  show(`created ${account.handle} (${account.did})`)
  const sessionFile = path.join(scratch, 'session.json')
  const counts: Record<string, number> = {}
  const client = new Client({
    service: network.pdsUrl,
    fetch: countingFetch(counts),
    sessionStore: new FileSessionStore(sessionFile),
    onSessionChange: (event, session) =>
      show(
        `session ${event}: ${session.handle}${event === 'create' || event === 'refresh' ? ', stored before any use' : ''}`,
      ),
  })
  await client.authenticate('sdkdemo.test', 'sdkdemo-password')
  show(`logged in; createSession calls: ${counts.createSession ?? 0}`)
  const saved = await readFile(sessionFile, 'utf8')
  show(
    `session saved to ${path.basename(sessionFile)} (${saved.length} bytes, no password in it: ${!saved.includes('sdkdemo-password')})`,
  )

  step(2, 'Restore the saved session in a new client: no login call')
  const restoredCounts: Record<string, number> = {}
  const restored = new Client({ service: network.pdsUrl, fetch: countingFetch(restoredCounts) })
  await restored.authenticate('sdkdemo.test', 'sdkdemo-password', CreateSessionResponse.fromJSON(JSON.parse(saved)))
  show(`requests during authenticate: ${Object.values(restoredCounts).reduce((a, b) => a + b, 0)}`)
  const me = await restored.com.atproto.server.getSession()
  show(`getSession says ${me.handle}`)

  step(3, 'An expired access token: refreshed once, then used')
  const session = client.authenticated()!.toJSON()
  const expired = { ...session, accessJwt: network.reissueToken(session.accessJwt, Math.floor(Date.now() / 1000) - 60) }
  const refreshCounts: Record<string, number> = {}
  const refreshing = new Client({ service: network.pdsUrl, fetch: countingFetch(refreshCounts) })
  await refreshing.authenticate('sdkdemo.test', 'sdkdemo-password', expired)
  show(
    `refreshSession calls: ${refreshCounts.refreshSession ?? 0}, createSession calls: ${refreshCounts.createSession ?? 0}`,
  )

  step(4, 'Post with rich text and an image')
  const text = 'Hello from blueskysdk 👋 see https://atproto.com #atproto'
  const facet = (needle: string, feature: Record<string, unknown>) => {
    const byteStart = Buffer.byteLength(text.slice(0, text.indexOf(needle)))
    return { index: { byteStart, byteEnd: byteStart + Buffer.byteLength(needle) }, features: [feature] }
  }
  const image = await refreshing.com.atproto.repo.uploadBlob(new Uint8Array(1024).fill(7), { encoding: 'image/png' })
  const post = await refreshing.com.atproto.repo.createRecord({
    repo: account.did,
    collection: 'app.bsky.feed.post',
    record: {
      $type: 'app.bsky.feed.post',
      text,
      facets: [
        facet('https://atproto.com', { $type: 'app.bsky.richtext.facet#link', uri: 'https://atproto.com' }),
        facet('#atproto', { $type: 'app.bsky.richtext.facet#tag', tag: 'atproto' }),
      ],
      embed: { $type: 'app.bsky.embed.images', images: [{ image: image.blob, alt: 'seven grey bytes' }] },
      langs: ['en'],
      createdAt: new Date().toISOString(),
    },
  })
  show(`posted ${post.uri}`)

  step(5, "Like it, then list the repo's records page by page")
  await refreshing.com.atproto.repo.createRecord({
    repo: account.did,
    collection: 'app.bsky.feed.like',
    record: {
      $type: 'app.bsky.feed.like',
      subject: { uri: post.uri, cid: post.cid },
      createdAt: new Date().toISOString(),
    },
  })
  for (const collection of ['app.bsky.feed.post', 'app.bsky.feed.like']) {
    let cursor: string | undefined
    do {
      const page = await refreshing.com.atproto.repo.listRecords({ repo: account.did, collection, limit: 1, cursor })
      for (const record of page.records) show(`${collection}: ${record.uri}`)
      cursor = page.records.length ? page.cursor : undefined
    } while (cursor)
  }

  step(6, 'Typed errors, and a bad call refused before anything is sent')
  try {
    await refreshing.com.atproto.repo.getRecord({
      repo: account.did,
      collection: 'app.bsky.feed.post',
      rkey: '3kaaaaaaaaa22',
    })
  } catch (error) {
    if (error instanceof RecordNotFoundError) show(`${error.name}: ${error.message} (HTTP ${error.status})`)
    else throw error
  }
  try {
    await refreshing.app.bsky.actor.getProfile({ actor: 'not a handle!' })
  } catch (error) {
    if (error instanceof ValidationError) show(`${error.name}: ${error.message}`)
    else throw error
  }

  step(7, 'Log out: the session ends on the server and leaves the store')
  await client.logout()
  show(
    `session file still there: ${await readFile(sessionFile).then(
      () => true,
      () => false,
    )}`,
  )
} finally {
  await network.close()
  await rm(scratch, { recursive: true, force: true })
}
console.log('\nDone.')
