/**
 * OAuth in a real browser: test/browser/oauth-page.ts (the SDK's Client over
 * @atproto/oauth-client-browser, a loopback client) bundled with esbuild at its defaults, served
 * from http://127.0.0.1:PORT and opened in headless Chromium. The page redirects to the local PDS's
 * own sign-in and consent pages, which the test fills in as a person would; back at the page, the
 * session writes, reads and deletes a post through the namespaced client.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OAuthPageConfig, OAuthPageResult } from './browser/oauth-page.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { chromiumMissing, hasChromium, launchChromium } from './support/chromium.js'
import { approve } from './support/oauth-sign-in.js'
import { bundlePage, servePage } from './support/page-server.js'

const inCI = process.env.CI === 'true'
if (!hasChromium && !inCI) console.warn(`[browser-oauth.test] SKIPPED: ${chromiumMissing}`)

let network: TestNetwork
let account: Account
let server: Server | undefined
let browser: Browser | undefined
const text = `signed in with OAuth in a browser 🦋 ${Date.now()}`

describe.skipIf(!hasChromium && !inCI)('OAuth in headless Chromium', () => {
  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true and ${chromiumMissing}`)
    const bundling = bundlePage(fileURLToPath(new URL('./browser/oauth-page.ts', import.meta.url)))
    network = await startNetwork()
    browser = await launchChromium()
    account = await network.createAccount()
    const config: OAuthPageConfig = { pdsUrl: network.pdsUrl, plcUrl: network.plcUrl, handle: account.handle, text }
    server = await servePage((await bundling).files, () => config)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    server?.closeAllConnections()
    await Promise.all([network?.close(), server && new Promise((resolve) => server!.close(resolve))])
  })

  it('signs in at the PDS, comes back with the code, and the session drives the namespaced client', async () => {
    const pageOrigin = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`
    const context = await browser!.newContext()
    try {
      const page = await context.newPage()
      const problems: string[] = []
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      await page.goto(`${pageOrigin}/`)
      await page.waitForURL(`${network.pdsUrl}/oauth/authorize?**`)
      await approve(page, { password: account.password })
      await page.waitForFunction(() => window.__oauthResult !== undefined, undefined, { timeout: 30_000 })
      const result = (await page.evaluate(() => window.__oauthResult)) as OAuthPageResult
      if (!result.ok) throw new Error(`the page failed: ${result.error}`)
      expect(new URL(page.url()).origin).toBe(pageOrigin)
      expect(result.did).toBe(account.did)
      expect(result.scope.split(' ').sort()).toEqual(['atproto', 'transition:generic'])
      expect(result.uri).toMatch(new RegExp(`^at://${account.did}/app\\.bsky\\.feed\\.post/`))
      expect(result.readText).toBe(text)
      expect(result.gone).toBe('RecordNotFoundError')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

if (!hasChromium && !inCI) it.skip(`OAuth in headless Chromium: SKIPPED, ${chromiumMissing}`)
