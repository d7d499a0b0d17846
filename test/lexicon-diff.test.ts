import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { diffFolders } from '../codegen/diff-command.js'
import { LexiconError } from '../codegen/errors.js'
import { LEXICON_CHANGE_KINDS, type LexiconChangeKind } from '../codegen/lexicon-diff.js'
import { repoRoot, tempDir } from './support/codegen.js'

const run = promisify(execFile)

type Json = Record<string, unknown>

const ID = 'com.example.note'
const R = `${ID}#main.record.properties`
const Q = `${ID}#main`

const lexicon = (defs: Json, extra: Json = {}, id = ID): Json => ({ lexicon: 1, id, ...extra, defs })
const emptyObject = { type: 'object', properties: {} }
/** A record of `properties` (and `required`, `nullable`…), with two objects for refs to point at. */
const record = (properties: Json, object: Json = {}, key = 'tid'): Json =>
  lexicon({
    main: { type: 'record', key, record: { type: 'object', ...object, properties } },
    a: emptyObject,
    b: emptyObject,
  })
const text = (field: Json = {}, object: Json = {}): Json => record({ text: { type: 'string', ...field } }, object)
const field = (name: string, value: Json, object: Json = {}): Json => record({ [name]: value }, object)
const endpoint = (type: 'query' | 'procedure', main: Json): Json => lexicon({ main: { type, ...main } })
const params = (properties: Json, required?: string[]): Json => ({
  parameters: { type: 'params', properties, ...(required && { required }) },
})
const json = { encoding: 'application/json' }
const union = (refs: string[], closed?: boolean): Json =>
  field('embed', { type: 'union', refs, ...(closed !== undefined && { closed }) })
const permissions = (...collections: string[]): Json =>
  lexicon({
    main: {
      type: 'permission-set',
      permissions: collections.map((collection) => ({
        type: 'permission',
        resource: 'repo',
        collection: [collection],
      })),
    },
  })
const other = lexicon({ main: emptyObject }, {}, 'com.example.other')

interface Expected {
  breaking: boolean
  kind: LexiconChangeKind
  location: string
  before?: unknown
  after?: unknown
}
const values = (before: unknown, after: unknown) => ({
  ...(before !== undefined && { before }),
  ...(after !== undefined && { after }),
})
const breaking = (kind: LexiconChangeKind, location: string, before?: unknown, after?: unknown): Expected => ({
  breaking: true,
  kind,
  location,
  ...values(before, after),
})
const compatible = (kind: LexiconChangeKind, location: string, before?: unknown, after?: unknown): Expected => ({
  breaking: false,
  kind,
  location,
  ...values(before, after),
})

interface Row {
  name: string
  old: Json | Json[]
  new: Json | Json[]
  changes: Expected[]
}

