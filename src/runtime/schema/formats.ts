/**
 * Validators for the AT Protocol Lexicon string formats
 * (https://atproto.com/specs/lexicon#string-formats).
 *
 * These run on every string field of every record we validate, so the common
 * case allocates nothing (no `split`, no `Date`, no match groups): a length
 * check (which also bounds regex work on hostile input), one precompiled regex,
 * and a few fixed-position reads. In V8 (Node 20) a regex scans about 2.5x
 * faster per character than a `charCodeAt` loop, so character scanning is
 * left to regexes. The interop fixtures in bluesky-social/atproto-interop-tests
 * are the authority on edge cases; see test/conformance/syntax.test.ts.
 */

export type LexStringFormat =
  | 'did'
  | 'handle'
  | 'at-identifier'
  | 'nsid'
  | 'at-uri'
  | 'cid'
  | 'datetime'
  | 'language'
  | 'tid'
  | 'record-key'
  | 'uri'

// Regex sources are shared between the standalone validators and the at-uri
// regex so the two can never drift apart. Regexes built from them are made by a
// call marked pure whose arguments are plain names and literals: bundlers cannot
// know that `new RegExp(\`^${src}$\`)` has no side effect (a template may call
// toString), and would otherwise keep every format's regex in a bundle that
// uses one format.
const DID_SRC = 'did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]'
const HANDLE_SRC = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?'
const NSID_SRC =
  '[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\\.[a-zA-Z][a-zA-Z0-9]{0,62}'
const RKEY_CHARS_SRC = '[a-zA-Z0-9_~.:-]'

/** A regex matching the whole of a string, from `parts` of its source. */
const whole = (...parts: string[]): RegExp => new RegExp(`^${parts.join('')}$`)

const DID_RE = /*#__PURE__*/ whole(DID_SRC)
const HANDLE_RE = /*#__PURE__*/ whole(HANDLE_SRC)
const NSID_RE = /*#__PURE__*/ whole(NSID_SRC)
// The rkey length cap (512) is left to the long-URI path: it can only be
// exceeded by URIs far longer than the common case.
const AT_URI_RE = /*#__PURE__*/ whole(
  'at://(?:',
  DID_SRC,
  '|',
  HANDLE_SRC,
  ')(?:/',
  NSID_SRC,
  '(?:/(?!\\.\\.?$)',
  RKEY_CHARS_SRC,
  '+)?)?',
)
// The shape of nearly every record reference: DID authority, all-letter NSID
// segments, rkey not starting with '.'. Every match is a valid at-uri when the
// URI is short (see AT_URI_SHORT_LENGTH), and unlike AT_URI_RE it needs no
// backtracking (no trailing-character classes, no NSID-name retry), which
// makes it markedly cheaper.
const AT_URI_COMMON_RE =
  /^at:\/\/did:[a-z]+:[a-zA-Z0-9._-]+(?:\/[a-zA-Z]{1,63}\.[a-zA-Z]{1,63}(?:\.[a-zA-Z]{1,63})+(?:\/[a-zA-Z0-9_~:-][a-zA-Z0-9_~.:-]*)?)?$/
const RKEY_RE = /*#__PURE__*/ whole(RKEY_CHARS_SRC, '+')
const TID_RE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/
const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/
const CID_SYNTAX_RE = /^[a-zA-Z0-9+=]{8,256}$/

// BCP 47 well-formedness (RFC 5646 §2.1). Stricter than the RFC's
// case-insensitivity in one place, as the fixtures demand: the primary
// language subtag must be lowercase (`JA` is rejected), while the private-use
// singleton may be `x` or `X`. 4-letter primary subtags are reserved and
// rejected (`jaja`). Irregular grandfathered tags are listed verbatim; the
// regular ones (zh-hakka, no-bok, ...) already parse as langtags.
const LANGUAGE_RE = /*#__PURE__*/ new RegExp(
  '^(?:' +
    '(?:[a-z]{2,3}(?:-[a-zA-Z]{3}){0,3}|[a-z]{5,8})' + // language (+ extlang)
    '(?:-[a-zA-Z]{4})?' + // script
    '(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?' + // region
    '(?:-(?:[a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*' + // variants
    '(?:-[0-9a-wyzA-WYZ](?:-[a-zA-Z0-9]{2,8})+)*' + // extensions
    '(?:-[xX](?:-[a-zA-Z0-9]{1,8})+)?' + // private use
    '|[xX](?:-[a-zA-Z0-9]{1,8})+' +
    '|en-GB-oed|i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)|sgn-(?:BE-FR|BE-NL|CH-DE)' +
    ')$',
)

