/**
 * Differential tests: our generated validators against the reference implementation,
 * `@atproto/lexicon` (the "oracle"), on values generated from the lexicon documents themselves
 * (test/support/lexicon-arbitrary.ts): valid values, and near-valid ones with exactly one node
 * mutated. For every case both sides must reach the same verdict, that verdict must be the one the
 * generator intends (mutated ⇔ invalid), and when both accept, our output (defaults filled in) must
 * equal the oracle's, converted back to JSON.
 *
 * Ours is also held to itself: on every case, the compiled fast path (`schema.fast`, which only
 * decides) and the interpreter (`check`, which gives the reasons) must reach the same verdict and,
 * when valid, the same output; `validate` must give exactly the interpreter's result.
 *
 * Where we deliberately differ from the oracle (we follow the atproto spec and the interop
 * fixtures; the oracle is laxer, or stricter in places), the generators stay clear and the
 * "documented differences" below pin each disagreement down, so a change on either side shows up.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { jsonToLex, Lexicons, lexToJson, type LexiconDoc } from '@atproto/lexicon'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { LexiconDocument } from '../codegen/lexicon-document.js'
import * as AppBskyActorPutPreferences from '../generated/app/bsky/actor/putPreferences.js'
import * as ComAtprotoRepoApplyWrites from '../generated/com/atproto/repo/applyWrites.js'
import * as ComAtprotoRepoCreateRecord from '../generated/com/atproto/repo/createRecord.js'
import * as ComAtprotoRepoPutRecord from '../generated/com/atproto/repo/putRecord.js'
import * as BlueskyRegistry from '../generated/lexicons.js'
import { compilation } from '../src/runtime/schema/compile.js'
import { checkWithInterpreter, FAIL } from '../src/runtime/schema/core.js'
import {
  formatValidators,
  type LexSchema,
  type LexStringFormat,
  type RecordSchema,
  validate as validateSchema,
  type ValidationResult,
} from '../src/schema.js'
import { generateTemp, source } from './support/codegen.js'
import { describeInterop, interopAvailable, interopDir } from './support/interop.js'
import {
  BAD_FORMAT_VALUES,
  genCid,
  generateCase,
  type LexCase,
  LexiconCatalog,
  lexiconArbitrary,
  Rng,
  withDefaults,
} from './support/lexicon-arbitrary.js'
import { repoRoot } from './support/paths.js'

/** Runs per def: enough to reach every kind of node and mutation, and the whole file stays well under 20 s. */
const RUNS = 400

function readLexicons(dir: string): LexiconDocument[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as LexiconDocument)
}

/** The oracle mutates the documents it is given (it resolves refs in place): give it its own copy. */
function oracleOf(docs: readonly LexiconDocument[]): Lexicons {
  return new Lexicons(structuredClone(docs) as unknown as LexiconDoc[])
}

// ---------------------------------------------------------------------------
// running both sides

type OracleResult = { success: true; value: unknown } | { success: false; error: string }

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Runs the oracle on a JSON value: converts it to the oracle's "lex" form first (a conversion that
 * throws counts as a refusal) and the validated value back to JSON.
 */
function runOracle(check: (lex: unknown) => unknown, value: unknown): OracleResult {
  let lex: unknown
  try {
    lex = jsonToLex(value as Parameters<typeof jsonToLex>[0])
  } catch (error) {
    return { success: false, error: `jsonToLex: ${message(error)}` }
  }
  try {
    return { success: true, value: lexToJson(check(lex) as Parameters<typeof lexToJson>[0]) }
  } catch (error) {
    return { success: false, error: message(error) }
  }
}

/** A def under test: how to generate its values and how each side validates them. */
interface Subject {
  name: string
  target(catalog: LexiconCatalog): ReturnType<LexiconCatalog['target']>
  /** Our schema for the def. */
  schema(): LexSchema<unknown>
  ours(value: unknown): ValidationResult<unknown>
  oracle(lexicons: Lexicons, lex: unknown): unknown
}

/** What a generated `lexicons.ts` exports. */
interface Registry {
  schemas: Readonly<Record<string, LexSchema<unknown>>>
  validate(ref: string, value: unknown): ValidationResult<unknown>
}

function schemaByRef(registry: Registry, ref: string): LexSchema<unknown> {
  const schema = registry.schemas[ref]
  if (schema === undefined) throw new Error(`no schema for ${ref}`)
  return schema
}