// One row per rule: the classification is written out here, not read from the module's table.
const rows: Row[] = [
  // Breaking
  {
    name: 'document removed',
    old: [text(), other],
    new: [text()],
    changes: [breaking('document-removed', 'com.example.other')],
  },
  {
    name: 'def removed',
    old: text(),
    new: lexicon({ main: (text().defs as Json).main, a: emptyObject }),
    changes: [breaking('def-removed', `${ID}#b`, 'object')],
  },
  {
    name: "a def's type changed",
    old: text(),
    new: lexicon({ ...(text().defs as Json), b: { type: 'token' } }),
    changes: [breaking('type-changed', `${ID}#b.type`, 'object', 'token')],
  },
  {
    name: 'object field removed',
    old: record({ text: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }),
    new: text(),
    changes: [breaking('field-removed', `${R}.tags`, 'array')],
  },
  {
    name: "object field's type changed",
    old: text(),
    new: field('text', { type: 'integer' }),
    changes: [breaking('type-changed', `${R}.text.type`, 'string', 'integer')],
  },
  {
    name: 'params field removed',
    old: endpoint('query', params({ limit: { type: 'integer' }, cursor: { type: 'string' } })),
    new: endpoint('query', params({ limit: { type: 'integer' } })),
    changes: [breaking('field-removed', `${Q}.parameters.properties.cursor`, 'string')],
  },
  {
    name: "params field's type changed",
    old: endpoint('query', params({ limit: { type: 'integer' } })),
    new: endpoint('query', params({ limit: { type: 'string' } })),
    changes: [breaking('type-changed', `${Q}.parameters.properties.limit.type`, 'integer', 'string')],
  },
  {
    name: 'optional field made required',
    old: text(),
    new: text({}, { required: ['text'] }),
    changes: [breaking('field-made-required', `${R}.text`, 'optional', 'required')],
  },
  {
    name: 'required field made optional',
    old: text({}, { required: ['text'] }),
    new: text(),
    changes: [breaking('field-made-optional', `${R}.text`, 'required', 'optional')],
  },
  {
    name: 'required field added',
    old: text(),
    new: record({ text: { type: 'string' }, title: { type: 'string' } }, { required: ['title'] }),
    changes: [breaking('required-field-added', `${R}.title`, undefined, 'string')],
  },
  {
    name: 'required params field added',
    old: endpoint('query', params({})),
    new: endpoint('query', params({ actor: { type: 'string' } }, ['actor'])),
    changes: [breaking('required-field-added', `${Q}.parameters.properties.actor`, undefined, 'string')],
  },
  {
    name: 'nullable removed',
    old: text({}, { nullable: ['text'] }),
    new: text(),
    changes: [breaking('nullable-removed', `${R}.text`, true, false)],
  },
  {
    name: 'nullable added',
    old: text(),
    new: text({}, { nullable: ['text'] }),
    changes: [breaking('nullable-added', `${R}.text`, false, true)],
  },
  {
    name: 'maxLength lowered',
    old: text({ maxLength: 3000 }),
    new: text({ maxLength: 300 }),
    changes: [breaking('constraint-tightened', `${R}.text.maxLength`, 3000, 300)],
  },
  {
    name: 'maxLength added',
    old: text(),
    new: text({ maxLength: 300 }),
    changes: [breaking('constraint-tightened', `${R}.text.maxLength`, undefined, 300)],
  },
  {
    name: 'maxGraphemes lowered',
    old: text({ maxGraphemes: 300 }),
    new: text({ maxGraphemes: 30 }),
    changes: [breaking('constraint-tightened', `${R}.text.maxGraphemes`, 300, 30)],
  },
  {
    name: 'minLength raised',
    old: text({ minLength: 1 }),
    new: text({ minLength: 2 }),
    changes: [breaking('constraint-tightened', `${R}.text.minLength`, 1, 2)],
  },
  {
    name: 'minimum raised',
    old: field('n', { type: 'integer', minimum: 0 }),
    new: field('n', { type: 'integer', minimum: 1 }),
    changes: [breaking('constraint-tightened', `${R}.n.minimum`, 0, 1)],
  },
  {
    name: 'maximum lowered',
    old: field('n', { type: 'integer', maximum: 100 }),
    new: field('n', { type: 'integer', maximum: 50 }),
    changes: [breaking('constraint-tightened', `${R}.n.maximum`, 100, 50)],
  },
  {
    name: "an array's items tightened",
    old: field('tags', { type: 'array', items: { type: 'string', maxLength: 64 } }),
    new: field('tags', { type: 'array', items: { type: 'string', maxLength: 32 } }),
    changes: [breaking('constraint-tightened', `${R}.tags.items.maxLength`, 64, 32)],
  },
  {
    name: 'bytes maxLength lowered',
    old: field('sig', { type: 'bytes', maxLength: 64 }),
    new: field('sig', { type: 'bytes', maxLength: 32 }),
    changes: [breaking('constraint-tightened', `${R}.sig.maxLength`, 64, 32)],
  },
  {
    name: 'blob maxSize lowered',
    old: field('image', { type: 'blob', maxSize: 1_000_000 }),
    new: field('image', { type: 'blob', maxSize: 1000 }),
    changes: [breaking('constraint-tightened', `${R}.image.maxSize`, 1_000_000, 1000)],
  },
  {
    name: 'blob accept narrowed',
    old: field('image', { type: 'blob', accept: ['image/*'] }),
    new: field('image', { type: 'blob', accept: ['image/png'] }),
    changes: [breaking('constraint-tightened', `${R}.image.accept`, ['image/*'], ['image/png'])],
  },
  {
    name: 'blob accept added',
    old: field('image', { type: 'blob' }),
    new: field('image', { type: 'blob', accept: ['image/png'] }),
    changes: [breaking('constraint-tightened', `${R}.image.accept`, undefined, ['image/png'])],
  },
  {
    name: 'format added',
    old: text(),
    new: text({ format: 'did' }),
    changes: [breaking('constraint-tightened', `${R}.text.format`, undefined, 'did')],
  },
  {
    name: 'format changed',
    old: text({ format: 'did' }),
    new: text({ format: 'handle' }),
    changes: [breaking('constraint-tightened', `${R}.text.format`, 'did', 'handle')],
  },
  {
    name: 'const added',
    old: text(),
    new: text({ const: 'x' }),
    changes: [breaking('constraint-tightened', `${R}.text.const`, undefined, 'x')],
  },
  {
    name: 'const changed',
    old: field('flag', { type: 'boolean', const: true }),
    new: field('flag', { type: 'boolean', const: false }),
    changes: [breaking('constraint-tightened', `${R}.flag.const`, true, false)],
  },
  {
    name: 'enum added',
    old: text(),
    new: text({ enum: ['a', 'b'] }),
    changes: [breaking('constraint-tightened', `${R}.text.enum`, undefined, ['a', 'b'])],
  },
  {
    name: 'enum shrunk',
    old: field('n', { type: 'integer', enum: [1, 2, 3] }),
    new: field('n', { type: 'integer', enum: [1, 2, 4] }),
    changes: [breaking('constraint-tightened', `${R}.n.enum`, [1, 2, 3], [1, 2, 4])],
  },
  {
    name: 'default changed',
    old: text({ default: 'en' }),
    new: text({ default: 'fr' }),
    changes: [breaking('default-changed', `${R}.text.default`, 'en', 'fr')],
  },
  {
    name: "a record's key type changed",
    old: record({}, {}, 'tid'),
    new: record({}, {}, 'any'),
    changes: [breaking('record-key-changed', `${ID}#main.key`, 'tid', 'any')],
  },
  {
    name: 'union made closed',
    old: union(['#a']),
    new: union(['#a'], true),
    changes: [breaking('union-closed', `${R}.embed.closed`, false, true)],
  },
  {
    name: 'closed union made open',
    old: union(['#a'], true),
    new: union(['#a'], false),
    changes: [breaking('union-opened', `${R}.embed.closed`, true, false)],
  },
  {
    name: 'union lost a ref',
    old: union(['#a', '#b']),
    new: union(['#a']),
    changes: [breaking('union-ref-removed', `${R}.embed.refs`, `${ID}#b`)],
  },
  {
    name: 'closed union gained a ref',
    old: union(['#a'], true),
    new: union(['#a', '#b'], true),
    changes: [breaking('closed-union-ref-added', `${R}.embed.refs`, undefined, `${ID}#b`)],
  },
  {
    name: 'ref retargeted',
    old: field('reply', { type: 'ref', ref: '#a' }),
    new: field('reply', { type: 'ref', ref: '#b' }),
    changes: [breaking('ref-retargeted', `${R}.reply.ref`, `${ID}#a`, `${ID}#b`)],
  },
  {
    name: "a query's output encoding changed",
    old: endpoint('query', { output: json }),
    new: endpoint('query', { output: { encoding: 'application/vnd.ipld.car' } }),
    changes: [breaking('encoding-changed', `${Q}.output.encoding`, 'application/json', 'application/vnd.ipld.car')],
  },
  {
    name: "a procedure's input encoding changed",
    old: endpoint('procedure', { input: { encoding: '*/*' } }),
    new: endpoint('procedure', { input: { encoding: 'image/png' } }),
    changes: [breaking('encoding-changed', `${Q}.input.encoding`, '*/*', 'image/png')],
  },
  {
    name: 'input added',
    old: endpoint('procedure', {}),
    new: endpoint('procedure', { input: json }),
    changes: [breaking('input-added', `${Q}.input`, undefined, 'application/json')],
  },
  {
    name: 'output removed',
    old: endpoint('query', { output: json }),
    new: endpoint('query', {}),
    changes: [breaking('body-removed', `${Q}.output`, 'application/json')],
  },
  {
    name: "an output's schema added",
    old: endpoint('query', { output: json }),
    new: endpoint('query', { output: { ...json, schema: emptyObject } }),
    changes: [breaking('schema-added', `${Q}.output.schema`, undefined, 'object')],
  },
  {
    name: "an output's schema removed",
    old: endpoint('query', { output: { ...json, schema: emptyObject } }),
    new: endpoint('query', { output: json }),
    changes: [breaking('schema-removed', `${Q}.output.schema`, 'object')],
  },
  {
    name: "an output schema's field tightened",
    old: endpoint('query', { output: { ...json, schema: { type: 'object', properties: { n: { type: 'integer' } } } } }),
    new: endpoint('query', {
      output: { ...json, schema: { type: 'object', properties: { n: { type: 'integer', maximum: 9 } } } },
    }),
    changes: [breaking('constraint-tightened', `${Q}.output.schema.properties.n.maximum`, undefined, 9)],
  },
  {
    name: 'declared error removed',
    old: endpoint('query', { errors: [{ name: 'NotFound' }, { name: 'Gone' }] }),
    new: endpoint('query', { errors: [{ name: 'Gone' }] }),
    changes: [breaking('error-removed', `${Q}.errors.NotFound`, 'NotFound')],
  },
  {
    name: 'permission removed',
    old: permissions('com.example.note', 'com.example.like'),
    new: permissions('com.example.note'),
    changes: [
      breaking('permission-removed', `${Q}.permissions`, {
        type: 'permission',
        resource: 'repo',
        collection: ['com.example.like'],
      }),
    ],
  },

  // Compatible
  {
    name: 'document added',
    old: [text()],
    new: [text(), other],
    changes: [compatible('document-added', 'com.example.other')],
  },
  {
    name: 'def added',
    old: lexicon({ main: emptyObject }),
    new: lexicon({ main: emptyObject, extra: { type: 'token' } }),
    changes: [compatible('def-added', `${ID}#extra`, undefined, 'token')],
  },
  {
    name: 'optional field added',
    old: text(),
    new: record({ text: { type: 'string' }, title: { type: 'string' } }),
    changes: [compatible('field-added', `${R}.title`, undefined, 'string')],
  },
  {
    name: 'optional params field added',
    old: endpoint('query', {}),
    new: endpoint('query', params({ limit: { type: 'integer' } })),
    changes: [compatible('field-added', `${Q}.parameters.properties.limit`, undefined, 'integer')],
  },
  {
    name: 'knownValues entry added',
    old: text({ knownValues: ['a'] }),
    new: text({ knownValues: ['a', 'b'] }),
    changes: [compatible('known-value-added', `${R}.text.knownValues`, undefined, 'b')],
  },
  {
    name: 'knownValues entry removed',
    old: text({ knownValues: ['a', 'b'] }),
    new: text({ knownValues: ['a'] }),
    changes: [compatible('known-value-removed', `${R}.text.knownValues`, 'b')],
  },
  {
    name: 'maxLength raised',
    old: text({ maxLength: 300 }),
    new: text({ maxLength: 3000 }),
    changes: [compatible('constraint-relaxed', `${R}.text.maxLength`, 300, 3000)],
  },
  {
    name: 'maxGraphemes removed',
    old: text({ maxGraphemes: 300 }),
    new: text(),
    changes: [compatible('constraint-relaxed', `${R}.text.maxGraphemes`, 300)],
  },
  {
    name: 'minimum lowered',
    old: field('n', { type: 'integer', minimum: 1 }),
    new: field('n', { type: 'integer', minimum: 0 }),
    changes: [compatible('constraint-relaxed', `${R}.n.minimum`, 1, 0)],
  },
  {
    name: 'blob maxSize raised',
    old: field('image', { type: 'blob', maxSize: 1000 }),
    new: field('image', { type: 'blob', maxSize: 2000 }),
    changes: [compatible('constraint-relaxed', `${R}.image.maxSize`, 1000, 2000)],
  },
  {
    name: 'blob accept widened',
    old: field('image', { type: 'blob', accept: ['image/png', 'image/jpeg'] }),
    new: field('image', { type: 'blob', accept: ['image/*'] }),
    changes: [compatible('constraint-relaxed', `${R}.image.accept`, ['image/png', 'image/jpeg'], ['image/*'])],
  },
  {
    name: 'format removed',
    old: text({ format: 'uri' }),
    new: text(),
    changes: [compatible('constraint-relaxed', `${R}.text.format`, 'uri')],
  },
  {
    name: 'const removed',
    old: text({ const: 'x' }),
    new: text(),
    changes: [compatible('constraint-relaxed', `${R}.text.const`, 'x')],
  },
  {
    name: 'enum grown',
    old: text({ enum: ['a'] }),
    new: text({ enum: ['a', 'b'] }),
    changes: [compatible('constraint-relaxed', `${R}.text.enum`, ['a'], ['a', 'b'])],
  },
  {
    name: 'default added',
    old: text(),
    new: text({ default: 'en' }),
    changes: [compatible('default-added', `${R}.text.default`, undefined, 'en')],
  },
  {
    name: "a field's description changed",
    old: text({ description: 'The text.' }),
    new: text({ description: 'The text, in UTF-8.' }),
    changes: [compatible('description-changed', `${R}.text.description`, 'The text.', 'The text, in UTF-8.')],
  },
  {
    name: "the document's description and revision changed",
    old: lexicon({ main: emptyObject }, { description: 'Notes.', revision: 1 }),
    new: lexicon({ main: emptyObject }, { description: 'Short notes.', revision: 2 }),
    changes: [
      compatible('other-changed', `${ID} $.revision`, 1, 2),
      compatible('description-changed', `${ID} $.description`, 'Notes.', 'Short notes.'),
    ],
  },
  {
    name: 'error added',
    old: endpoint('procedure', {}),
    new: endpoint('procedure', { errors: [{ name: 'RateLimited' }] }),
    changes: [compatible('error-added', `${Q}.errors.RateLimited`, undefined, 'RateLimited')],
  },
  {
    name: 'open union gained a ref',
    old: union(['#a']),
    new: union(['#a', '#b']),
    changes: [compatible('union-ref-added', `${R}.embed.refs`, undefined, `${ID}#b`)],
  },
  {
    name: 'output added',
    old: endpoint('procedure', {}),
    new: endpoint('procedure', { output: json }),
    changes: [compatible('output-added', `${Q}.output`, undefined, 'application/json')],
  },
  {
    name: 'permission added',
    old: permissions('com.example.note'),
    new: permissions('com.example.note', 'com.example.like'),
    changes: [
      compatible('permission-added', `${Q}.permissions`, undefined, {
        type: 'permission',
        resource: 'repo',
        collection: ['com.example.like'],
      }),
    ],
  },

  // No change
  {
    name: 'a ref written relative or absolute, #main or not, to a lexicon outside the folder',
    old: record({ reply: { type: 'ref', ref: '#a' }, subject: { type: 'ref', ref: 'com.atproto.repo.strongRef' } }),
    new: record({
      reply: { type: 'ref', ref: `${ID}#a` },
      subject: { type: 'ref', ref: 'com.atproto.repo.strongRef#main' },
    }),
    changes: [],
  },
  {
    name: 'the order of fields, defs, required names, enum values and union refs',
    old: record(
      { text: { type: 'string', enum: ['a', 'b'] }, embed: { type: 'union', refs: ['#a', '#b'] } },
      { required: ['text', 'embed'] },
    ),
    new: lexicon({
      b: emptyObject,
      a: emptyObject,
      main: {
        key: 'tid',
        type: 'record',
        record: {
          properties: { embed: { refs: ['#b', '#a'], type: 'union' }, text: { enum: ['b', 'a'], type: 'string' } },
          required: ['embed', 'text'],
          type: 'object',
        },
      },
    }),
    changes: [],
  },
]

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(value, null, 2))
}