const MAX_DID_LENGTH = 2048
const MAX_HANDLE_LENGTH = 253
const MAX_NSID_LENGTH = 317
const MAX_RKEY_LENGTH = 512
const MAX_URI_LENGTH = 8192
const MAX_DATETIME_LENGTH = 64
// 'at://' + 253: up to this no component (handle 253, nsid 317, rkey 512,
// did 2048) can be over its own limit, so short URIs skip those checks.
const AT_URI_SHORT_LENGTH = 5 + MAX_HANDLE_LENGTH

export function isDid(value: string): boolean {
  return value.length <= MAX_DID_LENGTH && DID_RE.test(value)
}

export function isHandle(value: string): boolean {
  return value.length <= MAX_HANDLE_LENGTH && HANDLE_RE.test(value)
}

export function isAtIdentifier(value: string): boolean {
  // Handles cannot contain ':', so the prefix decides which grammar applies.
  return value.startsWith('did:') ? isDid(value) : isHandle(value)
}

export function isNsid(value: string): boolean {
  return value.length <= MAX_NSID_LENGTH && NSID_RE.test(value)
}

export function isAtUri(value: string): boolean {
  const len = value.length
  if (len <= AT_URI_SHORT_LENGTH && AT_URI_COMMON_RE.test(value)) return true
  if (len > MAX_URI_LENGTH || !AT_URI_RE.test(value)) return false
  if (len <= AT_URI_SHORT_LENGTH) return true
  // Long URI: the regex has already validated structure, so '/' positions
  // delimit authority, collection and rkey exactly.
  let authEnd = value.indexOf('/', 5)
  if (authEnd === -1) authEnd = len
  const authMax = value.startsWith('did:', 5) ? MAX_DID_LENGTH : MAX_HANDLE_LENGTH
  if (authEnd - 5 > authMax) return false
  if (authEnd === len) return true
  let nsidEnd = value.indexOf('/', authEnd + 1)
  if (nsidEnd === -1) nsidEnd = len
  if (nsidEnd - authEnd - 1 > MAX_NSID_LENGTH) return false
  return nsidEnd === len || len - nsidEnd - 1 <= MAX_RKEY_LENGTH
}

/** The parts of an AT URI (`at://<authority>/<collection>/<rkey>`), the latter two when present. */
export interface AtUri {
  /** A DID or a handle. */
  authority: string
  collection?: string
  rkey?: string
}

/**
 * Parses an AT URI by the `at-uri` format: `undefined` for anything that is not one (so no caller
 * splits strings on `/` itself). Once the format holds, `/` delimits the parts exactly.
 */
export function parseAtUri(value: string): AtUri | undefined {
  if (!isAtUri(value)) return undefined
  const [authority, collection, rkey] = value.slice(5).split('/')
  return { authority, ...(collection ? { collection } : {}), ...(rkey ? { rkey } : {}) }
}

export function isRecordKey(value: string): boolean {
  const len = value.length
  if (len === 0 || len > MAX_RKEY_LENGTH) return false
  if (len <= 2 && (value === '.' || value === '..')) return false
  return RKEY_RE.test(value)
}

export function isTid(value: string): boolean {
  return value.length === 13 && TID_RE.test(value)
}

export function isUri(value: string): boolean {
  return value.length <= MAX_URI_LENGTH && URI_RE.test(value)
}

// ---------------------------------------------------------------------------
// cid

// Multibase 'b': RFC 4648 base32, lowercase, unpadded.
const BASE32_RE = /^b[a-z2-7]+$/

