/**
 * The SDK in a real browser: test/browser/page.ts bundled with esbuild (in memory, code-split, so the
 * namespaced Client's dynamic `import()` of endpoint modules loads real chunks), served from
 * http://127.0.0.1:PORT and opened in Debian's headless Chromium through playwright-core. The page
 * logs in to the local PDS at http://localhost:PDS_PORT (another origin: every call is a CORS
 * request, the authenticated ones preflighted), creates a post and reads it back.
 *
 * Needs /usr/bin/chromium (test/browser/install-chromium.sh installs it): skipped with a notice
 * without it, failed under CI=true.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PageResult } from './browser/page.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { chromiumMissing, hasChromium, launchChromium } from './support/chromium.js'
import { bundlePage, type PageBundle, servePage } from './support/page-server.js'

const inCI = process.env.CI === 'true'
if (!hasChromium && !inCI) console.warn(`[browser.test] SKIPPED: ${chromiumMissing}`)

const ENTRY = fileURLToPath(new URL('./browser/page.ts', import.meta.url))

let network: TestNetwork | undefined
let account: Account
let server: Server | undefined
let browser: Browser | undefined
let pageOrigin: string
let bundle: PageBundle

/** Runs every setup step, keeping whatever started so afterAll can stop it even if another step failed. */
async function setUp(): Promise<void> {
  const steps = await Promise.allSettled([
    // Chromium only after the network has started: startNetwork points os.tmpdir() at its own temp
    // dir while it starts, and a profile made in there would be removed under a closing browser.
    startNetwork().then(async (started) => {
      network = started
      const launching = launchChromium()
      account = await started.createAccount()
      browser = await launching
    }),
    bundlePage(ENTRY).then((built) => {
      bundle = built
    }),
  ])
  const failed = steps.find((step) => step.status === 'rejected')
  if (failed) throw failed.reason
}

describe.skipIf(!hasChromium && !inCI)('in headless Chromium', () => {
  const text = `hello from a browser 🦋 ${Date.now()}` // non-ASCII: UTF-8 through fetch and the PDS

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true and ${chromiumMissing}`)
    await setUp()
    server = await servePage(bundle.files, () => ({
      pdsUrl: network!.pdsUrl,
      handle: account.handle,
      password: account.password,
      text,
    }))
    pageOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    const closing = [network?.close(), server && new Promise<void>((resolve) => server!.close(() => resolve()))]
    server?.closeAllConnections()
    await Promise.all(closing)
  })

  it("the PDS allows the page's origin, authorization header included (the CORS preflight)", async () => {
    const res = await fetch(`${network!.pdsUrl}/xrpc/com.atproto.repo.createRecord`, {
      method: 'OPTIONS',
      headers: {
        origin: pageOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    expect(res.status).toBeLessThan(300)
    expect([pageOrigin, '*']).toContain(res.headers.get('access-control-allow-origin'))
    expect(res.headers.get('access-control-allow-methods')).toMatch(/\bPOST\b/)
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/\bauthorization\b/)
  })

  it('logs in cross-origin, creates a post and reads it back, with no console errors', async () => {
    const pdsOrigin = new URL(network!.pdsUrl).origin
    expect(pageOrigin).not.toBe(pdsOrigin)

    const context = await browser!.newContext()
    try {
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console.error: ${message.text()}`)
      })
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      page.on('requestfailed', (request) =>
        problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
      )
      // The PDS's answers to the page's calls, with the CORS header that let the page read them.
      const pdsCalls: { nsid: string; status: number; allowOrigin: string | undefined }[] = []
      page.on('response', (response) => {
        const url = new URL(response.url())
        if (url.origin !== pdsOrigin) return
        pdsCalls.push({
          nsid: url.pathname.replace('/xrpc/', ''),
          status: response.status(),
          allowOrigin: response.headers()['access-control-allow-origin'],
        })
      })

      const started = performance.now()
      await page.goto(`${pageOrigin}/`)
      await page.waitForFunction(() => window.__result !== undefined, undefined, { timeout: 20_000 })
      const result = (await page.evaluate(() => window.__result)) as PageResult
      const pageMs = Math.round(performance.now() - started)
      console.info(`[browser.test] bundle ${bundle.ms} ms (${bundle.files.size} files), page run ${pageMs} ms`)

      if (!result.ok) throw new Error(`the page failed: ${result.error}`)
      expect(result.did).toBe(account.did)
      expect(result.handle).toBe(account.handle)
      expect(result.uri).toMatch(new RegExp(`^at://${account.did}/app\\.bsky\\.feed\\.post/[^/]+$`))
      expect(result.readUri).toBe(result.uri)
      expect(result.readCid).toBe(result.cid)
      expect(result.readType).toBe('app.bsky.feed.post')
      expect(result.readText).toBe(text)
      expect(await page.textContent('#result')).toContain(account.did)

      // Cross-origin for real: each call went to the PDS's origin and was allowed for the page's.
      expect(pdsCalls.map((call) => call.nsid)).toEqual([
        'com.atproto.server.createSession',
        'com.atproto.repo.createRecord',
        'com.atproto.repo.getRecord',
      ])
      for (const call of pdsCalls) {
        expect(call.status).toBe(200)
        expect([pageOrigin, '*']).toContain(call.allowOrigin)
      }
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

// Visible in the run's summary too, not only in the warning above.
if (!hasChromium && !inCI) it.skip(`in headless Chromium: SKIPPED, ${chromiumMissing}`)
