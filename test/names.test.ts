/**
 * Lexicon names that are JavaScript's or the generator's own: a method called `l` (the runtime's
 * import alias), defs and properties called `constructor`, `__proto__`, `toString`… Generated code
 * must type-check, keep every such field in its types and schemas, and validate only what a value
 * really has (a plain object inherits `constructor` and `toString`; those are not its fields).
 * Then the same, property-based: random valid documents whose names come from a list of trouble.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkWithInterpreter, validate } from '../src/runtime/schema/core.js'
import type { LexSchema } from '../src/runtime/index.js'
import { generateTemp, repoRoot, source } from './support/codegen.js'

const run = promisify(execFile)

/** tsc over every file of a generated directory: its diagnostics, or '' when it checks. */
async function typeErrors(dir: string): Promise<string> {
  const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022']
  const { stdout } = await run(
    'sh',
    ['-c', `${path.join(repoRoot, 'node_modules/.bin/tsc')} ${flags.join(' ')} $(find . -name '*.ts')`],
    {
      cwd: dir,
    },
  ).catch((error: { stdout: string }) => error)
  return stdout
}

const OWN_NAMES = ['constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']

// As text: an object literal's `__proto__` would set the prototype, not make a property.
const proto = `{
  "lexicon": 1,
  "id": "com.example.proto",
  "defs": {
    "main": {
      "type": "record",
      "key": "tid",
      "record": {
        "type": "object",
        "required": ["constructor", "__proto__"],
        "properties": {
          "constructor": { "type": "string" },
          "__proto__": { "type": "string" },
          "prototype": { "type": "integer" },
          "toString": { "type": "string" },
          "hasOwnProperty": { "type": "ref", "ref": "#constructor" }
        }
      }
    },
    "constructor": { "type": "object", "properties": { "valueOf": { "type": "boolean" } } }
  }
}`
const l = {
  lexicon: 1,
  id: 'com.example.l',
  defs: {
    main: {
      type: 'query',
      parameters: { type: 'params', properties: { l: { type: 'string' } } },
      output: {
        encoding: 'application/json',
        schema: { type: 'object', properties: { l: { type: 'ref', ref: '#l' } } },
      },
    },
    l: { type: 'object', properties: { lex: { type: 'string' } } },
  },
}

/** An object with these own properties, `__proto__` among them (JSON.stringify writes it as any other). */
const objectOf = (entries: [string, unknown][]) => {
  const object: Record<string, unknown> = {}
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true })
  return object
}

describe('names that are JavaScript’s own', () => {
  it('generate code that type-checks, keeps every field and validates only own properties', async () => {
    const set = await generateTemp([source('proto.json', proto), source('l.json', l)])
    expect(await typeErrors(set.dir)).toBe('')

    const { recordSchema } = await set.module<{ recordSchema: LexSchema<unknown> }>('com.example.proto')
    const both = (value: unknown) => [validate(recordSchema, value), checkWithInterpreter(recordSchema, value)]
    const issues = (value: unknown) =>
      both(value).map((result) => (result.success ? 'valid' : result.issues.map((i) => `${i.path} ${i.message}`)))

    // A plain object inherits constructor, toString, __proto__: none of them is a field it has.
    expect(issues({})).toEqual([
      ['constructor is required', '__proto__ is required'],
      ['constructor is required', '__proto__ is required'],
    ])
    const good = JSON.parse(
      '{"constructor": "a", "__proto__": "b", "toString": "c", "hasOwnProperty": {"valueOf": true}}',
    )
    expect(issues(good)).toEqual(['valid', 'valid'])
    const bad = JSON.parse('{"constructor": 1, "__proto__": "b", "toString": 2, "prototype": "x"}')
    expect(issues(bad)).toEqual([
      ['constructor must be a string', 'prototype must be an integer', 'toString must be a string'],
      ['constructor must be a string', 'prototype must be an integer', 'toString must be a string'],
    ])

    const { l: descriptor } = await set.module<{ l: { nsid: string } }>('com.example.l')
    expect(descriptor.nsid).toBe('com.example.l')
  })

  it('a ref to a def that only Object.prototype has is unresolvable', async () => {
    const doc = structuredClone(l) as any
    doc.defs.main.output.schema.properties.l.ref = '#toString'
    const error = await generateTemp([source('l.json', doc)]).catch((e: unknown) => e)
    expect(String(error)).toContain('unresolvable ref: #toString')
  })
})

describe('random valid documents with troublesome names', () => {
  const TROUBLE = [
    'l',
    'lex',
    'NSID',
    'main',
    'record',
    'default',
    'class',
    'new',
    'Main',
    'Record',
    'Params',
    'Output',
    'then',
    'send',
    ...OWN_NAMES,
  ]
  const name = fc.constantFrom(...TROUBLE)
  const defName = name.filter((n) => /^[a-zA-Z][a-zA-Z0-9_]*$/.test(n) && n !== 'main')
  const field = fc.oneof(
    fc.constant({ type: 'string' }),
    fc.constant({ type: 'integer' }),
    fc.constant({ type: 'boolean' }),
    fc.constant({ type: 'array', items: { type: 'string' } }),
  )
  const properties = fc
    .uniqueArray(fc.tuple(name, field), { minLength: 1, maxLength: 4, selector: ([key]) => key })
    .map(objectOf)
  const doc = fc.record({
    method: fc.constantFrom('l', 'NSID', 'default', 'constructor', 'toString', 'record', 'then', 'getL'),
    kind: fc.constantFrom('query', 'procedure', 'record'),
    defs: fc.uniqueArray(fc.tuple(defName, properties), { maxLength: 3, selector: ([key]) => key }),
    main: properties,
  })

  it('always generate code that type-checks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(doc, { minLength: 2, maxLength: 5, selector: (d) => d.method }), async (docs) => {
        const sources = docs.map((d, i) => {
          const object = { type: 'object', properties: d.main }
          const main =
            d.kind === 'record'
              ? { type: 'record', key: 'any', record: object }
              : d.kind === 'query'
                ? { type: 'query', output: { encoding: 'application/json', schema: object } }
                : { type: 'procedure', input: { encoding: 'application/json', schema: object } }
          const defs = objectOf([
            ...d.defs.map(([n, p]): [string, unknown] => [n, { type: 'object', properties: p }]),
            ['main', main],
          ])
          return source(`d${i}.json`, { lexicon: 1, id: `com.example.${d.method}`, defs })
        })
        const set = await generateTemp(sources)
        expect(await typeErrors(set.dir)).toBe('')
      }),
      { numRuns: 4 },
    )
  })
})
