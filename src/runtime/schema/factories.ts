/**
 * The schema factories generated code calls (`l.object(…)`, `l.string(…)`), and the registry that
 * validates by lexicon reference. Reached through the entry points (`blueskysdk/runtime`, `/schema`).
 */
import { type LexSchema, type ValidationIssue, type ValidationResult, validate } from './core.js'
import {
  ArraySchema,
  type ArrayOptions,
  LazySchema,
  LiteralSchema,
  ObjectSchema,
  type ObjectOptions,
  RecordSchema,
  UnionSchema,
} from './composites.js'
import {
  type BlobOptions,
  BlobSchema,
  type BooleanOptions,
  BooleanSchema,
  type BytesOptions,
  BytesSchema,
  CidLinkSchema,
  type IntegerOptions,
  IntegerSchema,
  type StringOptions,
  StringSchema,
  UnknownSchema,
} from './primitives.js'

// Factories are what generated code calls. Generated calls also carry PURE annotations: esbuild does not
// honour `@__NO_SIDE_EFFECTS__` across modules, and unused schemas should drop out of bundles either way.

/* @__NO_SIDE_EFFECTS__ */
export function string<T extends string = string>(options: StringOptions<T> = {}): StringSchema<T> {
  return new StringSchema(options)
}

/* @__NO_SIDE_EFFECTS__ */
export function integer<T extends number = number>(options: IntegerOptions<T> = {}): IntegerSchema<T> {
  return new IntegerSchema(options)
}

/* @__NO_SIDE_EFFECTS__ */
export function boolean<T extends boolean = boolean>(options: BooleanOptions<T> = {}): BooleanSchema<T> {
  return new BooleanSchema(options)
}

/* @__NO_SIDE_EFFECTS__ */
export function bytes(options: BytesOptions = {}): BytesSchema {
  return new BytesSchema(options)
}

/* @__NO_SIDE_EFFECTS__ */
export function cidLink(): CidLinkSchema {
  return new CidLinkSchema()
}

/* @__NO_SIDE_EFFECTS__ */
export function blob(options: BlobOptions = {}): BlobSchema {
  return new BlobSchema(options)
}

/* @__NO_SIDE_EFFECTS__ */
export function unknown(): UnknownSchema {
  return new UnknownSchema()
}

/* @__NO_SIDE_EFFECTS__ */
export function literal<T extends string>(value: T): LiteralSchema<T> {
  return new LiteralSchema(value)
}

/* @__NO_SIDE_EFFECTS__ */
export function object<T>(
  typeId: string | undefined,
  entries: Record<string, LexSchema<any>>,
  options?: ObjectOptions,
): ObjectSchema<T> {
  return new ObjectSchema<T>(typeId, entries, options)
}

/** A record def's object; its `asRecord` checks a whole record. */
/* @__NO_SIDE_EFFECTS__ */
export function record<T>(
  nsid: string,
  entries: Record<string, LexSchema<any>>,
  options?: ObjectOptions,
): RecordSchema<T> {
  return new RecordSchema<T>(nsid, entries, options)
}

/* @__NO_SIDE_EFFECTS__ */
export function array<T>(items: LexSchema<T>, options?: ArrayOptions): ArraySchema<T> {
  return new ArraySchema(items, options)
}

/* @__NO_SIDE_EFFECTS__ */
export function union<T>(
  members: () => readonly ObjectSchema<any>[],
  options: { closed?: boolean } = {},
): UnionSchema<T> {
  return new UnionSchema<T>(members, options.closed ?? false)
}

/* @__NO_SIDE_EFFECTS__ */
export function lazy<T>(resolve: () => LexSchema<T>): LazySchema<T> {
  return new LazySchema(resolve)
}

/**
 * Validation by lexicon reference for data whose type is known only at run time: `ref` is an NSID
 * (its main def; for a record, the record object) or `nsid#def`.
 */
export function createRegistry(schemas: Readonly<Record<string, LexSchema<unknown>>>) {
  let byRef: Map<string, LexSchema<unknown>> | undefined
  const find = (ref: string): LexSchema<unknown> | undefined => {
    byRef ??= new Map(Object.entries(schemas))
    return byRef.get(ref) ?? (ref.endsWith('#main') ? byRef.get(ref.slice(0, -5)) : undefined)
  }
  return {
    has: (ref: string): boolean => find(ref) !== undefined,
    get: find,
    /** Validates `value` against `ref`; a record's NSID validates a whole record (`RecordSchema#asRecord`). */
    validate(ref: string, value: unknown): ValidationResult<unknown> {
      const schema = find(ref)
      if (schema === undefined) {
        const issue: ValidationIssue = { path: '', message: `unknown lexicon reference ${JSON.stringify(ref)}` }
        return { success: false, issues: [issue] }
      }
      return validate(schema instanceof RecordSchema ? schema.asRecord : schema, value)
    },
  }
}