/**
 * A whole record, validated by reference on both sides: ours `validate(nsid, value)` of the
 * generated registry, the oracle's `assertValidRecord` (both require `$type`, exactly the NSID).
 */
function wholeRecord(nsid: string, registry: () => Registry = () => BlueskyRegistry): Subject {
  return {
    name: `${nsid} (record)`,
    target: (catalog) => catalog.record(nsid),
    schema: () => (schemaByRef(registry(), nsid) as RecordSchema<unknown>).asRecord,
    ours: (value) => registry().validate(nsid, value),
    oracle: (lexicons, lex) => lexicons.assertValidRecord(nsid, lex),
  }
}

/** An object def, or a record's object as other data nests it, validated as an object on both sides. */
function byRef(ref: string, registry: () => Registry = () => BlueskyRegistry): Subject {
  return {
    name: ref,
    target: (catalog) => catalog.target(ref),
    schema: () => schemaByRef(registry(), ref),
    ours: (value) => validateSchema(schemaByRef(registry(), ref), value),
    oracle(lexicons, lex) {
      const result = lexicons.validate(ref, lex)
      if (!result.success) throw result.error
      return result.value
    },
  }
}

/** A procedure's JSON input, validated with the module's `inputSchema`. */
function procedureInput(nsid: string, schema: LexSchema<unknown>): Subject {
  return {
    name: `${nsid} (input)`,
    target: (catalog) => catalog.input(nsid),
    schema: () => schema,
    ours: (value) => validateSchema(schema, value),
    oracle: (lexicons, lex) => lexicons.assertValidXrpcInput(nsid, lex),
  }
}

interface Verdicts {
  ours: ValidationResult<unknown>
  oracle: OracleResult
}

function verdicts(subject: Subject, lexicons: Lexicons, value: unknown): Verdicts {
  return { ours: subject.ours(value), oracle: runOracle((lex) => subject.oracle(lexicons, lex), value) }
}

function explain(c: LexCase, v: Verdicts): string {
  const ours = v.ours.success ? 'accepted' : `refused ${JSON.stringify(v.ours.issues)}`
  const oracle = v.oracle.success ? 'accepted' : `refused (${v.oracle.error})`
  const mutation = c.mutation ? `mutation "${c.mutation.kind}" at ${c.mutation.path}` : 'no mutation'
  return `${mutation}; ours ${ours}; oracle ${oracle}`
}

// Coverage of the generators across the whole file, checked at the end.
const seenFeatures = new Set<string>()
const seenMutations = new Set<string>()

/**
 * Our two paths on one value: the fast path and the interpreter reach the same verdict and, when
 * valid, equal outputs; `validate` (fast path, then the interpreter for the reasons) gives exactly
 * the interpreter's result.
 */
function checkPathsAgree(subject: Subject, value: unknown, ours: ValidationResult<unknown>): void {
  const schema = subject.schema()
  const fast = schema.fast(value)
  const interpreted = checkWithInterpreter(schema, value)
  if ((fast !== FAIL) !== interpreted.success) {
    const verdict = (ok: boolean) => (ok ? 'accepted' : 'refused')
    throw new Error(
      `fast path ${verdict(fast !== FAIL)}, interpreter ${verdict(interpreted.success)} ${JSON.stringify(interpreted)}`,
    )
  }
  if (interpreted.success) expect(fast, 'fast-path output equals the interpreter output').toEqual(interpreted.value)
  expect(ours, 'validate() gives the interpreter result').toEqual(interpreted)
}

/**
 * The differential check of one case: same verdict on both sides, the verdict the generator
 * intends, outputs equal (modulo the documented oracle quirk), our fast path and interpreter in
 * agreement, input untouched. Returns whether it was accepted.
 */
