import { describe, expect, it } from 'vitest'
import {
  formatValidators,
  isAtIdentifier,
  isAtUri,
  isCid,
  isDatetime,
  isDid,
  isLanguage,
  isRecordKey,
  isUri,
  type LexStringFormat,
} from '../src/runtime/schema/formats.js'

// Edge cases the interop fixtures do not cover.

describe('isDatetime calendar checks', () => {
  it.each([
    ['2024-02-29T00:00:00Z', true], // divisible by 4
    ['2000-02-29T00:00:00Z', true], // divisible by 400
    ['0000-02-29T00:00:00Z', true], // proleptic Gregorian year 0 is a leap year
    ['2023-02-29T00:00:00Z', false],
    ['1900-02-29T00:00:00Z', false], // divisible by 100 but not 400
    ['2100-02-29T00:00:00Z', false],
    ['2023-02-28T23:59:59.999Z', true],
    ['2024-02-30T00:00:00Z', false],
    ['2023-04-30T00:00:00Z', true],
    ['2023-04-31T00:00:00Z', false],
    ['2023-12-31T00:00:00Z', true],
    ['2023-12-32T00:00:00Z', false],
  ])('%s -> %s', (value, expected) => {
    expect(isDatetime(value)).toBe(expected)
  })

  it('rejects leap seconds, 24:00 and out-of-range offsets', () => {
    expect(isDatetime('1985-04-12T23:20:59Z')).toBe(true)
    expect(isDatetime('1985-04-12T23:20:60Z')).toBe(false)
    expect(isDatetime('1985-04-12T24:00:00Z')).toBe(false)
    expect(isDatetime('1985-04-12T23:20:50+23:59')).toBe(true)
    expect(isDatetime('1985-04-12T23:20:50+24:00')).toBe(false)
    expect(isDatetime('1985-04-12T23:20:50+01:60')).toBe(false)
    expect(isDatetime('1985-04-12T23:20:50+00:00')).toBe(true)
    expect(isDatetime('1985-04-12T23:20:50-00:01')).toBe(true)
  })

  it('rejects instants that normalize outside years 0000-9999', () => {
    expect(isDatetime('0000-01-01T01:00:00+01:00')).toBe(true) // exactly 0000-01-01T00:00Z
    expect(isDatetime('0000-01-01T00:59:59+01:00')).toBe(false)
    expect(isDatetime('0000-01-02T00:00:00+01:00')).toBe(true)
    expect(isDatetime('9999-12-31T22:59:59-01:00')).toBe(true)
    expect(isDatetime('9999-12-31T23:00:00-01:00')).toBe(false)
    expect(isDatetime('9999-12-31T23:59:59Z')).toBe(true)
  })

  it('caps length at 64 characters', () => {
    const base = '1985-04-12T23:20:50.'
    expect(isDatetime(`${base}${'1'.repeat(64 - base.length - 1)}Z`)).toBe(true)
    expect(isDatetime(`${base}${'1'.repeat(64 - base.length)}Z`)).toBe(false)
  })
})

describe('isCid', () => {
  const dagCbor = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
  const raw = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

  it('accepts real base32 CIDv1s', () => {
    expect(isCid(dagCbor)).toBe(true)
    expect(isCid(raw)).toBe(true)
  })

  it('rejects b-prefixed base32 that is not a well-formed CIDv1', () => {
    expect(isCid('baaaaaaaaaaaaaaaaaaaaaaa')).toBe(false) // version 0
    expect(isCid('bahaaaaaaaaaa')).toBe(false) // v1 header, digest length mismatch
    expect(isCid(`${dagCbor}aa`)).toBe(false) // trailing bytes after the digest
    expect(isCid(dagCbor.slice(0, -8))).toBe(false) // truncated digest
    expect(isCid(dagCbor.slice(0, -1))).toBe(false) // impossible base32 tail length
    expect(isCid(`${dagCbor.slice(0, -1)}n`)).toBe(false) // non-zero padding bits
    expect(isCid('bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hp1')).toBe(false) // '1' not base32
  })

  it('applies only the syntax rule to other multibase prefixes', () => {
    expect(isCid(dagCbor.toUpperCase())).toBe(true) // base32upper
    expect(isCid('BAAAAAAAAAAA')).toBe(true)
    expect(isCid('zzzzzzzzzz')).toBe(true)
    expect(isCid('mAAAA+AAAA=')).toBe(true)
    expect(isCid('zzzz')).toBe(false) // too short
    expect(isCid(`z${'a'.repeat(256)}`)).toBe(false) // too long
    expect(isCid('QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR')).toBe(false)
  })
})

