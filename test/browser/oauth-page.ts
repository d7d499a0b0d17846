// The page test/browser-oauth.test.ts bundles with esbuild and opens in headless Chromium: a
// browser app signing in with OAuth through @atproto/oauth-client-browser (a loopback client) and
// using the session as the namespaced Client's auth. First visit: redirects to the PDS's sign-in
// page. Back from it (the code in the query): completes the flow, creates a post, reads and
// deletes it, and leaves the outcome in `window.__oauthResult`.
import { BrowserOAuthClient } from '@atproto/oauth-client-browser'
import { Client } from '../../src/index.js'

export interface OAuthPageConfig {
  pdsUrl: string
  plcUrl: string
  handle: string
  text: string
}

export type OAuthPageResult =
  { ok: true; did: string; scope: string; uri: string; readText: unknown; gone: string } | { ok: false; error: string }

declare global {
  interface Window {
    __oauthResult?: OAuthPageResult
  }
}

const SCOPE = 'atproto transition:generic'

async function run(config: OAuthPageConfig): Promise<OAuthPageResult | undefined> {
  const redirect = `${location.origin}/`
  const oauth = await BrowserOAuthClient.load({
    clientId: `http://localhost?${new URLSearchParams({ redirect_uri: redirect, scope: SCOPE })}`,
    handleResolver: config.pdsUrl,
    plcDirectoryUrl: config.plcUrl,
    allowHttp: true, // the local PDS only
    responseMode: 'query',
  })
  const signedIn = await oauth.init()
  if (!signedIn) {
    await oauth.signInRedirect(config.handle, { scope: SCOPE })
    return undefined // navigating to the sign-in page
  }
  const { session } = signedIn
  const client = new Client({ auth: session })
  const created = await client.com.atproto.repo.createRecord({
    repo: session.did,
    collection: 'app.bsky.feed.post',
    record: { text: config.text, createdAt: new Date().toISOString() },
  })
  const rkey = created.uri.split('/').pop()!
  const read = await client.com.atproto.repo.getRecord({ repo: session.did, collection: 'app.bsky.feed.post', rkey })
  await client.com.atproto.repo.deleteRecord({ repo: session.did, collection: 'app.bsky.feed.post', rkey })
  const gone = await client.com.atproto.repo
    .getRecord({ repo: session.did, collection: 'app.bsky.feed.post', rkey })
    .then(
      () => 'still there',
      (error: Error) => error.name,
    )
  return {
    ok: true,
    did: session.did,
    scope: (await session.getTokenInfo()).scope,
    uri: created.uri,
    readText: (read.value as { text?: unknown }).text,
    gone,
  }
}

function report(result: OAuthPageResult): void {
  window.__oauthResult = result
  const pre = document.createElement('pre')
  pre.id = 'result'
  pre.textContent = JSON.stringify(result, null, 2)
  document.body.append(pre)
}

const config = JSON.parse(document.getElementById('config')!.textContent!) as OAuthPageConfig
run(config).then(
  (result) => result && report(result),
  (error: unknown) =>
    report({
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error),
    }),
)
