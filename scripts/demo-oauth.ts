/**
 * `npm run demo -- --oauth`: OAuth the way Bluesky recommends, with a loopback client. By default
 * against the local PDS's own authorization server: the sign-in page opens in the desktop's
 * browser where there is one; with no display, headless Chromium signs the demo account in as a
 * person would (typing its password, pressing Authorize). With BLUESKY_IDENTIFIER set it signs
 * that account in at its own PDS, printing the URL to open.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client, OAuthSessionError } from '../src/index.js'
import { FileSessionStore } from '../src/node.js'
import { createOAuthClient, type OAuthClientCommonOptions, signInLoopback } from '../src/oauth.js'

const step = (text: string) => console.log(`\n▸ ${text}`)
const show = (text: string) => console.log(`  ${text}`)

const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY) || process.platform === 'darwin'

/** The desktop's browser, where there is a desktop. */
function openInBrowser(url: URL): boolean {
  if (!hasDisplay) return false
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open'
  spawn(opener, [url.href], { stdio: 'ignore', detached: true })
    .on('error', () => show(`(could not run ${opener}: open the URL above yourself)`))
    .unref()
  return true
}

async function oauthWorkflow(
  identifier: string,
  local: OAuthClientCommonOptions,
  person?: (url: URL) => Promise<void>,
) {
  const scratch = await mkdtemp(path.join(tmpdir(), 'blueskysdk-oauth-demo-'))
  try {
    const store = new FileSessionStore(path.join(scratch, 'sessions.json'))
    const oauth = await createOAuthClient({ store, ...local })
    step('A loopback OAuth client: nothing to host, the redirect on 127.0.0.1')
    show(`client id ${oauth.clientMetadata.client_id}`)
    show(`redirect ${oauth.clientMetadata.redirect_uris[0]}`)

    step(`Sign ${identifier} in: PAR, PKCE and DPoP, at the account's own authorization server`)
    const session = await signInLoopback(oauth, identifier, {
      open: async (url) => {
        show(`sign-in page: ${url.href}`)
        if (openInBrowser(url)) show('opened in your browser: sign in and authorize there')
        else if (person) await person(url)
        else show('open it in a browser, sign in and authorize; this waits for the redirect')
      },
    })
    const info = await session.getTokenInfo()
    show(`signed in as ${session.did}, scope "${info.scope}", tokens until ${info.expiresAt?.toISOString()}`)

    step('The session drives the namespaced client as it is')
    const client = new Client({ auth: session })
    const me = await client.com.atproto.server.getSession()
    show(`getSession: ${me.handle}`)
    const created = await client.com.atproto.repo.createRecord({
      repo: session.did,
      collection: 'app.bsky.feed.post',
      record: { text: 'Posted over OAuth with blueskysdk', createdAt: new Date().toISOString() },
    })
    show(`posted ${created.uri}`)

    step('Another process restores it from the store by DID: no sign-in')
    const later = await createOAuthClient({
      store: new FileSessionStore(path.join(scratch, 'sessions.json')),
      ...local,
    })
    const again = new Client({ auth: await later.restore(session.did) })
    await again.com.atproto.repo.deleteRecord({
      repo: session.did,
      collection: 'app.bsky.feed.post',
      rkey: created.uri.split('/').pop()!,
    })
    show('deleted the post through the restored session')

    step('Sign out: the tokens are revoked, and a client still holding the session gets a typed error')
    await session.signOut()
    const failure = await client.com.atproto.server.getSession().catch((error: unknown) => error)
    show(
      failure instanceof OAuthSessionError ? `${failure.name}: ${failure.message}` : `unexpected: ${String(failure)}`,
    )
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

export async function oauthDemo(): Promise<void> {
  const { BLUESKY_IDENTIFIER } = process.env
  if (BLUESKY_IDENTIFIER) {
    await oauthWorkflow(BLUESKY_IDENTIFIER, {})
    return
  }
  const { startNetwork } = await import('../test/network/index.js')
  console.log('Starting a local PDS (with its OAuth provider) and PLC directory on 127.0.0.1…')
  const network = await startNetwork()
  try {
    const account = await network.createAccount('oauthdemo')
    show(`created ${account.handle} (${account.did})`)
    const { CHROMIUM, launchChromium } = await import('../test/support/chromium.js')
    const person =
      existsSync(CHROMIUM) && !hasDisplay
        ? async (url: URL) => {
            show('no display: headless Chromium signs in as the demo account would (password, Authorize)')
            const { signInAsAPerson } = await import('../test/support/oauth-sign-in.js')
            const browser = await launchChromium()
            try {
              await signInAsAPerson(browser, url, { password: account.password })
            } finally {
              await browser.close()
            }
          }
        : undefined
    const local = { plcUrl: network.plcUrl, handleResolver: network.pdsUrl, allowHttp: true }
    await oauthWorkflow(account.handle, local, person)
  } finally {
    await network.close()
  }
}
