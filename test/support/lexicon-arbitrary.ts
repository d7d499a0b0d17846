/**
 * fast-check arbitraries of lexicon data, derived from the lexicon documents themselves: given a
 * def, {@link lexiconArbitrary} produces values in their JSON form (`{ $bytes }`, `{ $link }`,
 * blobs), either valid or "near-valid" (exactly one node mutated in a way that must make the value
 * invalid). Used by the differential tests against `@atproto/lexicon`.
 *
 * Generation is imperative from a single fast-check seed (a local PRNG), which keeps it fast
 * enough for deeply nested views; fast-check still drives the runs and reports the seed and the
 * failing case (which names its mutation and where it was applied).
 *
 * Deliberately NOT generated, because the oracle and the atproto spec disagree there (see
 * test/differential.test.ts, which documents each case): arrays where an object or `unknown` is
 * expected, `$bytes`/`$link`/blob values as `unknown`, blobs outside `accept`/`maxSize` or with a
 * non-integer size, `$type`s naming another type on non-union objects, non-base32 or corrupted
 * CIDs, and format strings the two syntax checkers classify differently.
 */
import fc from 'fast-check'
import type {
  LexArray,
  LexBlob,
  LexBoolean,
  LexBytes,
  LexDef,
  LexField,
  LexInteger,
  LexiconDocument,
  LexObject,
  LexString,
  LexUnion,
} from '../../codegen/lexicon-document.js'

// ---------------------------------------------------------------------------
// catalog

/** What a test generates values for: a schema node, the document its `#refs` resolve against, and its type id. */
export interface LexTarget {
  /** `nsid`, `nsid#def`, or `nsid (input)` for a procedure's input. */
  name: string
  baseId: string
  schema: LexField
  /** The `$type` the value may carry (records and named defs); undefined for inline schemas. */
  typeId: string | undefined
  /** A whole record (as stored and written): its `$type` is always there, and exactly `typeId`. */
  wholeRecord?: boolean
}

export interface ResolvedDef {
  id: string
  name: string
  typeId: string
  def: LexDef
}

export class LexiconCatalog {
  private readonly docs = new Map<string, LexiconDocument>()

  constructor(docs: Iterable<LexiconDocument>) {
    for (const doc of docs) this.docs.set(doc.id, doc)
  }

  resolve(ref: string, baseId: string): ResolvedDef {
    const hash = ref.indexOf('#')
    const id = hash === -1 ? ref : hash === 0 ? baseId : ref.slice(0, hash)
    const name = hash === -1 ? 'main' : ref.slice(hash + 1)
    const def = this.docs.get(id)?.defs[name]
    if (def === undefined) throw new Error(`lexicon ref ${ref} (from ${baseId}) does not resolve`)
    return { id, name, typeId: name === 'main' ? id : `${id}#${name}`, def }
  }

  /** The value `validate(ref, value)` checks: a record's object, or the def itself. */
  target(ref: string): LexTarget {
    const { id, typeId, def } = this.resolve(ref, ref.split('#')[0])
    if (def.type === 'record') return { name: ref, baseId: id, schema: def.record, typeId }
    if (isField(def)) return { name: ref, baseId: id, schema: def, typeId }
    throw new Error(`${ref} is a ${def.type}, which has no value to generate`)
  }

  /** A record def's whole record: what `assertValidRecord` checks, `$type` included. */
  record(nsid: string): LexTarget {
    const target = this.target(nsid)
    if (this.resolve(nsid, nsid).def.type !== 'record') throw new Error(`${nsid} is not a record`)
    return { ...target, wholeRecord: true }
  }

  /** The JSON input body of a procedure. */
  input(nsid: string): LexTarget {
    const { id, def } = this.resolve(nsid, nsid)
    if (def.type !== 'procedure' || def.input?.schema === undefined)
      throw new Error(`${nsid} is not a procedure with an input schema`)
    return { name: `${nsid} (input)`, baseId: id, schema: def.input.schema, typeId: undefined }
  }
}

function isField(def: LexDef): def is LexDef & LexField {
  return !['record', 'query', 'procedure', 'subscription', 'permission-set', 'token'].includes(def.type)
}

// ---------------------------------------------------------------------------
// randomness

/** mulberry32: small, fast, and good enough to drive a generator. */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [min, max] (inclusive; safe integers). */
  int(min: number, max: number): number {
    if (max <= min) return min
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing')
    return items[this.int(0, items.length - 1)]
  }

  chars(alphabet: string, min: number, max: number): string {
    let out = ''
    for (let i = this.int(min, max); i > 0; i--) out += alphabet[this.int(0, alphabet.length - 1)]
    return out
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255)
    return out
  }
}

// ---------------------------------------------------------------------------
// text: strings measured independently of the code under test (Buffer for UTF-8, Intl.Segmenter
// for graphemes, as the atproto reference implementation counts them)

const segmenter = new Intl.Segmenter()

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

export function graphemes(text: string): number {
  let count = 0
  for (const _ of segmenter.segment(text)) count++
  return count
}

interface Piece {
  text: string
  bytes: number
  graphemes: number
  feature: string
}

/**
 * Building blocks of generated text, each a whole number of grapheme clusters that stays so when
 * concatenated (no piece starts with a combining mark, ZWJ, modifier or lone regional indicator).
 */
