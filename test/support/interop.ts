import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'vitest'
import { repoRoot } from './paths.js'

/** Checkout of bluesky-social/atproto-interop-tests (read-only; never vendored). */
export const interopDir: string =
  process.env.ATPROTO_INTEROP_DIR ?? path.resolve(repoRoot, '../shared/fixtures/atproto-interop-tests')

export const interopAvailable: boolean = existsSync(interopDir)

/**
 * `describe` that needs the interop fixtures. Missing fixtures fail loudly in
 * CI (a silently skipped conformance suite is worse than a red build) and are
 * skipped with a warning locally.
 */
export function describeInterop(name: string, fn: () => void): void {
  if (interopAvailable) {
    describe(name, fn)
    return
  }
  const message =
    `atproto interop fixtures not found at ${interopDir}. ` +
    'Check out https://github.com/bluesky-social/atproto-interop-tests and set ' +
    'ATPROTO_INTEROP_DIR to its path.'
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('requires the atproto interop fixtures', () => {
        throw new Error(message)
      })
    })
    return
  }
  console.warn(`[${name}] skipped: ${message}`)
  // `fn` is not passed: its body may read fixture files while collecting.
  describe.skip(name, () => {
    it('requires the atproto interop fixtures', () => {})
  })
}

/**
 * One test case per line of a `syntax/*.txt` fixture. Blank lines and lines
 * starting with `#` are comments; every other line is kept byte-for-byte,
 * because leading/trailing whitespace is often the point of the case.
 */
export function readSyntaxCases(file: string): string[] {
  const text = readFileSync(path.resolve(interopDir, 'syntax', file), 'utf8')
  const cases: string[] = []
  for (let line of text.split('\n')) {
    // Tolerate CRLF checkouts; '\r' is never part of a case.
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line.trim() === '' || line.startsWith('#')) continue
    cases.push(line)
  }
  return cases
}

/** Parses a JSON fixture, `relPath` being relative to {@link interopDir}. */
export function readJson<T>(relPath: string): T {
  return JSON.parse(readFileSync(path.resolve(interopDir, relPath), 'utf8')) as T
}
