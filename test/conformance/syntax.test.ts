import { readdirSync } from 'node:fs'
import path from 'node:path'
import { expect, it } from 'vitest'
import {
  isAtIdentifier,
  isAtUri,
  isCid,
  isDatetime,
  isDid,
  isHandle,
  isLanguage,
  isNsid,
  isRecordKey,
  isTid,
  isUri,
} from '../../src/runtime/schema/formats.js'
import { isNsid as isNsidForCodegen } from '../../codegen/names.js'
import { describeInterop, interopDir, readSyntaxCases } from '../support/interop.js'

const validators: Record<string, (value: string) => boolean> = {
  atidentifier: isAtIdentifier,
  aturi: isAtUri,
  cid: isCid,
  datetime: isDatetime,
  did: isDid,
  handle: isHandle,
  language: isLanguage,
  nsid: isNsid,
  'nsid (codegen)': isNsidForCodegen,
  recordkey: isRecordKey,
  tid: isTid,
  uri: isUri,
}

interface FixtureFile {
  file: string
  kind: string
  valid: boolean
}

// Listed statically (not discovered) so a missing or renamed fixture fails
// instead of silently dropping a kind.
const fixtureFiles: FixtureFile[] = [
  ...Object.keys(validators)
    .filter((kind) => !kind.includes(' '))
    .flatMap((kind) => [
      { file: `${kind}_syntax_valid.txt`, kind, valid: true },
      { file: `${kind}_syntax_invalid.txt`, kind, valid: false },
    ]),
  { file: 'datetime_parse_invalid.txt', kind: 'datetime', valid: false },
  { file: 'language_parse_invalid.txt', kind: 'language', valid: false },
  // The generator checks lexicon ids with its own NSID check (it needs nothing of the runtime).
  { file: 'nsid_syntax_valid.txt', kind: 'nsid (codegen)', valid: true },
  { file: 'nsid_syntax_invalid.txt', kind: 'nsid (codegen)', valid: false },
]

/** Keeps failure output readable: some cases are 8 KB long. */
function describeCase(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 60)}…${value.slice(-10)}` : value
  return `${JSON.stringify(shown)} (${value.length} chars)`
}

describeInterop('interop syntax fixtures', () => {
  it('has exactly the expected fixture files', () => {
    const actual = readdirSync(path.join(interopDir, 'syntax'))
      .filter((name) => name.endsWith('.txt'))
      .sort()
    expect(actual).toEqual([...new Set(fixtureFiles.map((f) => f.file))].sort())
  })

  for (const { file, kind, valid } of fixtureFiles) {
    const validate = validators[kind]
    it(`${file}: every case is ${valid ? 'accepted' : 'rejected'} by ${validate.name}${kind.includes(' ') ? ` (${kind})` : ''}`, () => {
      const cases = readSyntaxCases(file)
      expect(cases.length, `${file} has no cases`).toBeGreaterThan(0)
      const wrong = cases.filter((value) => validate(value) !== valid).map(describeCase)
      expect(wrong, `${validate.name} should ${valid ? 'accept' : 'reject'} these lines of ${file}`).toEqual([])
    })
  }
})