const PIECES: readonly Piece[] = (
  [
    ['a', 'ascii'],
    ['Z', 'ascii'],
    ['7', 'ascii'],
    [' ', 'ascii'],
    ['hello', 'ascii'],
    ['#tag', 'ascii'],
    ['é', 'latin'],
    ['ß', 'latin'],
    ['Ж', 'latin'],
    ['漢', 'cjk'],
    ['字', 'cjk'],
    ['ひ', 'cjk'],
    ['한', 'cjk'],
    ['e\u0301', 'combining'],
    ['a\u0308\u0301', 'combining'],
    ['क्षि', 'combining'],
    ['\r\n', 'crlf'],
    ['😀', 'emoji'],
    ['🦋', 'emoji'],
    ['👍🏽', 'emoji-modifier'],
    ['🇯🇵', 'emoji-flag'],
    ['🇺🇦', 'emoji-flag'],
    ['👩‍💻', 'emoji-zwj'],
    ['👨‍👩‍👧', 'emoji-zwj'],
    ['👨‍👩‍👧‍👦', 'emoji-zwj'],
    ['🏳️‍🌈', 'emoji-zwj'],
  ] as const
).map(([text, feature]) => ({ text, bytes: utf8Bytes(text), graphemes: graphemes(text), feature }))

const MAX_PIECE_BYTES = Math.max(...PIECES.map((p) => p.bytes))
const ONE_BYTE: Piece = PIECES[0]

interface TextLimits {
  minBytes: number
  maxBytes: number
  minGraphemes: number
  maxGraphemes: number
}

function textLimits(f: LexString): TextLimits {
  return {
    minBytes: f.minLength ?? 0,
    maxBytes: f.maxLength ?? Infinity,
    minGraphemes: f.minGraphemes ?? 0,
    maxGraphemes: f.maxGraphemes ?? Infinity,
  }
}

function fits(text: string, l: TextLimits): boolean {
  const b = utf8Bytes(text)
  if (b < l.minBytes || b > l.maxBytes) return false
  const g = graphemes(text)
  return g >= l.minGraphemes && g <= l.maxGraphemes
}

/**
 * Text of exactly `targetBytes` UTF-8 bytes in at most `maxGraphemes` graphemes, or undefined if the
 * pieces cannot make it. Every step keeps the rest reachable (each grapheme carries 1 to
 * MAX_PIECE_BYTES bytes).
 */
function textOfBytes(r: Rng, targetBytes: number, maxGraphemes: number, used: Set<string>): string | undefined {
  let out = ''
  let bytes = 0
  let count = 0
  while (bytes < targetBytes) {
    const rest = targetBytes - bytes
    const left = maxGraphemes - count
    const options = PIECES.filter(
      (p) => p.bytes <= rest && p.graphemes <= left && rest - p.bytes <= MAX_PIECE_BYTES * (left - p.graphemes),
    )
    if (options.length === 0) return undefined
    // Lean towards big pieces when the grapheme budget is tight, so the loop stays short.
    const tight = rest > 4 * left
    const piece = tight ? options.reduce((a, b) => (b.bytes > a.bytes ? b : a)) : r.pick(options)
    out += piece.text
    bytes += piece.bytes
    count += piece.graphemes
    used.add(piece.feature)
  }
  return out
}

/** Text of exactly `target` graphemes in at most `maxBytes` bytes. */
function textOfGraphemes(r: Rng, target: number, maxBytes: number, used: Set<string>): string | undefined {
  let out = ''
  let bytes = 0
  for (let count = 0; count < target;) {
    const left = target - count
    const budget = maxBytes - bytes
    const options = PIECES.filter((p) => p.graphemes <= left && p.bytes + (left - p.graphemes) <= budget)
    if (options.length === 0) return undefined
    const piece = r.pick(options)
    out += piece.text
    bytes += piece.bytes
    count += piece.graphemes
    used.add(piece.feature)
  }
  return out
}

/** At most this many bytes of text are generated for one string (limits above it are not hit exactly). */
const TEXT_LIMIT_CAP = 8192

/** A valid free-text string for `l`, sometimes exactly at a limit. */
function validText(r: Rng, l: TextLimits, features: Set<string>): string {
  const used = new Set<string>()
  const modes: string[] = ['random', 'random', 'random']
  if (l.maxBytes <= TEXT_LIMIT_CAP) modes.push('max-bytes')
  if (l.maxGraphemes <= TEXT_LIMIT_CAP) modes.push('max-graphemes')
  if (l.minBytes > 0 || l.minGraphemes > 0) modes.push('min')
  const mode = r.pick(modes)
  let text: string | undefined
  if (mode === 'max-bytes') text = textOfBytes(r, l.maxBytes, l.maxGraphemes, used)
  else if (mode === 'max-graphemes') text = textOfGraphemes(r, l.maxGraphemes, l.maxBytes, used)
  else if (mode === 'min') {
    text =
      l.minGraphemes >= l.minBytes
        ? textOfGraphemes(r, l.minGraphemes, l.maxBytes, used)
        : textOfBytes(r, l.minBytes, l.maxGraphemes, used)
  } else {
    text = ''
    for (let n = r.int(0, 6); n > 0; n--) {
      const piece = r.pick(PIECES)
      if (!fits(text + piece.text, { ...l, minBytes: 0, minGraphemes: 0 })) break
      text += piece.text
      used.add(piece.feature)
    }
    while (utf8Bytes(text) < l.minBytes || graphemes(text) < l.minGraphemes) text += ONE_BYTE.text
  }
  if (text === undefined || !fits(text, l)) {
    // The limits defeat the pieces (never for real lexicons): fall back to plain ASCII.
    text = 'a'.repeat(Math.max(l.minBytes, l.minGraphemes))
    if (!fits(text, l)) throw new Error(`cannot generate text for ${JSON.stringify(l)}`)
    return text
  }
  features.add(`string:${mode}`)
  for (const feature of used) features.add(`text:${feature}`)
  return text
}

