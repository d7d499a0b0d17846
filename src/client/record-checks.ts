import { ValidationError } from '../runtime/errors.js'
import { type LexSchema, validate, type ValidationIssue } from '../runtime/schema/core.js'

/**
 * Records are checked before they are written: the lexicons type `record` (and `applyWrites`'
 * `value`) as `unknown`, so the input schema cannot; the record's own lexicon, found by its
 * `collection`, can. Collections the client knows no lexicon for pass through, as does a write
 * whose input says `validate: false` (the protocol's own switch for unchecked records).
 *
 * A record's `$type` is its collection, as the PDS has it: one without `$type` gets the collection
 * (on the input being sent, never the caller's object), and one with another `$type` (`nsid#main`
 * included) is refused unless `validate: false`, before anything is sent.
 */

interface RecordWrite {
  collection: unknown
  value: unknown
  /** Where the record is in the input, for issue paths. */
  path: string
  /** Puts a record in the input in place of this one. */
  replace(value: Record<string, unknown>): void
}

// `input` is the request's own copy (see fieldsOf), so its top level may be replaced; what it holds is the caller's.
const WRITES: Readonly<Record<string, (input: Record<string, unknown>) => RecordWrite[]>> = {
  'com.atproto.repo.createRecord': singleRecord,
  'com.atproto.repo.putRecord': singleRecord,
  'com.atproto.repo.applyWrites': (input) => {
    const writes = [...(input.writes as Record<string, unknown>[])]
    input.writes = writes
    return writes.flatMap((write, i) =>
      'value' in write
        ? [
            {
              collection: write.collection,
              value: write.value,
              path: `writes[${i}].value`,
              replace: (value: Record<string, unknown>) => void (writes[i] = { ...write, value }),
            },
          ]
        : [],
    )
  },
}

function singleRecord(input: Record<string, unknown>): RecordWrite[] {
  const replace = (value: Record<string, unknown>) => void (input.record = value)
  return [{ collection: input.collection, value: input.record, path: 'record', replace }]
}

export function writesRecords(nsid: string): boolean {
  return nsid in WRITES
}

/**
 * Fills in each record's `$type` (in `input`) and throws `ValidationError` (part `record`) naming
 * every bad field, by its path in the input.
 */
export async function checkRecords(
  nsid: string,
  input: Record<string, unknown> | undefined,
  schemaOf: (collection: string) => Promise<LexSchema<unknown> | undefined>,
): Promise<void> {
  const writes = WRITES[nsid]
  if (!writes || !input) return
  const checking = input.validate !== false
  const issues: ValidationIssue[] = []
  for (const write of writes(input)) {
    const { collection, value } = write
    if (typeof collection !== 'string' || typeof value !== 'object' || value === null || Array.isArray(value)) continue
    const $type = (value as { $type?: unknown }).$type
    if ($type === undefined) write.replace({ ...value, $type: collection })
    if (!checking) continue
    const wrongType = $type !== undefined && $type !== collection
    if (wrongType) {
      issues.push({ path: `${write.path}.$type`, message: `must be ${JSON.stringify(collection)}, the collection` })
    }
    const schema = await schemaOf(collection)
    if (!schema) continue
    // The rest of a record of the wrong type is still reported: checked without its `$type`.
    const result = validate(schema, wrongType ? { ...value, $type: undefined } : value)
    if (!result.success) issues.push(...result.issues.map((issue) => within(write.path, issue)))
  }
  if (issues.length) throw new ValidationError(nsid, 'record', issues)
}

function within(prefix: string, issue: ValidationIssue): ValidationIssue {
  const path = !issue.path ? prefix : issue.path.startsWith('[') ? prefix + issue.path : `${prefix}.${issue.path}`
  return { path, message: issue.message }
}