function checkCase(subject: Subject, lexicons: Lexicons, c: LexCase): boolean {
  const snapshot = structuredClone(c.value)
  const v = verdicts(subject, lexicons, c.value)
  checkPathsAgree(subject, c.value, v.ours)
  if (v.ours.success !== v.oracle.success) throw new Error(`disagreement: ${explain(c, v)}`)
  if (v.ours.success && v.oracle.success) {
    // Our output is the input with every omitted default filled in.
    expect(v.ours.value, 'our output (with defaults)').toEqual(withDefaults(c.value, c.defaults))
    if (c.defaults.some((d) => d.inArray)) {
      // The oracle drops defaults under array items (documented below): it must differ exactly there.
      seenFeatures.add('oracle:drops-defaults-under-arrays')
      expect(v.oracle.value, "oracle's output (no defaults under arrays)").toEqual(
        withDefaults(
          c.value,
          c.defaults.filter((d) => !d.inArray),
        ),
      )
    } else expect(v.ours.value, "output equals the oracle's").toEqual(v.oracle.value)
  }
  expect(c.value, 'validation must not modify its input').toEqual(snapshot)
  // Both agree; they must also agree with the generator, or the generator (or both sides) is wrong.
  if (v.ours.success === (c.mutation !== undefined))
    throw new Error(`both sides disagree with the generator: ${explain(c, v)}`)
  for (const feature of c.features) seenFeatures.add(feature)
  if (c.mutation) seenMutations.add(c.mutation.kind)
  return v.ours.success
}

interface Runs {
  /** Property runs, from fast-check's (random, reported) seed. */
  runs: number
  /**
   * Then generator seeds 0..sweep-1: the first case that brings a new feature or mutation kind is
   * checked too. Deterministic, so the coverage test at the end cannot be flaky.
   */
  sweep: number
}

/** The differential property for one subject. */
function differential(
  subject: Subject,
  context: () => { catalog: LexiconCatalog; lexicons: Lexicons },
  { runs, sweep }: Runs,
): void {
  it(`${subject.name}: ours and the oracle agree (${runs} runs)`, () => {
    const { catalog, lexicons } = context()
    const target = subject.target(catalog)
    let accepted = 0
    let refused = 0
    fc.assert(
      fc.property(lexiconArbitrary(catalog, target), (c) => {
        if (checkCase(subject, lexicons, c)) accepted++
        else refused++
      }),
      { numRuns: runs },
    )
    // Half the cases carry a mutation: a generator that made everything invalid (or valid) fails here.
    expect(accepted + refused).toBe(runs)
    expect(accepted).toBeGreaterThan(runs * 0.3)
    expect(refused).toBeGreaterThan(runs * 0.3)

    for (let seed = 0; seed < sweep; seed++) {
      const c = generateCase(catalog, target, seed)
      const novel =
        c.features.some((f) => !seenFeatures.has(f)) ||
        (c.mutation !== undefined && !seenMutations.has(c.mutation.kind))
      if (!novel) continue
      try {
        checkCase(subject, lexicons, c)
      } catch (error) {
        throw new Error(`generator seed ${seed}: ${message(error)}\n${JSON.stringify(c)}`)
      }
    }
  })
}

// ---------------------------------------------------------------------------
// the Bluesky lexicons

let docs: LexiconDocument[]
let catalog: LexiconCatalog
let lexicons: Lexicons

beforeAll(() => {
  docs = readLexicons(path.join(repoRoot, 'lexicons'))
  catalog = new LexiconCatalog(docs)
  lexicons = oracleOf(docs)
})

const bluesky = () => ({ catalog, lexicons })

const subjects: Subject[] = [
  wholeRecord('app.bsky.feed.post'),
  wholeRecord('app.bsky.actor.profile'),
  wholeRecord('app.bsky.graph.listitem'),
  wholeRecord('app.bsky.graph.list'),
  wholeRecord('app.bsky.feed.like'),
  wholeRecord('app.bsky.graph.follow'),
  wholeRecord('app.bsky.feed.threadgate'),
  // a record's object as other data nests it
  byRef('app.bsky.feed.post'),
  byRef('app.bsky.richtext.facet'),
  byRef('app.bsky.actor.defs#profileViewDetailed'),
  byRef('app.bsky.feed.defs#postView'),
  byRef('app.bsky.graph.defs#listView'),
  byRef('com.atproto.label.defs#label'),
  // tid, cid-link, bytes and nullable properties
  byRef('com.atproto.sync.subscribeRepos#commit'),
  procedureInput('com.atproto.repo.createRecord', ComAtprotoRepoCreateRecord.inputSchema),
  // a closed union
  procedureInput('com.atproto.repo.applyWrites', ComAtprotoRepoApplyWrites.inputSchema),
  // a nullable property
  procedureInput('com.atproto.repo.putRecord', ComAtprotoRepoPutRecord.inputSchema),
  // a large open union; defaults on required and optional properties; refs to string defs
  procedureInput('app.bsky.actor.putPreferences', AppBskyActorPutPreferences.inputSchema),
]