// ---------------------------------------------------------------------------
// string formats

const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const ALNUM = `${LOWER}0123456789`
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
const TID_FIRST = '234567abcdefghij'
const RKEY_CHARS = `${ALNUM}ABCDEFGHIJKLMNOPQRSTUVWXYZ_~.:-`

function base32(bytes: Uint8Array): string {
  let out = ''
  let acc = 0
  let bits = 0
  for (const byte of bytes) {
    acc = (acc << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += BASE32[(acc >>> bits) & 31]
    }
    acc &= (1 << bits) - 1
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31]
  return out
}

/** A real CIDv1 (dag-cbor or raw, sha2-256) in multibase base32: what atproto writes. */
export function genCid(r: Rng): string {
  const bytes = new Uint8Array(36)
  bytes.set([0x01, r.chance(0.8) ? 0x71 : 0x55, 0x12, 0x20])
  bytes.set(r.bytes(32), 4)
  return `b${base32(bytes)}`
}

function label(r: Rng, first: 'letter' | 'alnum'): string {
  const len = r.chance(0.03) ? 63 : r.int(1, 10)
  const head = first === 'letter' ? r.chars(LOWER, 1, 1) : r.chars(ALNUM, 1, 1)
  if (len === 1) return head
  return head + r.chars(`${ALNUM}-`, len - 2, len - 2) + r.chars(ALNUM, 1, 1)
}

function genHandle(r: Rng): string {
  const labels: string[] = []
  for (let n = r.int(1, 3); n > 0; n--) labels.push(label(r, 'alnum'))
  labels.push(r.pick(['com', 'social', 'dev', 'net', 'test', label(r, 'letter')]))
  // Four 63-character labels would pass the 253-character limit.
  const handle = labels.join('.').length <= 253 ? labels.join('.') : `${labels[0]}.test`
  return r.chance(0.1) ? handle.toUpperCase() : handle
}

function genDid(r: Rng): string {
  switch (r.int(0, 3)) {
    case 0:
    case 1:
      return `did:plc:${r.chars(BASE32, 24, 24)}`
    case 2:
      return `did:web:${genHandle(r).toLowerCase()}${r.chance(0.2) ? '%3A8080' : ''}`
    default:
      return `did:key:z${r.chars('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', 20, 48)}`
  }
}

function genNsid(r: Rng): string {
  const segments = [label(r, 'letter')]
  for (let n = r.int(1, 2); n > 0; n--) segments.push(label(r, 'letter'))
  const name =
    r.chars(`${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ`, 1, 1) + r.chars(`${ALNUM}ABCDEFGHIJKLMNOPQRSTUVWXYZ`, 0, 15)
  return `${segments.join('.')}.${name}`
}

function genTid(r: Rng): string {
  return r.chars(TID_FIRST, 1, 1) + r.chars(BASE32, 12, 12)
}

function genRecordKey(r: Rng, maxLength: number): string {
  const roll = r.int(0, 9)
  if (roll === 0) return 'self'
  if (roll <= 3) return genTid(r)
  if (roll === 4 && maxLength >= 512) return r.chars(RKEY_CHARS, 512, 512).replace(/^\.+$/, 'a')
  const key = r.chars(RKEY_CHARS, 1, 15)
  return key === '.' || key === '..' ? 'dot' : key
}

function genAtUri(r: Rng): string {
  let uri = `at://${r.chance(0.7) ? genDid(r) : genHandle(r)}`
  if (r.chance(0.8)) {
    uri += `/${genNsid(r)}`
    if (r.chance(0.85)) uri += `/${genRecordKey(r, 64)}`
  }
  return uri
}

