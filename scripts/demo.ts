/**
 * `npm run demo`: the SDK's main job, visibly. By default against a real local network started
 * in-process on 127.0.0.1 (a PDS and a PLC directory, plus the AppView where PostgreSQL is
 * reachable): log in, save the session to a file, restore it without logging in, survive an expired
 * access token, share one session between two clients, post with rich text and an image, like,
 * list with pagination, show typed errors and a record refused before it is sent, all while tailing
 * the PDS's firehose (every op as a typed, validated record operation).
 *
 * With BLUESKY_SERVICE, BLUESKY_IDENTIFIER and BLUESKY_PASSWORD set it runs against that service
 * instead: read-only, unless `--write` (then it posts, likes, and deletes both again).
 *
 * `--oauth`: the OAuth sign-in instead (scripts/demo-oauth.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import { isCommit, isIdentity } from '../generated/com/atproto/sync/subscribeRepos.js'
import {
  bskyFacade,
  Client,
  CreateSessionResponse,
  isRecordWrite,
  paginate,
  PasswordSession,
  ValidationError,
  type WebSocketConstructor,
} from '../src/index.js'
import { FileSessionStore } from '../src/node.js'
import type { TestNetwork } from '../test/network/index.js'
import { realPng } from '../test/support/images.js'

// The local AppView's database client warns about its own query pattern on every start: noise here.
process.noDeprecation = true

const step = (text: string) => console.log(`\n▸ ${text}`)
const show = (text: string) => console.log(`  ${text}`)

/** A fetch that counts calls per XRPC method, to show what the session workflow saves. */
function countingFetch(counts: Record<string, number>): typeof fetch {
  return (input, init) => {
    const nsid = new URL(input instanceof Request ? input.url : String(input)).pathname.split('/').pop()!
    const method = nsid.slice(nsid.lastIndexOf('.') + 1)
    counts[method] = (counts[method] ?? 0) + 1
    return fetch(input, init)
  }
}

/** A tiny PNG: a valid header (so its size reads as 2×1) and some bytes. */
function picture(): Uint8Array {
  const bytes = new Uint8Array(256)
  bytes.set([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 2, 0, 0, 0, 1,
  ])
  return bytes
}

async function sessionWorkflow(
  service: string,
  identifier: string,
  password: string,
  sessionFile: string,
  network?: TestNetwork,
) {
  step('Log in: the session is stored and announced before any request uses it')
  const counts: Record<string, number> = {}
  const client = new Client({
    service,
    fetch: countingFetch(counts),
    sessionStore: new FileSessionStore(sessionFile),
    onSessionChange: (event, session) => show(`session ${event} for ${session.handle}`),
  })
  await client.authenticate(identifier, password)
  const saved = await readFile(sessionFile, 'utf8')
  show(
    `createSession calls: ${counts.createSession ?? 0}; saved to ${sessionFile} (password in it: ${saved.includes(password)})`,
  )

  step('Restore the saved session in a new client: no login, no request at all')
  const restoredCounts: Record<string, number> = {}
  const restored = new Client({ service, fetch: countingFetch(restoredCounts) })
  // The saving form is the session's JSON (what the store holds, under the account's DID).
  const savedJson = JSON.stringify(client.authenticated())
  await restored.authenticate(identifier, password, CreateSessionResponse.fromJSON(JSON.parse(savedJson)))
  show(`requests while authenticating: ${Object.values(restoredCounts).reduce((a, b) => a + b, 0)}`)
  show(`getSession: ${(await restored.com.atproto.server.getSession()).handle}`)

  if (network) {
    step('An expired access token: one refresh, no login')
    const session = client.authenticated()!.toJSON()
    const expired = {
      ...session,
      accessJwt: network.reissueToken(session.accessJwt, Math.floor(Date.now() / 1000) - 60),
    }
    const refreshCounts: Record<string, number> = {}
    const refreshing = new Client({ service, fetch: countingFetch(refreshCounts) })
    await refreshing.authenticate(identifier, password, expired)
    show(
      `refreshSession calls: ${refreshCounts.refreshSession ?? 0}, createSession calls: ${refreshCounts.createSession ?? 0}`,
    )
  }

  step('One session object behind two clients (auth is an object): one login serves both')
  const session = client.auth as PasswordSession
  const other = new Client({ auth: session, fetch: countingFetch(counts) })
  const [a, b] = await Promise.all([client.com.atproto.server.getSession(), other.com.atproto.server.getSession()])
  show(`both act as ${a.handle} / ${b.handle}; createSession calls so far: ${counts.createSession ?? 0}`)
  return client
}

