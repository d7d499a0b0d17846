import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { LexiconError } from '../../codegen/index.js'
import { generateTemp, type GeneratedSet, repoRoot, source } from '../support/codegen.js'
import { describeInterop, interopDir, readJson } from '../support/interop.js'

interface LexiconCase {
  name: string
  lexicon: unknown
}
interface RecordCase {
  name: string
  rkey: string
  data: { $type: string; [key: string]: unknown }
}

describeInterop('interop: lexicon documents', () => {
  const valid = readJson<LexiconCase[]>('lexicon/lexicon-valid.json')
  const invalid = readJson<LexiconCase[]>('lexicon/lexicon-invalid.json')

  it('has cases', () => {
    expect(valid.length).toBeGreaterThan(0)
    expect(invalid.length).toBeGreaterThan(0)
  })

  it.each(valid.map((c) => [c.name, c] as const))('generates valid document: %s', async (_name, c) => {
    const generated = await generateTemp([source(`${c.name}.json`, c.lexicon)])
    expect(generated.report.documents).toBe(1)
  })

  it.each(invalid.map((c) => [c.name, c] as const))('refuses invalid document: %s', async (_name, c) => {
    const error = await generateTemp([source(`${c.name}.json`, c.lexicon)]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LexiconError)
    const problems = (error as LexiconError).problems
    expect(problems.length).toBeGreaterThan(0)
    for (const problem of problems) {
      expect(problem.file).toBe(`${c.name}.json`)
      expect(problem.path).toMatch(/^\$/)
    }
  })
})

describeInterop('interop: record data against the catalog', () => {
  let generated: GeneratedSet
  beforeAll(async () => {
    // The catalog refers to Bluesky lexicons (app.bsky.actor.defs#preferences), so generate it with ours.
    generated = await generateTemp([path.join(interopDir, 'lexicon/catalog'), path.join(repoRoot, 'lexicons')])
  })

  it('reports the permission-set as producing no code', () => {
    expect(generated.report.skipped).toEqual([
      { id: 'example.lexicon.permissionset', def: 'main', type: 'permission-set' },
    ])
  })

  describe('valid records are accepted', () => {
    for (const c of readJson<RecordCase[]>('lexicon/record-data-valid.json')) {
      it(c.name, () => {
        const result = generated.validate(c.data.$type, c.data)
        expect(result).toEqual({ success: true, value: expect.anything() })
      })
    }
  })

  describe('invalid records are refused', () => {
    for (const c of readJson<RecordCase[]>('lexicon/record-data-invalid.json')) {
      it(c.name, () => {
        const result = generated.validate(c.data.$type, c.data)
        if (result.success) throw new Error('accepted')
        // Each case is the minimal valid record `{ integer: 1 }` with fields added or changed (some also drop
        // `integer`): the issues must be about exactly those.
        const base: Record<string, unknown> = { $type: c.data.$type, integer: 1 }
        const expected = new Set(
          [...new Set([...Object.keys(base), ...Object.keys(c.data)])].filter((key) => base[key] !== c.data[key]),
        )
        expect(new Set(result.issues.map((issue) => topLevelKey(issue.path)))).toEqual(expected)
      })
    }
  })
})

/** The first key of a formatted path: `a.b` → `a`, `["cid-link"]` → `cid-link`. */
function topLevelKey(path: string): string {
  const match = /^(?:\["((?:[^"\\]|\\.)*)"\]|([^.[]+))/.exec(path)!
  return match[1] !== undefined ? JSON.parse(`"${match[1]}"`) : match[2]
}