const OFFSETS = [
  'Z',
  'Z',
  'Z',
  '+00:00',
  '+01:00',
  '-05:00',
  '+05:30',
  '+05:45',
  '-09:30',
  '+09:00',
  '+14:00',
  '-12:00',
  '+12:45',
  '-03:00',
]

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function genDatetime(r: Rng): string {
  const year = r.chance(0.7) ? r.int(1970, 2100) : r.int(1, 9998)
  const month = r.int(1, 12)
  const probe = new Date(0)
  probe.setUTCFullYear(year, month, 0) // day 0 of the next month: the last day of this one
  const day = r.chance(0.1) ? probe.getUTCDate() : r.int(1, probe.getUTCDate())
  let out = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(r.int(0, 23), 2)}:${pad(r.int(0, 59), 2)}:${pad(r.int(0, 59), 2)}`
  if (r.chance(0.7)) out += `.${r.chars('0123456789', 1, 9)}`
  return out + r.pick(OFFSETS)
}

const LANGUAGES = [
  'en',
  'ja',
  'pt-BR',
  'zh-Hant-TW',
  'es-419',
  'sr-Latn-RS',
  'de-CH-1901',
  'en-GB-oed',
  'i-klingon',
  'x-private',
  'zh-min-nan',
  'hy-Latn-IT-arevela',
]

function genLanguage(r: Rng): string {
  if (r.chance(0.4)) return r.pick(LANGUAGES)
  let tag = r.chars(LOWER, 2, 3)
  if (r.chance(0.3)) tag += `-${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1, 1)}${r.chars(LOWER, 3, 3)}`
  if (r.chance(0.5))
    tag += r.chance(0.8) ? `-${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 2, 2)}` : `-${r.chars('0123456789', 3, 3)}`
  return tag
}

function genUri(r: Rng): string {
  switch (r.int(0, 5)) {
    case 0:
      return `at://${genDid(r)}/${genNsid(r)}`
    case 1:
      return `mailto:${r.chars(ALNUM, 1, 8)}@${genHandle(r)}`
    case 2:
      return `dns:${genHandle(r)}`
    default: {
      let uri = `${r.pick(['https', 'http'])}://${genHandle(r).toLowerCase()}`
      if (r.chance(0.7)) uri += `/${r.chars(`${ALNUM}-._~%/`, 0, 20)}`
      if (r.chance(0.3)) uri += `?q=${r.chars(ALNUM, 1, 8)}&x=%20`
      if (r.chance(0.2)) uri += `#${r.chars(ALNUM, 1, 8)}`
      return uri
    }
  }
}

const FORMAT_GENERATORS: Record<NonNullable<LexString['format']>, (r: Rng, f: LexString) => string> = {
  did: genDid,
  handle: genHandle,
  'at-identifier': (r) => (r.chance(0.5) ? genDid(r) : genHandle(r)),
  nsid: genNsid,
  'at-uri': genAtUri,
  cid: genCid,
  datetime: genDatetime,
  language: genLanguage,
  tid: genTid,
  'record-key': (r, f) => genRecordKey(r, f.maxLength ?? 512),
  uri: genUri,
}

/**
 * Strings every format check must refuse, ours and the oracle's alike (near misses the two
 * classify differently are documented in test/differential.test.ts instead).
 */
export const BAD_FORMAT_VALUES: Record<NonNullable<LexString['format']>, readonly string[]> = {
  did: ['', 'did:plc:', 'DID:plc:abc', 'did:PLC:abc', 'plc:abc', 'did:plc:abc def', 'did::abc'],
  handle: ['', 'example', 'ex_ample.com', '-bad.example.com', 'a..b.com', 'example.123', 'has space.com'],
  'at-identifier': ['', 'did:plc', '@alice.example.com', 'example', 'did:PLC:abc'],
  nsid: ['', 'com.example', 'com..example.foo', 'com.example.foo!', 'com.example.1foo', 'com.example.foo-bar'],
  'at-uri': [
    '',
    'https://example.com/x',
    'at://',
    'at:/did:plc:abc',
    'at://did:plc:abc/not an nsid',
    'at://exa mple.com',
  ],
  cid: ['', 'not a cid', 'bafy', 'b', '12345'],
  datetime: [
    '',
    '2024-01-01',
    '2024-13-01T00:00:00Z',
    '2024-01-01T25:00:00Z',
    '2024-01-01 00:00:00Z',
    '2023-02-29T00:00:00Z',
    'yesterday',
  ],
  language: ['', 'e', 'english language', '12', 'en_US', 'en-'],
  tid: ['', 'abc', '0000000000000', '3jzfcijpj2z2aa', '3JZFCIJPJ2Z2A', 'kzfcijpj2z2a2'],
  'record-key': ['', '.', '..', 'a/b', 'a b', 'a#b', 'a?b'],
  uri: ['', 'no-scheme', 'https:', 'https://exa mple.com', ' https://example.com', 'not a uri'],
}

// ---------------------------------------------------------------------------
// generation

export type PathKey = string | number

/** Returned by a mutation to delete the node from its parent (a missing property). */
const REMOVE: unique symbol = Symbol('remove')

interface Mutation {
  kind: string
  apply(current: unknown): unknown
}

/** A node of the generated value and the mutations appropriate to it. */
interface Site {
  path: PathKey[]
  mutations: Mutation[]
}

export interface LexCase {
  value: unknown
  /** The one mutation applied, if any: such a value must be refused; otherwise it must be accepted. */
  mutation: { path: string; kind: string } | undefined
  /** What the generator exercised (`format:did`, `string:max-bytes`, `union:unknown-member`, ...). */
  features: string[]
  /** Properties left out that have a lexicon default: a validator's output should have them filled in. */
  defaults: OmittedDefault[]
}

export interface OmittedDefault {
  path: PathKey[]
  value: unknown
  /** Under an array item (the oracle does not apply these: see test/differential.test.ts). */
  inArray: boolean
}