async function writeAndRead(client: Client, options: { cleanUp: boolean }) {
  const bsky = bskyFacade(client)
  const me = client.authenticated()!

  step('Post with rich text (mention, link and hashtag found for you, at UTF-8 byte offsets) and an image')
  const post = await bsky.post({
    text: `Hello from blueskysdk 👋 @${me.handle} see atproto.com #atproto`,
    images: [{ data: realPng(64, 32), alt: 'a grey rectangle' }],
    langs: ['en'],
  })
  show(`posted ${post.uri}`)
  const record = (
    await client.com.atproto.repo.getRecord({
      repo: me.did,
      collection: 'app.bsky.feed.post',
      rkey: post.uri.split('/').pop()!,
    })
  ).value as {
    text: string
    facets: { index: { byteStart: number; byteEnd: number }; features: { $type: string }[] }[]
  }
  const bytes = new TextEncoder().encode(record.text)
  for (const facet of record.facets) {
    const covered = new TextDecoder().decode(bytes.slice(facet.index.byteStart, facet.index.byteEnd))
    show(
      `facet ${facet.features[0].$type.split('#')[1]} at bytes ${facet.index.byteStart}–${facet.index.byteEnd}: "${covered}"`,
    )
  }

  step('Like it, then list the repo page by page (pageSize 1)')
  const like = await bsky.like(post)
  for (const collection of ['app.bsky.feed.post', 'app.bsky.feed.like']) {
    let n = 0
    for await (const item of paginate(client.com.atproto.repo.listRecords({ repo: me.did, collection }), {
      pageSize: 1,
      max: 3,
    })) {
      show(`${collection} #${++n}: ${item.uri}`)
    }
  }

  step('Typed errors, and a bad call refused before anything is sent')
  try {
    await client.com.atproto.repo.getRecord({ repo: me.did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaa22' })
  } catch (error) {
    if (!(error instanceof RecordNotFoundError)) throw error
    show(`${error.name}: ${error.message} (HTTP ${error.status})`)
  }
  try {
    await client.app.bsky.actor.getProfile({ actor: 'not a handle!' })
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    show(`${error.name}: ${error.message}`)
  }
  try {
    // A post over 300 graphemes, checked against the post lexicon by createRecord itself.
    const text = 'long '.repeat(100)
    await client.com.atproto.repo.createRecord({
      repo: me.did,
      collection: 'app.bsky.feed.post',
      record: { text, createdAt: new Date().toISOString() },
    })
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    show(`${error.name}: ${error.message}`)
  }

  if (options.cleanUp) {
    await bsky.unlike(like.uri)
    await bsky.deletePost(post.uri)
    show('deleted the like and the post again')
  }
}

async function appviewReads(client: Client, actor: string) {
  step('Read through the AppView')
  const profile = await client.app.bsky.actor.getProfile({ actor })
  show(
    `${profile.handle}: ${profile.displayName ?? '(no display name)'}, ${profile.followersCount ?? 0} followers, ${profile.postsCount ?? 0} posts`,
  )
  const timeline = await client.app.bsky.feed.getTimeline({ limit: 5 })
  show(`timeline: ${timeline.feed.length} items`)
  for (const item of timeline.feed)
    show(`  ${item.post.author.handle}: ${(item.post.record as { text?: string }).text?.slice(0, 60)}`)
}

/**
 * Tails the firehose of `service` from its first event (a fresh local PDS: its whole history, then
 * live), printing each op; the returned function stops it.
 */
function tailFirehose(service: string): () => Promise<void> {
  step("Tail the PDS's firehose (com.atproto.sync.subscribeRepos) from cursor 0, beside everything below")
  // Node 20 has no global WebSocket: ws there (and it pauses reading when the loop falls behind).
  const webSocket = ((globalThis as { WebSocket?: unknown }).WebSocket ?? WebSocket) as WebSocketConstructor
  const firehose = new Client({ service }).com.atproto.sync.subscribeRepos({ cursor: 0 }, { webSocket })
  const tail = (async () => {
    for await (const message of firehose) {
      if (isIdentity(message)) show(`⇢ firehose #${message.seq} identity ${message.did} ${message.handle ?? ''}`)
      if (!isCommit(message)) continue
      for (const op of message.ops) {
        const text = isRecordWrite(op, 'app.bsky.feed.post') ? `: ${JSON.stringify(op.record.text)}` : ''
        show(`⇢ firehose #${message.seq} ${op.action} ${op.collection}/${op.rkey}${text}`)
      }
    }
  })().catch((error: unknown) => show(`⇢ firehose ended: ${String(error)}`))
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 300)) // the last writes' events
    await firehose.close()
    await tail
    const { received, reconnects, invalid } = firehose.stats
    show(`firehose: ${received} messages up to seq ${firehose.cursor}, ${invalid} invalid, ${reconnects} reconnects`)
  }
}