describe('differential: Bluesky lexicons', () => {
  it('both sides know every def under test', () => {
    expect(docs.length).toBeGreaterThan(100)
    // Our fast path is compiled here, so the runs compare compiled code with the interpreter.
    expect(compilation.enabled).toBe(true)
    for (const subject of subjects) {
      const ref = subject.name.replace(/ \((input|record)\)$/, '')
      expect(lexicons.getDef(ref), ref).toBeDefined()
      expect(subject.target(catalog).schema.type).toBe('object')
      expect(subject.schema().type, ref).toBe('object')
    }
  })

  for (const subject of subjects) differential(subject, bluesky, { runs: RUNS, sweep: 200 })
})

// ---------------------------------------------------------------------------
// the interop catalog: the lexicon features Bluesky's records do not use (integer const/enum,
// string enum, minLength/minGraphemes, bytes sizes, array minLength, small blob maxSize, ...)

describeInterop('differential: interop catalog (example.lexicon.record)', () => {
  const file = path.join(interopDir, 'lexicon/catalog/record.json')
  let context: { catalog: LexiconCatalog; lexicons: Lexicons }
  let registry: Registry

  beforeAll(async () => {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as LexiconDocument
    const generated = await generateTemp([source('record.json', doc)])
    registry = (await import(path.join(generated.dir, 'lexicons.ts'))) as Registry
    context = { catalog: new LexiconCatalog([doc]), lexicons: oracleOf([doc]) }
  })

  differential(
    wholeRecord('example.lexicon.record', () => registry),
    () => context,
    { runs: RUNS, sweep: 1000 },
  )
})

// ---------------------------------------------------------------------------

describe('differential: generator coverage', () => {
  it('bad format samples are refused by both format checks', () => {
    // One string property per format, so the oracle checks exactly the format.
    const formats = Object.keys(BAD_FORMAT_VALUES) as LexStringFormat[]
    const doc = {
      lexicon: 1,
      id: 'test.differential.formats',
      defs: {
        main: {
          type: 'object',
          properties: Object.fromEntries(formats.map((format) => [format, { type: 'string', format }])),
        },
      },
    } as unknown as LexiconDocument
    const oracle = oracleOf([doc])
    for (const format of formats) {
      expect(BAD_FORMAT_VALUES[format].length).toBeGreaterThan(0)
      for (const value of BAD_FORMAT_VALUES[format]) {
        expect(formatValidators[format](value), `ours: ${format} ${JSON.stringify(value)}`).toBe(false)
        expect(
          oracle.validate('test.differential.formats', { [format]: value }).success,
          `oracle: ${format} ${JSON.stringify(value)}`,
        ).toBe(false)
      }
    }
  })

  it('generates real CIDv1s (dag-cbor/raw, sha2-256, base32)', () => {
    const rng = new Rng(1)
    for (let i = 0; i < 50; i++) {
      const cid = genCid(rng)
      expect(cid).toMatch(/^baf[ky]rei[a-z2-7]{52}$/)
      expect(runOracle((lex) => lex, { $link: cid })).toEqual({ success: true, value: { $link: cid } })
    }
  })

  it('the runs above exercised every kind of node and mutation', () => {
    const formats = Object.keys(formatValidators)
    const features = [
      ...formats.map((format) => `format:${format}`),
      'string:max-bytes',
      'string:max-graphemes',
      'string:random',
      'text:emoji-zwj',
      'text:emoji-flag',
      'text:cjk',
      'text:combining',
      'string:knownValues',
      'integer:boundary',
      'boolean',
      'bytes',
      'cid-link',
      'blob',
      'blob:legacy',
      'unknown',
      'array:max',
      'object:own-$type',
      'object:extra-property',
      'union:open',
      'union:closed',
      'union:unknown-member',
      'union:$type#main',
      'nullable:null',
      'default:omitted',
      'default:required-omitted',
      'default:under-array',
      'oracle:drops-defaults-under-arrays',
      'ref:string',
      'record:whole',
    ]
    const mutations = [
      ...formats.map((format) => `bad ${format}`),
      'wrong type (number)',
      'wrong type (string)',
      'wrong type (boolean)',
      'wrong type (object)',
      'null (not nullable)',
      'missing required property',
      'string one byte too long',
      'string one grapheme too long',
      'integer below minimum',
      'integer above maximum',
      'float',
      'bytes not base64',
      'bytes with extra key',
      'cid-link not a cid',
      'cid-link as bare string',
      'blob without ref',
      'blob with string size',
      'legacy blob with bad cid',
      'union member without $type',
      'union $type not a string',
      'closed union with foreign $type',
      'array one item too long',
      'record without $type',
      'record $type with #main',
    ]
    const fromCatalog = {
      features: ['integer:const', 'integer:enum', 'string:enum', 'string:min'],
      mutations: [
        'integer not const',
        'integer not in enum',
        'string not in enum',
        'string one byte too short',
        'string one grapheme too short',
        'bytes one too long',
        'bytes one too short',
        'array one item too short',
      ],
    }
    // The catalog's property test runs only where the interop fixtures are checked out.
    const interop = interopAvailable
    const wantFeatures = [...features, ...(interop ? fromCatalog.features : [])]
    const wantMutations = [...mutations, ...(interop ? fromCatalog.mutations : [])]
    expect(
      wantFeatures.filter((feature) => !seenFeatures.has(feature)),
      'features never generated',
    ).toEqual([])
    expect(
      wantMutations.filter((kind) => !seenMutations.has(kind)),
      'mutations never applied',
    ).toEqual([])
  })
})