describe('isAtUri length limits', () => {
  const did2048 = `did:plc:${'a'.repeat(2048 - 8)}`
  const longHandle = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}` // 253
  const nsid317 = `com.${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.${'e'.repeat(63)}`

  it('enforces the DID and handle limits on the authority', () => {
    expect(isDid(did2048)).toBe(true)
    expect(isAtUri(`at://${did2048}`)).toBe(true)
    expect(isAtUri(`at://${did2048}a`)).toBe(false)
    expect(longHandle.length).toBe(253)
    expect(isAtUri(`at://${longHandle}`)).toBe(true)
    expect(isAtUri(`at://a${longHandle}`)).toBe(false)
    expect(isAtUri(`at://${longHandle}/com.example.post/abc`)).toBe(true)
  })

  it('enforces the NSID and record key limits', () => {
    expect(nsid317.length).toBe(317)
    expect(isAtUri(`at://did:plc:abc/${nsid317}`)).toBe(true)
    expect(isAtUri(`at://did:plc:abc/a${nsid317}`)).toBe(false)
    expect(isAtUri(`at://did:plc:abc/${nsid317}/${'k'.repeat(512)}`)).toBe(true)
    expect(isAtUri(`at://did:plc:abc/com.example.post/${'k'.repeat(512)}`)).toBe(true)
    expect(isAtUri(`at://did:plc:abc/com.example.post/${'k'.repeat(513)}`)).toBe(false)
    expect(isAtUri(`at://${did2048}/${nsid317}/${'k'.repeat(512)}`)).toBe(true)
  })

  it('rejects anything over 8 KiB without further work', () => {
    expect(isAtUri(`at://did:plc:${'a'.repeat(8192)}`)).toBe(false)
  })

  it('rejects . and .. only as a whole record key', () => {
    expect(isAtUri('at://did:plc:abc/com.example.post/.')).toBe(false)
    expect(isAtUri('at://did:plc:abc/com.example.post/..')).toBe(false)
    expect(isAtUri('at://did:plc:abc/com.example.post/...')).toBe(true)
    expect(isAtUri('at://did:plc:abc/com.example.post/.a')).toBe(true)
    expect(isRecordKey('..')).toBe(false)
    expect(isRecordKey('..a')).toBe(true)
  })
})

describe('isLanguage', () => {
  it.each([
    ['en', true],
    ['pt-BR', true],
    ['x-foo-foo', true], // private use is exempt from duplicate checks
    ['X-a-a', true],
    ['en-x-foo-foo', true],
    ['en-x-a-b-a', true],
    ['en-a-foo-b-foo', true], // extension subtags may repeat across singletons
    ['de-1901-a-1901', true], // variant vs. extension subtag
    ['de-1901-1996', true],
    ['en-GB-oed', true],
    ['sgn-CH-DE', true],
    ['en-0-foo-0-bar', false], // digit singleton repeated
    ['en-a-foo-A-bar', false],
    ['de-Latn-DE-1901-1996-1901', false],
    ['en-GB-oed-oed', false], // not grandfathered, and 'oed' is not a variant
  ])('%s -> %s', (value, expected) => {
    expect(isLanguage(value)).toBe(expected)
  })

  it('checks duplicates in very long tags too (linear path)', () => {
    const variants = Array.from({ length: 40 }, (_, i) => `v${String(i).padStart(4, '0')}`)
    const tag = `en-${variants.join('-')}-a-foo-b-bar`
    expect(tag.length).toBeGreaterThan(128)
    expect(isLanguage(tag)).toBe(true)
    expect(isLanguage(`en-${variants.join('-')}-V0007`)).toBe(false)
    expect(isLanguage(`${tag}-A-baz`)).toBe(false)
    expect(isLanguage(`${tag}-x-a-a-a`)).toBe(true)
  })
})

describe('other limits', () => {
  it('caps DIDs at 2048 and URIs at 8192 characters', () => {
    expect(isDid(`did:plc:${'a'.repeat(2041)}`)).toBe(false)
    expect(isUri(`https://x/${'a'.repeat(8192 - 10)}`)).toBe(true)
    expect(isUri(`https://x/${'a'.repeat(8193 - 10)}`)).toBe(false)
  })

  it('routes at-identifier by the did: prefix', () => {
    expect(isAtIdentifier('did:plc:abc')).toBe(true)
    expect(isAtIdentifier('did:plc:')).toBe(false)
    expect(isAtIdentifier('did.example.com')).toBe(true)
  })
})

describe('formatValidators', () => {
  it('covers every lexicon string format', () => {
    const formats: LexStringFormat[] = [
      'did',
      'handle',
      'at-identifier',
      'nsid',
      'at-uri',
      'cid',
      'datetime',
      'language',
      'tid',
      'record-key',
      'uri',
    ]
    expect(Object.keys(formatValidators).sort()).toEqual([...formats].sort())
    expect(formatValidators['at-uri']('at://did:plc:abc/app.bsky.feed.post/3k2a4b5c6d7e2')).toBe(true)
    expect(formatValidators.tid('3k2a4b5c6d7e2')).toBe(true)
  })
})