/** Value of a base32 digit already known to be in `[a-z2-7]`. */
function base32Digit(code: number): number {
  return code >= 97 ? code - 97 : code - 24
}

// unsigned-varint spec caps varints at 9 bytes (63 bits).
const MAX_VARINT_BYTES = 9

/**
 * Checks a multibase base32 string is a complete CIDv1 without decoding it
 * into a buffer: 0x01, codec varint, multihash code varint, digest-length
 * varint, then exactly that many digest bytes. As strict as multiformats'
 * decoder about the tail (no impossible lengths, zero padding bits).
 */
function isBase32CidV1(value: string): boolean {
  const len = value.length
  const chars = len - 1
  const tailBits = (chars * 5) & 7
  // An unpadded base32 tail of 5+ bits cannot come from any byte string.
  if (tailBits >= 5 || !BASE32_RE.test(value)) return false
  if (base32Digit(value.charCodeAt(len - 1)) & ((1 << tailBits) - 1)) return false
  const totalBytes = (chars * 5) >>> 3

  // Fast path: every header varint is one byte (dag-cbor/raw + sha2-256,
  // i.e. everything atproto writes), so the header is the first 32 bits,
  // spread over characters 1-7 (length >= 8 is checked by the caller).
  const d1 = base32Digit(value.charCodeAt(1))
  const d2 = base32Digit(value.charCodeAt(2))
  const d3 = base32Digit(value.charCodeAt(3))
  const d4 = base32Digit(value.charCodeAt(4))
  const d5 = base32Digit(value.charCodeAt(5))
  const d6 = base32Digit(value.charCodeAt(6))
  const d7 = base32Digit(value.charCodeAt(7))
  const version = (d1 << 3) | (d2 >> 2)
  if (version !== 1) return false
  const codec = ((d2 & 3) << 6) | (d3 << 1) | (d4 >> 4)
  const hashCode = ((d4 & 15) << 4) | (d5 >> 1)
  const digestLength = ((d5 & 1) << 7) | (d6 << 2) | (d7 >> 3)
  if ((codec | hashCode | digestLength) < 0x80) return totalBytes - 4 === digestLength
  return hasValidMultiByteHeader(value, totalBytes)
}

/** General header walk for CIDs with multi-byte varints (rare). */
function hasValidMultiByteHeader(value: string, totalBytes: number): boolean {
  let acc = 0
  let accBits = 0
  let bytes = 0
  let field = 0 // 0 version, 1 codec, 2 hash code, 3 digest length
  let varint = 0
  let varintScale = 1
  let varintBytes = 0
  for (let i = 1; i < value.length; i++) {
    acc = ((acc << 5) | base32Digit(value.charCodeAt(i))) & 0xfff // <= 12 live bits
    accBits += 5
    if (accBits < 8) continue
    accBits -= 8
    const byte = (acc >>> accBits) & 0xff
    bytes++
    if (field === 0) {
      if (byte !== 1) return false
      field = 1
      continue
    }
    varint += (byte & 0x7f) * varintScale
    if (byte & 0x80) {
      if (++varintBytes >= MAX_VARINT_BYTES) return false
      varintScale *= 128
      continue
    }
    if (field === 3) return totalBytes - bytes === varint
    field++
    varint = 0
    varintScale = 1
    varintBytes = 0
  }
  return false
}

export function isCid(value: string): boolean {
  const len = value.length
  if (len < 8 || len > 256) return false
  const first = value.charCodeAt(0)
  // 'b' is the only multibase atproto emits, so it gets a real structural
  // check (its alphabet is a subset of the syntax rule).
  if (first === 98 /* b */) return isBase32CidV1(value)
  // CIDv0 (bare base58btc sha256 multihash) is not allowed in atproto.
  if (first === 81 /* Q */ && value.charCodeAt(1) === 109 /* m */) return false
  return CID_SYNTAX_RE.test(value)
}

// ---------------------------------------------------------------------------
// datetime

// Field ranges (month 01-12, day 01-31, hour 00-23, ...) are in the regex; the
// remaining semantic checks read fixed positions and only run when needed.
const DATETIME_RE =
  /^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$/

