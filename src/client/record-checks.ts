import { ValidationError } from '../runtime/errors.js'
import { type LexSchema, validate, type ValidationIssue } from '../runtime/schema/core.js'

/**
 * Records are checked before they are written: the lexicons type `record` (and `applyWrites`'
 * `value`) as `unknown`, so the input schema cannot; the record's own lexicon, found by its
 * `collection`, can. Collections the client knows no lexicon for pass through, as does a write
 * whose input says `validate: false` (the protocol's own switch for unchecked records).
 */

interface RecordWrite {
  collection: unknown
  value: unknown
  /** Where the record is in the input, for issue paths. */
  path: string
}

const WRITES: Readonly<Record<string, (input: Record<string, unknown>) => RecordWrite[]>> = {
  'com.atproto.repo.createRecord': (input) => [{ collection: input.collection, value: input.record, path: 'record' }],
  'com.atproto.repo.putRecord': (input) => [{ collection: input.collection, value: input.record, path: 'record' }],
  'com.atproto.repo.applyWrites': (input) =>
    (input.writes as Record<string, unknown>[]).flatMap((write, i) =>
      'value' in write ? [{ collection: write.collection, value: write.value, path: `writes[${i}].value` }] : [],
    ),
}

export function writesRecords(nsid: string): boolean {
  return nsid in WRITES
}

/** Throws `ValidationError` (part `record`) naming every bad field, by its path in the input. */
export async function checkRecords(
  nsid: string,
  input: Record<string, unknown> | undefined,
  schemaOf: (collection: string) => Promise<LexSchema<unknown> | undefined>,
): Promise<void> {
  const writes = WRITES[nsid]
  if (!writes || !input || input.validate === false) return
  const issues: ValidationIssue[] = []
  for (const write of writes(input)) {
    if (typeof write.collection !== 'string') continue
    const schema = await schemaOf(write.collection)
    if (!schema) continue
    const result = validate(schema, write.value)
    if (!result.success) issues.push(...result.issues.map((issue) => within(write.path, issue)))
  }
  if (issues.length) throw new ValidationError(nsid, 'record', issues)
}

function within(prefix: string, issue: ValidationIssue): ValidationIssue {
  const path = !issue.path ? prefix : issue.path.startsWith('[') ? prefix + issue.path : `${prefix}.${issue.path}`
  return { path, message: issue.message }
}