/** `value` with the given omitted defaults filled in (a copy; `value` is not modified). */
export function withDefaults(value: unknown, defaults: readonly OmittedDefault[]): unknown {
  const out = structuredClone(value)
  for (const { path, value: fill } of defaults) {
    const parent = walk(out, path.slice(0, -1)) as Record<PathKey, unknown>
    parent[path[path.length - 1]] = fill
  }
  return out
}

export interface ArbitraryOptions {
  /** Probability that a case carries exactly one mutation (default 0.5). */
  mutationRate?: number
  /** Refs/unions/objects nested deeper than this get only their required properties (default 5). */
  maxDepth?: number
  /** Arrays get at most this many items unless minLength demands more (default 3). */
  maxItems?: number
}

/** An arbitrary of cases (valid or near-valid values) for `target`. */
export function lexiconArbitrary(
  catalog: LexiconCatalog,
  target: LexTarget,
  options: ArbitraryOptions = {},
): fc.Arbitrary<LexCase> {
  return fc
    .noShrink(fc.integer({ min: 0, max: 0x7fffffff }))
    .map((seed) => generateCase(catalog, target, seed, options))
}

export function generateCase(
  catalog: LexiconCatalog,
  target: LexTarget,
  seed: number,
  options: ArbitraryOptions = {},
): LexCase {
  const gen = new Generator(catalog, new Rng(seed), {
    mutationRate: options.mutationRate ?? 0.5,
    maxDepth: options.maxDepth ?? 5,
    maxItems: options.maxItems ?? 3,
  })
  return gen.run(target)
}

interface Slot {
  /** null is allowed here (a nullable property). */
  nullable: boolean
}

const NOT_NULLABLE: Slot = { nullable: false }

const GENERIC_MUTATION = /^(wrong type|null)/

class Generator {
  private sites: Site[] = []
  private defaults: OmittedDefault[] = []
  private recording = true
  readonly features = new Set<string>()

  constructor(
    private readonly catalog: LexiconCatalog,
    private readonly r: Rng,
    private readonly options: Required<ArbitraryOptions>,
  ) {}

  run(target: LexTarget): LexCase {
    // A whole record always carries its exact type, as a union member does.
    const type = { typeId: target.typeId, union: target.wholeRecord ? target.typeId : undefined }
    let value =
      target.schema.type === 'object'
        ? this.object(target.schema, target.baseId, [], 0, type, NOT_NULLABLE)
        : this.field(target.schema, target.baseId, [], 0, NOT_NULLABLE)
    if (target.wholeRecord) {
      this.features.add('record:whole')
      this.site(
        [],
        [
          { kind: 'record without $type', apply: (v) => omit(v, '$type') },
          { kind: 'record $type with #main', apply: (v) => ({ ...(v as object), $type: `${target.typeId}#main` }) },
        ],
      )
    }
    let mutation: LexCase['mutation']
    if (this.sites.length > 0 && this.r.chance(this.options.mutationRate)) {
      const site = this.r.pick(this.sites)
      // Favour the mutations specific to the node over the generic wrong type / null.
      const specific = site.mutations.filter((m) => !GENERIC_MUTATION.test(m.kind))
      const chosen = this.r.pick(specific.length > 0 && this.r.chance(0.75) ? specific : site.mutations)
      mutation = { path: formatPath(site.path), kind: chosen.kind }
      if (site.path.length === 0) value = chosen.apply(value)
      else {
        const parent = walk(value, site.path.slice(0, -1)) as Record<PathKey, unknown>
        const key = site.path[site.path.length - 1]
        const next = chosen.apply(parent[key])
        if (next === REMOVE) delete parent[key]
        else parent[key] = next
      }
    }
    return { value, mutation, features: [...this.features].sort(), defaults: this.defaults }
  }

  private site(path: PathKey[], mutations: Mutation[]): void {
    if (this.recording && mutations.length > 0) this.sites.push({ path, mutations })
  }

  /** Generates without registering mutation sites (for values a mutation itself adds). */
  private quietly<T>(make: () => T): T {
    const was = this.recording
    this.recording = false
    try {
      return make()
    } finally {
      this.recording = was
    }
  }

  /** Wrong-type values for a node, plus null when the slot is not nullable. */
  private wrongTypes(slot: Slot, values: readonly unknown[]): Mutation[] {
    const out: Mutation[] = values.map((v) => ({
      kind: `wrong type (${describe(v)})`,
      apply: () => structuredClone(v),
    }))
    if (!slot.nullable) out.push({ kind: 'null (not nullable)', apply: () => null })
    return out
  }

  private field(f: LexField, baseId: string, path: PathKey[], depth: number, slot: Slot): unknown {
    switch (f.type) {
      case 'boolean':
        return this.boolean(f, path, slot)
      case 'integer':
        return this.integer(f, path, slot)
      case 'string':
        return this.string(f, path, slot)
      case 'bytes':
        return this.bytes(f, path, slot)
      case 'cid-link':
        return this.cidLink(path, slot)
      case 'blob':
        return this.blob(f, path, slot)
      case 'unknown':
        return this.unknown(path, slot)
      case 'array':
        return this.array(f, baseId, path, depth, slot)
      case 'object':
        return this.object(f, baseId, path, depth + 1, { typeId: undefined }, slot)
      case 'union':
        return this.union(f, baseId, path, depth, slot)
      case 'ref': {
        const resolved = this.catalog.resolve(f.ref, baseId)
        const def = resolved.def
        if (def.type === 'object')
          return this.object(def, resolved.id, path, depth + 1, { typeId: resolved.typeId }, slot)
        if (!isField(def))
          throw new Error(`ref ${f.ref} to a ${def.type}: not generated (the oracle cannot validate it either)`)
        this.features.add(`ref:${def.type}`)
        return this.field(def, resolved.id, path, depth + 1, slot)
      }
    }
  }