/** Each document in its own file under `dir`, named after its id. */
async function writeFolder(dir: string, docs: Json | Json[]): Promise<string> {
  for (const doc of [docs].flat()) await writeJson(path.join(dir, ...(doc.id as string).split('.')) + '.json', doc)
  return dir
}

async function folders(old: Json | Json[], next: Json | Json[]): Promise<[string, string]> {
  const dir = await tempDir()
  return [await writeFolder(path.join(dir, 'old'), old), await writeFolder(path.join(dir, 'new'), next)]
}

describe('lexicon diff: each evolution rule', () => {
  it.each(rows)('$name', async (row) => {
    const { changes } = await diffFolders(...(await folders(row.old, row.new)))
    expect(changes).toMatchObject(row.changes)
    // Each change knows its document, and its JSON path is the location's own.
    for (const change of changes) expect(change.location.startsWith(change.nsid)).toBe(true)
  })

  it('has a row for every kind of change', () => {
    const covered = new Set(rows.flatMap((row) => row.changes.map((change) => change.kind)))
    expect(Object.keys(LEXICON_CHANGE_KINDS).filter((kind) => !covered.has(kind as LexiconChangeKind))).toEqual([])
  })

  it('gives the JSON path within the document', async () => {
    const { changes } = await diffFolders(...(await folders(text({ maxLength: 3000 }), text({ maxLength: 300 }))))
    expect(changes.map((change) => change.path)).toEqual(['$.defs.main.record.properties.text.maxLength'])
  })

  it('finds no change between the bundled lexicons and themselves', async () => {
    const lexicons = path.join(repoRoot, 'lexicons')
    const { changes, documents } = await diffFolders(lexicons, lexicons)
    expect(documents).toEqual({ old: 387, new: 387 })
    expect(changes).toEqual([])
  })

  it('still refuses a ref to a missing def of a document in the folder', async () => {
    const [old, next] = await folders(text(), field('reply', { type: 'ref', ref: '#replyRef' }))
    const error = await diffFolders(old, next).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LexiconError)
    expect((error as LexiconError).problems).toMatchObject([
      { path: '$.defs.main.record.properties.reply.ref', message: 'unresolvable ref: #replyRef' },
    ])
  })
})