// Index 0 unused; February holds 28 and leap years are handled separately.
const DAYS_IN_MONTH = /*#__PURE__*/ new Uint8Array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])

/** Two ASCII digits at `i`, already validated by the regex. */
function twoDigits(value: string, i: number): number {
  return (value.charCodeAt(i) - 48) * 10 + value.charCodeAt(i + 1) - 48
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`: the RFC 3339 ∩ ISO 8601
 * profile from the Lexicon spec, plus the semantic checks the reference
 * implementation gets from `Date`: a real calendar day, no leap second
 * (`Date` rejects :60), and a UTC instant within years 0000-9999.
 */
export function isDatetime(value: string): boolean {
  const len = value.length
  if (len < 20 || len > MAX_DATETIME_LENGTH || !DATETIME_RE.test(value)) return false

  const dayTens = value.charCodeAt(8)
  if (dayTens === 51 /* 3 */ || (dayTens === 50 /* 2 */ && value.charCodeAt(9) === 57) /* 9 */) {
    const month = twoDigits(value, 5)
    const day = twoDigits(value, 8)
    if (day > DAYS_IN_MONTH[month]) {
      if (month !== 2 || day !== 29) return false
      const century = twoDigits(value, 0)
      const yearInCentury = twoDigits(value, 2)
      const leap = yearInCentury === 0 ? (century & 3) === 0 : (yearInCentury & 3) === 0
      if (!leap) return false
    }
  }

  if (value.charCodeAt(len - 1) === 90 /* Z */) return true
  const offset = twoDigits(value, len - 5) * 60 + twoDigits(value, len - 2)
  const first = value.charCodeAt(0)
  if (value.charCodeAt(len - 6) === 45 /* - */) {
    // "-00:00" means "unknown local offset" in RFC 3339; ISO 8601 forbids it.
    if (offset === 0) return false
    // 9999-12-31 late in the day west of UTC is already year 10000.
    if (first === 57 /* 9 */ && value.startsWith('9999-12-31')) {
      return twoDigits(value, 11) * 60 + twoDigits(value, 14) + offset < 1440
    }
  } else if (first === 48 /* 0 */ && value.startsWith('0000-01-01')) {
    // 0000-01-01 early in the day east of UTC normalizes to a negative year.
    return twoDigits(value, 11) * 60 + twoDigits(value, 14) >= offset
  }
  return true
}

// ---------------------------------------------------------------------------
// language

function subtagsEqualIgnoreCase(value: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) {
    // Subtags are ASCII alphanumerics, so OR-ing 0x20 folds case safely.
    if ((value.charCodeAt(a + k) | 0x20) !== (value.charCodeAt(b + k) | 0x20)) return false
  }
  return true
}

/**
 * RFC 5646 §2.2.5/§2.2.6 validity on an already well-formed tag: no variant
 * subtag and no extension singleton may repeat (case-insensitively).
 * Private-use content after `x-` is exempt.
 */
function hasDuplicateSubtags(value: string): boolean {
  const len = value.length
  const c0 = value.charCodeAt(0) | 0x20
  // Whole tag is private use, or a grandfathered `i-` tag.
  if ((c0 === 120 /* x */ || c0 === 105) /* i */ && value.charCodeAt(1) === 45) return false
  if (len > LONG_LANGUAGE_TAG) return hasDuplicateSubtagsLong(value)
  let letterSingletons = 0 // bit per a-z singleton seen
  let digitSingletons = 0 // bit per 0-9 singleton seen
  let inVariants = true
  // Skip the primary language subtag: at 5–8 letters it would look like a variant.
  let start = value.indexOf('-') + 1
  while (start < len) {
    let end = value.indexOf('-', start)
    if (end === -1) end = len
    const size = end - start
    if (size === 1) {
      const c = value.charCodeAt(start) | 0x20
      if (c === 120 /* x */) return false
      inVariants = false
      if (c >= 97) {
        const bit = 1 << (c - 97)
        if (letterSingletons & bit) return true
        letterSingletons |= bit
      } else {
        const bit = 1 << (c - 48)
        if (digitSingletons & bit) return true
        digitSingletons |= bit
      }
    } else if (inVariants && (size >= 5 || (size === 4 && value.charCodeAt(start) <= 57))) {
      // Variants follow language/extlang/script/region, none of which can have
      // this shape, and precede the first singleton. Compare with later ones.
      let next = end + 1
      while (next < len) {
        let nextEnd = value.indexOf('-', next)
        if (nextEnd === -1) nextEnd = len
        if (nextEnd - next === 1) break
        if (nextEnd - next === size && subtagsEqualIgnoreCase(value, start, next, size)) return true
        next = nextEnd + 1
      }
    }
    start = end + 1
  }
  return false
}

// The pairwise variant comparison above is quadratic; beyond this length
// (far past any real tag) a Set keeps hostile input linear.
const LONG_LANGUAGE_TAG = 128

/** Same rules as {@link hasDuplicateSubtags}, allocating but linear. */
function hasDuplicateSubtagsLong(value: string): boolean {
  const subtags = value.toLowerCase().split('-')
  const seen = new Set<string>()
  let inVariants = true
  for (let i = 1; i < subtags.length; i++) {
    const subtag = subtags[i]
    if (subtag === 'x') return false
    const isSingleton = subtag.length === 1
    if (isSingleton) inVariants = false
    const isVariant = inVariants && (subtag.length >= 5 || (subtag.length === 4 && subtag.charCodeAt(0) <= 57))
    if (!isSingleton && !isVariant) continue
    // Singletons (length 1) and variants (length >= 4) cannot collide.
    if (seen.has(subtag)) return true
    seen.add(subtag)
  }
  return false
}

export function isLanguage(value: string): boolean {
  if (!LANGUAGE_RE.test(value)) return false
  // Duplicates need at least three subtags; `en` and `pt-BR` stop here.
  const firstDash = value.indexOf('-')
  if (firstDash === -1 || value.indexOf('-', firstDash + 1) === -1) return true
  return !hasDuplicateSubtags(value)
}

// ---------------------------------------------------------------------------

/** A string format as schemas take it: its lexicon name and its check. One const per format, so a bundle keeps only the formats its schemas use. */
export interface StringFormat {
  readonly name: LexStringFormat
  readonly test: (value: string) => boolean
  /** What a failing value must be, for the issue message: `a valid DID`. */
  readonly description: string
}

export const didFormat: StringFormat = { name: 'did', test: isDid, description: 'a valid DID' }
export const handleFormat: StringFormat = { name: 'handle', test: isHandle, description: 'a valid handle' }
export const atIdentifierFormat: StringFormat = {
  name: 'at-identifier',
  test: isAtIdentifier,
  description: 'a valid handle or DID',
}
export const nsidFormat: StringFormat = { name: 'nsid', test: isNsid, description: 'a valid NSID' }
export const atUriFormat: StringFormat = { name: 'at-uri', test: isAtUri, description: 'a valid AT URI' }
export const cidFormat: StringFormat = { name: 'cid', test: isCid, description: 'a valid CID' }
export const datetimeFormat: StringFormat = {
  name: 'datetime',
  test: isDatetime,
  description: 'a valid datetime (RFC 3339, with timezone)',
}
export const languageFormat: StringFormat = {
  name: 'language',
  test: isLanguage,
  description: 'a valid BCP 47 language tag',
}
export const tidFormat: StringFormat = { name: 'tid', test: isTid, description: 'a valid TID' }
export const recordKeyFormat: StringFormat = {
  name: 'record-key',
  test: isRecordKey,
  description: 'a valid record key',
}
export const uriFormat: StringFormat = { name: 'uri', test: isUri, description: 'a valid URI' }

export const formatValidators: Record<LexStringFormat, (value: string) => boolean> = {
  did: isDid,
  handle: isHandle,
  'at-identifier': isAtIdentifier,
  nsid: isNsid,
  'at-uri': isAtUri,
  cid: isCid,
  datetime: isDatetime,
  language: isLanguage,
  tid: isTid,
  'record-key': isRecordKey,
  uri: isUri,
}