  private boolean(f: LexBoolean, path: PathKey[], slot: Slot): boolean {
    this.features.add('boolean')
    const mutations = this.wrongTypes(slot, ['true', 1])
    if (f.const !== undefined) {
      this.features.add('boolean:const')
      mutations.push({ kind: 'boolean not const', apply: () => !f.const })
    }
    this.site(path, mutations)
    return f.const ?? this.r.chance(0.5)
  }

  private integer(f: LexInteger, path: PathKey[], slot: Slot): number {
    this.features.add('integer')
    const mutations = this.wrongTypes(slot, ['7', true])
    mutations.push({ kind: 'float', apply: (v) => (v as number) + 0.5 })
    if (f.minimum !== undefined) mutations.push({ kind: 'integer below minimum', apply: () => f.minimum! - 1 })
    if (f.maximum !== undefined) mutations.push({ kind: 'integer above maximum', apply: () => f.maximum! + 1 })
    if (f.enum !== undefined) mutations.push({ kind: 'integer not in enum', apply: () => Math.max(...f.enum!) + 1 })
    if (f.const !== undefined) mutations.push({ kind: 'integer not const', apply: () => f.const! + 1 })
    this.site(path, mutations)
    if (f.const !== undefined) {
      this.features.add('integer:const')
      return f.const
    }
    if (f.enum !== undefined) {
      this.features.add('integer:enum')
      return this.r.pick(f.enum)
    }
    const lo = f.minimum ?? (f.maximum !== undefined ? f.maximum - 10_000 : -10_000)
    const hi = f.maximum ?? lo + 10_000_000
    if (this.r.chance(0.3)) {
      const bounds = [lo, hi, lo + 1, hi - 1].filter((n) => n >= lo && n <= hi)
      if (f.minimum !== undefined || f.maximum !== undefined) this.features.add('integer:boundary')
      return this.r.pick(bounds)
    }
    return this.r.int(lo, hi)
  }

  private string(f: LexString, path: PathKey[], slot: Slot): string {
    this.features.add('string')
    const limits = textLimits(f)
    const mutations = this.wrongTypes(slot, [42, true, { text: 'x' }, ['x']])
    if (f.const !== undefined) mutations.push({ kind: 'string not const', apply: () => `${f.const}-not` })
    if (f.enum !== undefined) mutations.push({ kind: 'string not in enum', apply: () => 'not-in-the-enum' })
    if (f.format !== undefined) {
      const format = f.format
      mutations.push({ kind: `bad ${format}`, apply: () => this.r.pick(BAD_FORMAT_VALUES[format]) })
    }
    // Limits, crossed by exactly one byte or grapheme while every other limit still holds.
    if (limits.maxBytes <= TEXT_LIMIT_CAP) {
      mutations.push({
        kind: 'string one byte too long',
        apply: () =>
          textOfBytes(this.r, limits.maxBytes + 1, limits.maxGraphemes, new Set()) ?? 'x'.repeat(limits.maxBytes + 1),
      })
    }
    if (limits.maxGraphemes <= TEXT_LIMIT_CAP) {
      mutations.push({
        kind: 'string one grapheme too long',
        apply: () =>
          textOfGraphemes(this.r, limits.maxGraphemes + 1, limits.maxBytes, new Set()) ??
          'x'.repeat(limits.maxGraphemes + 1),
      })
    }
    if (limits.minBytes > 0) {
      mutations.push({ kind: 'string one byte too short', apply: () => 'a'.repeat(limits.minBytes - 1) })
    }
    if (limits.minGraphemes > 0) {
      mutations.push({
        kind: 'string one grapheme too short',
        apply: () => textOfGraphemes(this.r, limits.minGraphemes - 1, limits.maxBytes, new Set()) ?? '',
      })
    }
    this.site(path, mutations)

    if (f.const !== undefined) {
      this.features.add('string:const')
      return f.const
    }
    if (f.enum !== undefined) {
      this.features.add('string:enum')
      return this.r.pick(f.enum)
    }
    if (f.knownValues !== undefined && this.r.chance(0.5)) {
      this.features.add('string:knownValues')
      return this.r.pick(f.knownValues)
    }
    if (f.format !== undefined) {
      this.features.add(`format:${f.format}`)
      for (let attempt = 0; attempt < 20; attempt++) {
        const value = FORMAT_GENERATORS[f.format](this.r, f)
        if (fits(value, limits)) return value
      }
      throw new Error(`cannot generate a ${f.format} within ${JSON.stringify(limits)}`)
    }
    return validText(this.r, limits, this.features)
  }