describe('lexicon diff CLI', () => {
  const cli = path.join(repoRoot, 'codegen/cli.ts')
  const tsx = path.join(repoRoot, 'node_modules/.bin/tsx')
  const diff = (...args: string[]) =>
    run(tsx, [cli, 'diff', ...args]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    )

  it('exits 0 on compatible changes only, listing them with NSID and path', async () => {
    const [old, next] = await folders(text({ maxLength: 300 }), text({ maxLength: 3000, knownValues: ['x'] }))
    const { code, stdout } = await diff(old, next)
    expect(code).toBe(0)
    expect(stdout).toBe(
      [
        'Compatible changes (2):',
        `  ${R}.text.maxLength: 300 → 3000 (compatible: constraint relaxed)`,
        `  ${R}.text.knownValues: added "x" (compatible: knownValues entry added)`,
        '2 changes in 1 document: 0 breaking, 2 compatible',
        '',
      ].join('\n'),
    )
  })

  it('exits 1 on a breaking change, listed apart from the compatible ones', async () => {
    const [old, next] = await folders(
      [text({ maxLength: 3000 })],
      [text({ maxLength: 300 }), lexicon({ main: emptyObject }, {}, 'com.example.other')],
    )
    const { code, stdout } = await diff(old, next)
    expect(code).toBe(1)
    expect(stdout).toBe(
      [
        'Breaking changes (1):',
        `  ${R}.text.maxLength: 3000 → 300 (breaking: constraint tightened)`,
        'Compatible changes (1):',
        '  com.example.other (compatible: document added)',
        '2 changes in 2 documents: 1 breaking, 1 compatible',
        '',
      ].join('\n'),
    )
  })

  it('prints JSON with --json', async () => {
    const [old, next] = await folders(text({ maxLength: 3000 }), text({ maxLength: 300 }))
    const { code, stdout } = await diff('--json', old, next)
    expect(code).toBe(1)
    expect(JSON.parse(stdout)).toEqual({
      old,
      new: next,
      documents: { old: 1, new: 1 },
      breaking: 1,
      compatible: 0,
      changes: [
        {
          kind: 'constraint-tightened',
          breaking: true,
          rule: 'constraint tightened',
          nsid: ID,
          path: '$.defs.main.record.properties.text.maxLength',
          location: `${R}.text.maxLength`,
          before: 3000,
          after: 300,
        },
      ],
    })
  })

  it('says when nothing changed, exit 0', async () => {
    const [old, next] = await folders(text(), text())
    expect(await diff(old, next)).toMatchObject({ code: 0, stdout: 'No changes (1 document before, 1 after)\n' })
  })

  it('answers a wrong call in one line and exit code 2', async () => {
    const [old] = await folders(text(), text())
    const missing = path.join(old, 'nope')
    for (const [args, message] of [
      [[old, missing], `diff ${missing}: no such folder`],
      [[old], 'diff needs two folders: diff OLD NEW'],
      [['--jsn', old, old], "diff: Unknown option '--jsn'"],
    ] as const) {
      const result = await diff(...args)
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(`blueskysdk-codegen: ${message} (see --help)\n`)
    }
  })

  it('reads a folder as a git revision holds it (REV:PATH), run from the repository or a folder in it', async () => {
    const repo = await tempDir()
    const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo })
    await git('init', '-q')
    await writeFolder(path.join(repo, 'lexicons'), [
      text({ maxLength: 3000 }),
      lexicon({ main: emptyObject }, {}, 'com.example.gone'),
    ])
    await git('add', '.')
    await git('commit', '-qm', 'lexicons')
    await rm(path.join(repo, 'lexicons/com/example/gone.json'))
    await writeFolder(path.join(repo, 'lexicons'), text({ maxLength: 300 }))
    const inRepo = (...args: string[]) =>
      run(tsx, [cli, 'diff', ...args], { cwd: repo }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      )
    const expected = [
      'Breaking changes (2):',
      '  com.example.gone (breaking: document removed)',
      `  ${R}.text.maxLength: 3000 → 300 (breaking: constraint tightened)`,
      '2 changes in 2 documents: 2 breaking, 0 compatible',
      '',
    ].join('\n')
    expect(await inRepo('HEAD:lexicons', 'lexicons')).toMatchObject({ code: 1, stdout: expected })
    // From a folder inside the repository, REV:PATH is relative to it, as git reads `./PATH`.
    const fromSub = await run(tsx, [cli, 'diff', 'HEAD:.', '.'], { cwd: path.join(repo, 'lexicons') }).catch(
      (error: { code: number; stdout: string }) => error,
    )
    expect(fromSub).toMatchObject({ code: 1, stdout: expected })
    // The same revision on both sides: nothing changed.
    expect(await inRepo('HEAD:lexicons', 'HEAD:lexicons')).toMatchObject({
      code: 0,
      stdout: 'No changes (2 documents before, 2 after)\n',
    })
    // A problem in a committed document is named by revision and path.
    await writeFile(path.join(repo, 'lexicons/com/example/note.json'), '{"lexicon": 1, "id": "com.example.note"}')
    await git('commit', '-qam', 'broken')
    const broken = await inRepo('HEAD:lexicons', 'HEAD~1:lexicons')
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('HEAD:lexicons/com/example/note.json: $')
    // An unknown revision, or a path the revision lacks, is a wrong call.
    for (const arg of ['nope:lexicons', 'HEAD:missing']) {
      expect(await inRepo(arg, 'lexicons')).toMatchObject({
        code: 2,
        stderr: `blueskysdk-codegen: diff ${arg}: no such folder, nor a folder of that git revision (see --help)\n`,
      })
    }
  })

  it('refuses an invalid document in NEW, naming its file and JSON path', async () => {
    const [old, next] = await folders(text(), text({ maxLength: -1 }))
    const { code, stdout, stderr } = await diff(old, next)
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain(
      `${path.join(next, 'com/example/note.json')}: $.defs.main.record.properties.text.maxLength:`,
    )
  })
})
