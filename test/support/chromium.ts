/** Debian's Chromium through playwright-core, for the tests that run the SDK in a real browser. */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
export const chromiumMissing = `${CHROMIUM} is missing: run test/browser/install-chromium.sh (as root) to run the browser tests`

// This machine's network is closed: without the background-networking flags Chromium's own
// connections (updates, sync, …) are refused and logged. Playwright gives `launch` a fresh
// --user-data-dir of its own and removes it on close.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 })
}