  private bytes(f: LexBytes, path: PathKey[], slot: Slot): { $bytes: string } {
    this.features.add('bytes')
    const min = f.minLength ?? 0
    const max = Math.min(f.maxLength ?? 32, 256)
    const mutations = this.wrongTypes(slot, ['AAAA', 42])
    mutations.push({ kind: 'bytes not base64', apply: () => ({ $bytes: '!!not base64!!' }) })
    mutations.push({ kind: 'bytes with extra key', apply: (v) => ({ ...(v as object), other: 'blah' }) })
    if (f.maxLength !== undefined && f.maxLength < 4096) {
      mutations.push({ kind: 'bytes one too long', apply: () => ({ $bytes: base64(this.r.bytes(f.maxLength! + 1)) }) })
    }
    if (min > 0)
      mutations.push({ kind: 'bytes one too short', apply: () => ({ $bytes: base64(this.r.bytes(min - 1)) }) })
    this.site(path, mutations)
    const n = this.r.chance(0.2) ? this.r.pick([min, max]) : this.r.int(min, Math.max(min, max))
    // Unpadded, as the data model writes it (padding is accepted but the oracle re-encodes it).
    return { $bytes: base64(this.r.bytes(n)) }
  }

  private cidLink(path: PathKey[], slot: Slot): { $link: string } {
    this.features.add('cid-link')
    const mutations = this.wrongTypes(slot, [42])
    mutations.push({ kind: 'cid-link as bare string', apply: (v) => (v as { $link: string }).$link })
    mutations.push({ kind: 'cid-link not a cid', apply: () => ({ $link: 'not a cid' }) })
    this.site(path, mutations)
    return { $link: genCid(this.r) }
  }

  private blob(f: LexBlob, path: PathKey[], slot: Slot): Record<string, unknown> {
    this.features.add('blob')
    const mimeType = this.mimeType(f.accept)
    if (this.r.chance(0.1)) {
      this.features.add('blob:legacy')
      const mutations = this.wrongTypes(slot, ['blob', 42])
      mutations.push({ kind: 'legacy blob with bad cid', apply: (v) => ({ ...(v as object), cid: 'bafy' }) })
      mutations.push({ kind: 'legacy blob without mimeType', apply: (v) => omit(v, 'mimeType') })
      this.site(path, mutations)
      return { cid: genCid(this.r), mimeType }
    }
    const mutations = this.wrongTypes(slot, ['blob', 42])
    mutations.push({ kind: 'blob without ref', apply: (v) => omit(v, 'ref') })
    mutations.push({ kind: 'blob without mimeType', apply: (v) => omit(v, 'mimeType') })
    mutations.push({ kind: 'blob ref as bare string', apply: (v) => ({ ...(v as object), ref: genCid(this.r) }) })
    mutations.push({ kind: 'blob with string size', apply: (v) => ({ ...(v as object), size: '10000' }) })
    mutations.push({ kind: 'blob with wrong $type', apply: (v) => ({ ...(v as object), $type: 'blob2' }) })
    this.site(path, mutations)
    const maxSize = f.maxSize ?? 10_000_000
    const size = this.r.chance(0.2) ? this.r.pick([0, maxSize]) : this.r.int(0, maxSize)
    return { $type: 'blob', ref: { $link: genCid(this.r) }, mimeType, size }
  }

  private mimeType(accept: readonly string[] | undefined): string {
    if (accept === undefined || accept.length === 0)
      return this.r.pick(['image/png', 'video/mp4', 'text/plain', 'application/octet-stream'])
    const pattern = this.r.pick(accept)
    if (pattern === '*/*') return this.r.pick(['image/png', 'application/json'])
    if (pattern.endsWith('/*')) return pattern.slice(0, -1) + this.r.pick(['png', 'jpeg', 'webp', 'mp4', 'x-custom'])
    return pattern
  }

  private unknown(path: PathKey[], slot: Slot): Record<string, unknown> {
    this.features.add('unknown')
    this.site(path, this.wrongTypes(slot, ['x', 42, true]))
    return this.smallObject(2)
  }

  /** A small data-model object (no floats, no $bytes/$link/blob shapes). */
  private smallObject(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    if (this.r.chance(0.3)) out.$type = genNsid(this.r)
    for (let n = this.r.int(0, 3); n > 0; n--) {
      const key = this.r.pick(['a', 'b', 'text', 'count', 'flag', 'nested', 'list'])
      switch (this.r.int(depth > 0 ? 0 : 2, 4)) {
        case 0:
          out[key] = this.smallObject(depth - 1)
          break
        case 1:
          out[key] = [this.r.chars(ALNUM, 0, 5), this.r.int(-5, 5)]
          break
        case 2:
          out[key] = this.r.chars(ALNUM, 0, 8)
          break
        case 3:
          out[key] = this.r.int(-1000, 1000)
          break
        default:
          out[key] = this.r.chance(0.5)
      }
    }
    return out
  }

