// A person at the local PDS's own sign-in and consent pages, in headless Chromium: the OAuth tests
// open the authorization URL, type the password, press "Sign in", then "Authorize" (or "Deny
// access"), and wait until the browser is back at the app's redirect.
import type { Browser, Page } from 'playwright-core'

export interface SignInOptions {
  password: string
  /** Press "Deny access" instead of "Authorize". */
  deny?: boolean
  /** Where the browser should end up (default: the app's 127.0.0.1 loopback redirect). */
  returnsTo?: RegExp
}

/** Goes through the provider's pages on a new tab of `browser`; resolves with the page the app answered with. */
export async function signInAsAPerson(browser: Browser, url: URL | string, options: SignInOptions): Promise<string> {
  const page = await browser.newPage()
  try {
    await page.goto(String(url))
    await approve(page, options)
    await page.waitForURL(options.returnsTo ?? /^http:\/\/127\.0\.0\.1:\d+\//, { timeout: 30_000 })
    await page.waitForLoadState('load')
    return (await page.textContent('body')) ?? ''
  } finally {
    await page.close()
  }
}

/** The sign-in form (the handle is filled in from the request's login hint) and the consent screen. */
export async function approve(page: Page, options: SignInOptions): Promise<void> {
  await page.fill('input[type=password]', options.password, { timeout: 30_000 })
  await page.click('button[type=submit]:has-text("Sign in")')
  if (options.deny) await page.click('button:has-text("Deny access")', { timeout: 30_000 })
  else await page.click('button[type=submit]:has-text("Authorize")', { timeout: 30_000 })
}
