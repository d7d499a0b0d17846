// The page test/browser.test.ts bundles with esbuild and opens in headless Chromium: the SDK as a
// browser app uses it, against the local PDS on another origin (so every call is a CORS request).
// It logs in, creates a post, reads it back, and leaves the outcome in `window.__result` (and in
// <pre id="result">) for the test to read.
import { bskyFacade, Client } from '../../src/index.js'

/** Injected by the test as JSON in <script type="application/json" id="config">. */
export interface PageConfig {
  pdsUrl: string
  handle: string
  password: string
  text: string
}

export type PageResult =
  | {
      ok: true
      did: string
      handle: string
      uri: string
      cid: string
      readUri: string
      readCid: string | undefined
      readText: unknown
      readType: unknown
    }
  | { ok: false; error: string }

declare global {
  interface Window {
    __result?: PageResult
  }
}

async function run(config: PageConfig): Promise<PageResult> {
  const client = new Client({ service: config.pdsUrl })
  const session = await client.authenticate(config.handle, config.password)
  // Through the facade, as a browser app posts (rich text detected, the record checked, then createRecord).
  const created = await bskyFacade(client).post({ text: config.text })
  const rkey = created.uri.split('/').pop()!
  const read = await client.com.atproto.repo.getRecord({ repo: session.did, collection: 'app.bsky.feed.post', rkey })
  const value = read.value as { text?: unknown; $type?: unknown }
  return {
    ok: true,
    did: session.did,
    handle: session.handle,
    uri: created.uri,
    cid: created.cid,
    readUri: read.uri,
    readCid: read.cid,
    readText: value.text,
    readType: value.$type,
  }
}

function report(result: PageResult): void {
  window.__result = result
  const pre = document.createElement('pre')
  pre.id = 'result'
  pre.textContent = JSON.stringify(result, null, 2)
  document.body.append(pre)
}

const config = JSON.parse(document.getElementById('config')!.textContent!) as PageConfig
run(config).then(report, (error: unknown) =>
  report({
    ok: false,
    error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error),
  }),
)