  private array(f: LexArray, baseId: string, path: PathKey[], depth: number, slot: Slot): unknown[] {
    this.features.add('array')
    const min = f.minLength ?? 0
    const cap =
      depth >= this.options.maxDepth
        ? min
        : Math.max(min, Math.min(f.maxLength ?? this.options.maxItems, this.options.maxItems))
    const n = this.r.int(min, cap)
    if (f.maxLength !== undefined && n === f.maxLength) this.features.add('array:max')
    const items: unknown[] = []
    for (let i = 0; i < n; i++) items.push(this.field(f.items, baseId, [...path, i], depth, NOT_NULLABLE))
    const mutations = this.wrongTypes(slot, ['not an array', 42, { 0: 'x' }])
    if (f.maxLength !== undefined && f.maxLength < 64) {
      mutations.push({
        kind: 'array one item too long',
        apply: (v) => {
          const longer = [...(v as unknown[])]
          this.quietly(() => {
            while (longer.length <= f.maxLength!)
              longer.push(this.field(f.items, baseId, [...path, longer.length], depth, NOT_NULLABLE))
          })
          return longer
        },
      })
    }
    if (min > 0) mutations.push({ kind: 'array one item too short', apply: (v) => (v as unknown[]).slice(0, min - 1) })
    this.site(path, mutations)
    return items
  }

  private object(
    f: LexObject,
    baseId: string,
    path: PathKey[],
    depth: number,
    type: { typeId: string | undefined; union?: string },
    slot: Slot,
  ): Record<string, unknown> {
    this.features.add('object')
    const out: Record<string, unknown> = {}
    if (type.union !== undefined) out.$type = type.union
    else if (type.typeId !== undefined && this.r.chance(0.1)) {
      // Its own type is always acceptable; another type is a documented difference.
      const own = !type.typeId.includes('#') && this.r.chance(0.3) ? `${type.typeId}#main` : type.typeId
      this.features.add(own.endsWith('#main') ? 'object:own-$type#main' : 'object:own-$type')
      out.$type = own
    }
    const mutations = this.wrongTypes(slot, ['object', 42, true])
    const deep = depth > this.options.maxDepth
    const include = Math.max(0.15, 0.6 - 0.1 * depth)
    for (const [key, prop] of Object.entries(f.properties ?? {})) {
      const required = f.required?.includes(key) ?? false
      const nullable = f.nullable?.includes(key) ?? false
      const hasDefault = 'default' in prop && prop.default !== undefined
      if (required && !hasDefault) {
        mutations.push({ kind: 'missing required property', apply: (v) => omit(v, key) })
      }
      if (hasDefault && this.r.chance(required ? 0.3 : 0.5)) {
        this.features.add(required ? 'default:required-omitted' : 'default:omitted')
        const at = [...path, key]
        const inArray = at.some((k) => typeof k === 'number')
        if (inArray) this.features.add('default:under-array')
        if (this.recording) this.defaults.push({ path: at, value: prop.default, inArray })
        continue
      }
      // (a property with a default is either left out above, and recorded, or present)
      if (!required && !hasDefault && (deep || !this.r.chance(include))) continue
      if (nullable && this.r.chance(0.25)) {
        this.features.add('nullable:null')
        out[key] = null
        continue
      }
      out[key] = this.field(prop, baseId, [...path, key], depth, { nullable })
    }
    if (this.r.chance(0.05)) {
      this.features.add('object:extra-property')
      out.zzUnknownProperty = 'lexicons evolve'
    }
    this.site(path, mutations)
    return out
  }

  private union(f: LexUnion, baseId: string, path: PathKey[], depth: number, slot: Slot): Record<string, unknown> {
    this.features.add(f.closed ? 'union:closed' : 'union:open')
    const mutations = this.wrongTypes(slot, ['union', 42])
    mutations.push({ kind: 'union member without $type', apply: (v) => omit(v, '$type') })
    mutations.push({ kind: 'union $type not a string', apply: (v) => ({ ...(v as object), $type: 7 }) })
    if (f.closed)
      mutations.push({
        kind: 'closed union with foreign $type',
        apply: (v) => ({ ...(v as object), $type: 'com.example.notInTheUnion' }),
      })
    if (!f.closed && (f.refs.length === 0 || this.r.chance(0.1))) {
      this.features.add('union:unknown-member')
      this.site(path, mutations)
      // Contents of an unknown type are not validated: no mutations inside.
      return {
        ...this.smallObject(1),
        $type: this.r.pick(['com.example.unknown.thing', 'com.example.unknown.defs#thing']),
      }
    }
    const ref = this.r.pick(f.refs)
    const member = this.catalog.resolve(ref, baseId)
    if (member.def.type !== 'object') throw new Error(`union member ${ref} is a ${member.def.type}`)
    let $type = member.typeId
    if (member.name === 'main' && this.r.chance(0.1)) {
      this.features.add('union:$type#main')
      $type = `${member.id}#main`
    }
    const value = this.object(member.def, member.id, path, depth + 1, { typeId: member.typeId, union: $type }, slot)
    this.site(path, mutations)
    return value
  }
}

// ---------------------------------------------------------------------------
// helpers

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '')
}

function omit(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return REMOVE
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  delete copy[key]
  return copy
}

function walk(value: unknown, path: readonly PathKey[]): unknown {
  let node = value
  for (const key of path) node = (node as Record<PathKey, unknown>)[key]
  return node
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

export function formatPath(path: readonly PathKey[]): string {
  return path.length === 0 ? '(root)' : path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('')
}