async function local() {
  const { postgresProblem } = await import('../test/network/postgres.js')
  const { startNetwork } = await import('../test/network/index.js')
  const appview = postgresProblem === undefined
  console.log(`Starting a local PDS and PLC directory${appview ? ' and AppView' : ''} on 127.0.0.1…`)
  if (!appview)
    console.log(`(No AppView: ${postgresProblem}. Run \`bash test/network/postgres-setup.sh\` to enable it.)`)
  const network = await startNetwork({ appview })
  const scratch = await mkdtemp(path.join(tmpdir(), 'blueskysdk-demo-'))
  try {
    show(`PDS at ${network.pdsUrl}`)
    const account = await network.createAccount('sdkdemo')
    show(`created ${account.handle} (${account.did})`)
    const stopTail = tailFirehose(network.pdsUrl)
    const client = await sessionWorkflow(
      network.pdsUrl,
      account.handle,
      account.password,
      path.join(scratch, 'session.json'),
      network,
    )
    await writeAndRead(client, { cleanUp: false })
    if (appview) {
      const friend = await network.createAccount('sdkfriend')
      const friendClient = new Client({ service: network.pdsUrl })
      await friendClient.authenticate(friend.handle, friend.password)
      await bskyFacade(friendClient).follow(account.did)
      await bskyFacade(client).follow(friend.did)
      await bskyFacade(friendClient).post({ text: 'hi from a friend' })
      await network.processAll()
      await appviewReads(client, account.handle)
    }
    step('Log out: the session ends on the server and leaves the store')
    await client.logout()
    step('Stop tailing the firehose')
    await stopTail()
  } finally {
    await network.close()
    await rm(scratch, { recursive: true, force: true })
  }
}

async function remote(service: string, identifier: string, password: string, write: boolean) {
  console.log(`Against ${service} as ${identifier}${write ? '' : ' (read-only; pass --write to post)'}`)
  const sessionFile = path.join(tmpdir(), 'blueskysdk-demo-session.json')
  const client = await sessionWorkflow(service, identifier, password, sessionFile)
  await appviewReads(client, identifier)
  if (write) await writeAndRead(client, { cleanUp: true })
  show(`the session stays in ${sessionFile} for the next run`)
}

const { BLUESKY_SERVICE, BLUESKY_IDENTIFIER, BLUESKY_PASSWORD } = process.env
if (process.argv.includes('--oauth')) {
  await (await import('./demo-oauth.js')).oauthDemo()
} else if (BLUESKY_SERVICE && BLUESKY_IDENTIFIER && BLUESKY_PASSWORD) {
  await remote(BLUESKY_SERVICE, BLUESKY_IDENTIFIER, BLUESKY_PASSWORD, process.argv.includes('--write'))
} else {
  await local()
}
console.log('\nDone.')