// ---------------------------------------------------------------------------
// documented differences: each test pins a disagreement down and says which side the atproto spec
// and the interop fixtures (atproto-interop-tests) are on.

describe('differential: documented differences from @atproto/lexicon', () => {
  const cid = 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq'
  const blob = { $type: 'blob', ref: { $link: cid }, mimeType: 'image/png', size: 1000 }
  const strongRef = { uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l', cid }
  const createdAt = '2024-11-05T12:00:00.000Z'

  /** Both verdicts on `value` for `ref` (a record/object ref, or a procedure name with `input`). */
  function judge(ref: string, value: unknown, input?: LexSchema<unknown>): { ours: boolean; oracle: boolean } {
    const subject = input ? procedureInput(ref, input) : byRef(ref)
    const v = verdicts(subject, lexicons, value)
    return { ours: v.ours.success, oracle: v.oracle.success }
  }

  const like = (fields: Record<string, unknown>) => ({ subject: strongRef, createdAt, ...fields })
  const createRecord = (record: unknown) => ({ repo: 'alice.example.com', collection: 'app.bsky.feed.post', record })

  it('sanity: the base values are valid on both sides', () => {
    expect(judge('app.bsky.feed.like', like({}))).toEqual({ ours: true, oracle: true })
    expect(judge('app.bsky.actor.profile', { avatar: blob })).toEqual({ ours: true, oracle: true })
    expect(
      judge('com.atproto.repo.createRecord', createRecord({ text: 'hi' }), ComAtprotoRepoCreateRecord.inputSchema),
    ).toEqual({ ours: true, oracle: true })
  })

  it('(1) arrays where an object or unknown is expected: we refuse, the oracle accepts', () => {
    // An array is not a data-model object (the oracle only checks typeof === 'object').
    expect(judge('app.bsky.actor.profile', [])).toEqual({ ours: false, oracle: true })
    expect(
      judge('app.bsky.actor.defs#profileViewDetailed', { did: 'did:plc:abc', handle: 'alice.test', viewer: [] }),
    ).toEqual({ ours: false, oracle: true })
    expect(judge('com.atproto.repo.createRecord', createRecord([]), ComAtprotoRepoCreateRecord.inputSchema)).toEqual({
      ours: false,
      oracle: true,
    })
  })

  it('(2) bytes, links and blobs as `unknown`: we refuse, the oracle accepts', () => {
    // Interop record-data-invalid: "unknown wrong type (bytes)" and "unknown wrong type (blob)".
    for (const record of [{ $bytes: 'AAAA' }, { $link: cid }, blob]) {
      expect(
        judge('com.atproto.repo.createRecord', createRecord(record), ComAtprotoRepoCreateRecord.inputSchema),
        JSON.stringify(record),
      ).toEqual({
        ours: false,
        oracle: true,
      })
    }
  })

  it('(3) blob accept and maxSize: we enforce them, the oracle does not', () => {
    // Interop record-data-invalid: "blob too large", "blob wrong type". avatar: image/png|jpeg, ≤ 1000000 bytes.
    expect(judge('app.bsky.actor.profile', { avatar: { ...blob, mimeType: 'text/plain' } })).toEqual({
      ours: false,
      oracle: true,
    })
    expect(judge('app.bsky.actor.profile', { avatar: { ...blob, size: 1_000_001 } })).toEqual({
      ours: false,
      oracle: true,
    })
    expect(judge('app.bsky.actor.profile', { avatar: { ...blob, size: 1_000_000 } })).toEqual({
      ours: true,
      oracle: true,
    })
  })

  it('(4) a $type naming another type on a non-union object or record: we refuse, the oracle ignores it', () => {
    expect(judge('app.bsky.feed.like', like({ $type: 'app.bsky.feed.repost' }))).toEqual({ ours: false, oracle: true })
    expect(
      judge('app.bsky.feed.like', like({ subject: { ...strongRef, $type: 'app.bsky.feed.post#replyRef' } })),
    ).toEqual({ ours: false, oracle: true })
    // Interop data-model-invalid: "record with $type null", "record with $type wrong type".
    expect(judge('app.bsky.feed.like', like({ $type: null }))).toEqual({ ours: false, oracle: true })
    // Its own type (with or without #main) is fine on both sides.
    expect(judge('app.bsky.feed.like', like({ $type: 'app.bsky.feed.like' }))).toEqual({ ours: true, oracle: true })
    expect(
      judge('app.bsky.feed.like', like({ subject: { ...strongRef, $type: 'com.atproto.repo.strongRef#main' } })),
    ).toEqual({ ours: true, oracle: true })
  })

  it("a whole record's $type: both require it, exactly the NSID; only the oracle also takes it as a lex: URI", () => {
    const record = (value: unknown) => {
      const v = verdicts(wholeRecord('app.bsky.feed.like'), lexicons, value)
      return { ours: v.ours.success, oracle: v.oracle.success }
    }
    expect(record(like({ $type: 'app.bsky.feed.like' }))).toEqual({ ours: true, oracle: true })
    expect(record(like({}))).toEqual({ ours: false, oracle: false })
    expect(record(like({ $type: 'app.bsky.feed.like#main' }))).toEqual({ ours: false, oracle: false })
    expect(record(like({ $type: 'app.bsky.feed.repost' }))).toEqual({ ours: false, oracle: false })
    // The spec's $type is an NSID; the oracle normalises both sides to lex: URIs before comparing.
    expect(record(like({ $type: 'lex:app.bsky.feed.like' }))).toEqual({ ours: false, oracle: true })
  })

  it('(5) cid strings: we check the spec syntax (base32 CIDv1 structurally), the oracle decodes', () => {
    // Interop cid_syntax_invalid: CIDv0 is not allowed in atproto; the oracle parses it happily.
    const v0 = 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR'
    expect(judge('app.bsky.feed.like', like({ subject: { ...strongRef, cid: v0 } }))).toEqual({
      ours: false,
      oracle: true,
    })
    // Interop cid_syntax_valid: other multibases are syntactically fine; the oracle only decodes base32.
    for (const other of [
      'z7x3CtScH765HvShXT',
      'f017012202c5f688262e0ece8569aa6f94d60aad55ca8d9d83734e4a7430d0cff6588ec2b',
    ]) {
      expect(judge('app.bsky.feed.like', like({ subject: { ...strongRef, cid: other } })), other).toEqual({
        ours: true,
        oracle: false,
      })
    }
    // As a cid-link the oracle decodes v0 too.
    const commit = subscribeReposCommit({ commit: { $link: v0 } })
    expect(judge('com.atproto.sync.subscribeRepos#commit', commit)).toEqual({ ours: false, oracle: true })
  })

  it('(6) language tags: ours follows the interop fixtures, the oracle a case-insensitive BCP 47 regex', () => {
    const post = (langs: string[]) => ({ text: 'hi', langs, createdAt })
    // Interop language_syntax_invalid / language_parse_invalid: uppercase primary subtag, 4-letter primary
    // subtag, duplicate variants, duplicate extension singletons. The oracle accepts them all.
    for (const tag of ['JA', 'jaja', 'de-DE-1901-1901', 'en-rozaj-ROZAJ', 'en-a-foo-a-bar']) {
      expect(judge('app.bsky.feed.post', post([tag])), tag).toEqual({ ours: false, oracle: true })
    }
    // Interop language_syntax_valid: an uppercase private-use singleton. The oracle refuses it.
    for (const tag of ['X-fr-CH', 'de-X-foo'])
      expect(judge('app.bsky.feed.post', post([tag])), tag).toEqual({ ours: true, oracle: false })
  })

  it('(7) uri: ours is scheme ":" non-space up to 8 KiB, the oracle\'s regex differs', () => {
    const link = (uri: string) => ({
      index: { byteStart: 0, byteEnd: 1 },
      features: [{ $type: 'app.bsky.richtext.facet#link', uri }],
    })
    // Interop uri_syntax_valid: schemes with '.', '-' or '+' (RFC 3986). The oracle wants \w+ schemes.
    for (const uri of ['microsoft.windows.camera:thing', 'content-type:text/plan']) {
      expect(judge('app.bsky.richtext.facet', link(uri)), uri).toEqual({ ours: true, oracle: false })
    }
    // RFC 3986 allows an empty authority (file:///path); the oracle wants a non-'/' after "scheme:" or "scheme://".
    expect(judge('app.bsky.richtext.facet', link('file:///etc/hosts'))).toEqual({ ours: true, oracle: false })
    // Interop uri_syntax_invalid: longer than 8 KiB. The oracle has no length limit.
    expect(judge('app.bsky.richtext.facet', link(`https://example.com/${'x'.repeat(8200)}`))).toEqual({
      ours: false,
      oracle: true,
    })
  })

  it("at-uri: the oracle's non-strict parser accepts what the interop fixtures reject", () => {
    // Interop aturi_syntax_invalid (all of them accepted by the oracle): trailing slashes, fragments,
    // record keys with characters outside the record-key alphabet, '.' and '..' as record keys.
    for (const uri of [
      'at://did:plc:asdf123/',
      'at://did:plc:asdf123/com.atproto.feed.post/',
      'at://did:plc:asdf123/com.atproto.feed.post/record/#/frag',
      'at://did:plc:asdf123/com.atproto.feed.post/$',
      'at://did:plc:asdf123/com.atproto.feed.post/%30',
      'at://did:plc:asdf123/com.atproto.feed.post/..',
    ]) {
      expect(judge('app.bsky.feed.like', like({ subject: { ...strongRef, uri } })), uri).toEqual({
        ours: false,
        oracle: true,
      })
    }
  })

  it('datetime: the oracle (iso-datestring-validator) is laxer and stricter than the spec in places', () => {
    // Interop datetime_syntax_invalid / datetime_parse_invalid, all accepted by the oracle: no timezone,
    // an offset without a colon, a year-0000 instant that normalizes to a negative year.
    for (const value of ['1985-04-12T23:20:50', '1985-04-12T23:20:50.123+0000', '0000-01-01T00:00:00+01:00']) {
      expect(judge('app.bsky.feed.like', like({ createdAt: value })), value).toEqual({ ours: false, oracle: true })
    }
    // Interop datetime_syntax_valid, refused by the oracle: more than 9 fractional digits, offsets no
    // time zone uses today (+01:45; -04:30 was Venezuela's until 2016).
    for (const value of [
      '1985-04-12T23:20:50.1234567890Z',
      '1985-04-12T23:20:50.123+01:45',
      '2015-06-01T12:00:00-04:30',
    ]) {
      expect(judge('app.bsky.feed.like', like({ createdAt: value })), value).toEqual({ ours: true, oracle: false })
    }
  })

  it('blob size: the oracle accepts negative and fractional sizes, we refuse them', () => {
    // The data model's blob size is a non-negative integer (the newer @atproto/lex-data agrees with us).
    for (const size of [-1, 1.5])
      expect(judge('app.bsky.actor.profile', { avatar: { ...blob, size } }), String(size)).toEqual({
        ours: false,
        oracle: true,
      })
  })

  it('bytes: the oracle decodes the base64url alphabet too, we refuse it', () => {
    // The data model encodes bytes as standard base64 (RFC 4648 §4), not base64url.
    expect(
      judge('com.atproto.sync.subscribeRepos#commit', subscribeReposCommit({ blocks: { $bytes: 'A-_A' } })),
    ).toEqual({ ours: false, oracle: true })
  })

  it('bytes: both accept padded base64; only the oracle re-encodes it (unpadded), so the generator writes it unpadded', () => {
    const value = subscribeReposCommit({ blocks: { $bytes: 'AA==' } })
    const v = verdicts(byRef('com.atproto.sync.subscribeRepos#commit'), lexicons, value)
    expect(v.ours).toEqual({ success: true, value })
    expect(v.oracle).toEqual({ success: true, value: { ...value, blocks: { $bytes: 'AA' } } })
  })

  it('union $type: the oracle resolves "lex:" URIs and throws on two "#", we take $type literally', () => {
    // A closed union: `lex:` is the oracle's internal URI scheme, not an NSID; we refuse the member.
    const write = {
      $type: 'lex:com.atproto.repo.applyWrites#delete',
      collection: 'app.bsky.feed.post',
      rkey: '3l6oveex3ii2l',
    }
    expect(
      judge(
        'com.atproto.repo.applyWrites',
        { repo: 'did:plc:abc', writes: [write] },
        ComAtprotoRepoApplyWrites.inputSchema,
      ),
    ).toEqual({ ours: false, oracle: true })
    // An open union: we accept any string $type as an unknown member; the oracle throws on a malformed one.
    expect(judge('app.bsky.feed.post', { text: 'hi', createdAt, embed: { $type: 'com.example.a#b#c' } })).toEqual({
      ours: true,
      oracle: false,
    })
  })

  it('defaults under array items: we fill them in, the oracle validates the items but returns them unfilled', () => {
    // The oracle's array() checks each item and discards the checked value, so defaults applied
    // inside items are lost; at every other position both fill them in. Ours is consistent.
    const input = { preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref' }] }
    const subject = procedureInput('app.bsky.actor.putPreferences', AppBskyActorPutPreferences.inputSchema)
    const v = verdicts(subject, lexicons, input)
    expect(v.ours).toEqual({
      success: true,
      value: { preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }] },
    })
    expect(v.oracle).toEqual({ success: true, value: input })
    // Not under an array: both fill it (mutedWord.actorTarget defaults to "all").
    const word = { value: 'spoiler', targets: ['content'] }
    const words = verdicts(byRef('app.bsky.actor.defs#mutedWord'), lexicons, word)
    expect(words.ours).toEqual({ success: true, value: { ...word, actorTarget: 'all' } })
    expect(words.oracle).toEqual(words.ours)
  })

  it('a "__proto__" key (as JSON.parse makes it): the oracle refuses it outright, we keep it as a plain key', () => {
    // Not a spec question: the oracle's jsonToLex guards against prototype pollution by throwing. We
    // accept the key and must not pollute either, including when copying to fill in a default.
    const word = JSON.parse('{"value":"spoiler","targets":["content"],"__proto__":{"polluted":true}}') as object
    const v = verdicts(byRef('app.bsky.actor.defs#mutedWord'), lexicons, word)
    expect(v.oracle.success).toBe(false)
    if (!v.ours.success) throw new Error('refused')
    const out = v.ours.value as Record<string, unknown>
    expect(out.actorTarget).toBe('all')
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.keys(out)).toContain('__proto__')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('a cid-link with extra keys is refused, by both (found by this suite; was accepted)', () => {
    // Interop data-model-invalid: "link with extra fields". `{ $link }` must have no other key, as `{ $bytes }`.
    expect(
      judge('com.atproto.sync.subscribeRepos#commit', subscribeReposCommit({ commit: { $link: cid, other: 'blah' } })),
    ).toEqual({ ours: false, oracle: false })
    expect(judge('app.bsky.actor.profile', { avatar: { ...blob, ref: { $link: cid, other: 'blah' } } })).toEqual({
      ours: false,
      oracle: false,
    })
  })

  it('a blob with extra keys is refused, by both (found by this suite; was accepted)', () => {
    // The oracle (and @atproto/lex-data's isTypedBlobRef/isLegacyBlobRef) accept exactly the keys of
    // the blob forms, consistent with the fixtures' "bytes/link with extra fields" being invalid.
    expect(judge('app.bsky.actor.profile', { avatar: { ...blob, extra: 1 } })).toEqual({ ours: false, oracle: false })
    expect(judge('app.bsky.actor.profile', { avatar: { cid, mimeType: 'image/png', extra: 1 } })).toEqual({
      ours: false,
      oracle: false,
    })
  })

  function subscribeReposCommit(fields: Record<string, unknown>): Record<string, unknown> {
    return {
      seq: 1,
      rebase: false,
      tooBig: false,
      repo: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
      commit: { $link: cid },
      rev: '3l6oveex3ii2l',
      since: null,
      blocks: { $bytes: '' },
      ops: [],
      blobs: [],
      time: createdAt,
      ...fields,
    }
  }
})
