import { compileArray, compileObject, compileUnion, type ObjectShape, type UnionShape } from './compile.js'
import {
  type CheckContext,
  DISCARD,
  type Fail,
  FAIL,
  fail,
  LexSchema,
  MAX_NESTING,
  nesting,
  prefixIssues,
  tooDeep,
} from './core.js'
import { hasTypeTag, isPlainObject } from './primitives.js'

/**
 * Object, array, union and (lazy) ref schemas: the structure of lexicon data. Each one's `check` is
 * the interpreter (a generic loop, with the messages); its `fast` is compiled on first use from
 * the same description (see compile.ts), or, where it cannot be, is `check` in the discarding context.
 */

type Entries = Readonly<Record<string, LexSchema<unknown>>>

export interface ObjectOptions {
  required?: readonly string[]
  nullable?: readonly string[]
}

/**
 * A lexicon object, record or params. Unknown properties pass through (lexicons evolve). The input
 * itself is returned unless a default was filled in, in which case it is copied once.
 */
export class ObjectSchema<out T> extends LexSchema<T> {
  readonly type = 'object'
  readonly expects = 'object'
  private described: ObjectShape | undefined = undefined

  constructor(
    /** The lexicon id of this type (`app.bsky.feed.post`, `app.bsky.feed.post#replyRef`), if it has one. */
    readonly typeId: string | undefined,
    readonly entries: Entries,
    readonly options: ObjectOptions = {},
    /** Checked as a whole record (see `RecordSchema#asRecord`): its `$type` required, and `typeId` exactly. */
    readonly wholeRecord = false,
  ) {
    super()
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    const shape = this.shape()
    this.check = (v, c) => checkObject<T>(shape, v, c)
    return this.check(value, ctx)
  }

  override fast(value: unknown): T | Fail {
    const shape = this.shape()
    this.fast = compileObject<T>(shape) ?? ((v) => checkObject<T>(shape, v, DISCARD))
    return this.fast(value)
  }

  /** Computed on first use, not at import (most schemas of a big lexicon set are never used), and once. */
  private shape(): ObjectShape {
    if (this.described !== undefined) return this.described
    const keys = Object.keys(this.entries)
    const schemas = keys.map((key) => this.entries[key])
    const { typeId } = this
    return (this.described = {
      keys,
      schemas,
      required: keys.map((key) => this.options.required?.includes(key) ?? false),
      inherited: keys.map((key) => key in Object.prototype),
      nullable: keys.map((key) => this.options.nullable?.includes(key) ?? false),
      defaults: schemas.map((schema) => (schema as { default?: unknown }).default),
      typeIds:
        typeId === undefined
          ? undefined
          : typeId.includes('#') || this.wholeRecord
            ? [typeId]
            : [typeId, `${typeId}#main`],
      typeRequired: this.wholeRecord,
      typeId,
    })
  }
}

/**
 * A record def's object. Nested in other data (a ref to the record type), it is an object like any
 * other: `$type` optional, `nsid#main` accepted. `asRecord` is the record as a whole, as stored in a
 * repository and written: its `$type` required and exactly the collection's NSID, as the spec has it
 * and as `@atproto/lexicon`'s `assertValidRecord` and the PDS check it. Validating by reference
 * (`validate('app.bsky.feed.post', value)` in a generated `lexicons.ts`) uses `asRecord`.
 */
export class RecordSchema<out T> extends ObjectSchema<T> {
  #asRecord: ObjectSchema<T> | undefined

  get asRecord(): ObjectSchema<T> {
    return (this.#asRecord ??= new ObjectSchema<T>(this.typeId, this.entries, this.options, true))
  }
}

function checkObject<T>(shape: ObjectShape, value: unknown, ctx: CheckContext): T | Fail {
  if (!isPlainObject(value)) return fail(ctx, value, 'object', 'must be an object')
  let failed = false
  const $type = value.$type
  if (
    $type === undefined ? shape.typeRequired : shape.typeIds !== undefined && !shape.typeIds.includes($type as string)
  ) {
    const from = ctx.issues.length
    const expected = JSON.stringify(shape.typeId)
    fail(ctx, $type, expected, $type === undefined ? 'is required' : `must be ${expected}`)
    prefixIssues(ctx, from, '$type')
    failed = true
  }
  let output = value
  for (let i = 0; i < shape.keys.length; i++) {
    const key = shape.keys[i]
    // `constructor`, `toString`, `__proto__`…: a plain object has them all, inherited. Only its own count.
    const child = shape.inherited[i] && !Object.hasOwn(value, key) ? undefined : value[key]
    if (child === undefined) {
      if (shape.defaults[i] !== undefined) {
        if (output === value) output = { ...value }
        setOwn(output, key, shape.defaults[i])
      } else if (shape.required[i]) {
        const from = ctx.issues.length
        fail(ctx, undefined, shape.schemas[i].expects, 'is required')
        prefixIssues(ctx, from, key)
        failed = true
      }
      continue
    }
    if (child === null && shape.nullable[i]) continue
    const from = ctx.issues.length
    const checked = shape.schemas[i].check(child, ctx)
    if (checked === FAIL) {
      prefixIssues(ctx, from, key)
      failed = true
    } else if (checked !== child) {
      if (output === value) output = { ...value }
      setOwn(output, key, checked)
    }
  }
  return failed ? FAIL : (output as T)
}

/** `object[key] = value`, but as an own property even for `__proto__` (whose assignment sets the prototype). */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true })
  else object[key] = value
}

export interface ArrayOptions {
  minLength?: number
  maxLength?: number
}

export class ArraySchema<out T> extends LexSchema<T[]> {
  readonly type = 'array'
  readonly expects = 'array'

  constructor(
    readonly items: LexSchema<T>,
    readonly options: ArrayOptions = {},
  ) {
    super()
  }

  check(value: unknown, ctx: CheckContext): T[] | Fail {
    if (!Array.isArray(value)) return fail(ctx, value, 'array', 'must be an array')
    const { minLength, maxLength } = this.options
    if (maxLength !== undefined && value.length > maxLength)
      return fail(ctx, value, 'array', `must not have more than ${maxLength} items`)
    if (minLength !== undefined && value.length < minLength)
      return fail(ctx, value, 'array', `must not have fewer than ${minLength} items`)
    let output = value
    let failed = false
    for (let i = 0; i < value.length; i++) {
      const from = ctx.issues.length
      const checked = this.items.check(value[i], ctx)
      if (checked === FAIL) {
        prefixIssues(ctx, from, i)
        failed = true
      } else if (checked !== value[i]) {
        if (output === value) output = value.slice()
        output[i] = checked
      }
    }
    return failed ? FAIL : output
  }

  override fast(value: unknown): T[] | Fail {
    this.fast = compileArray(this.items, this.options) ?? ((v) => this.check(v, DISCARD))
    return this.fast(value)
  }
}

/**
 * A `$type`-discriminated union. An open union accepts objects of types it does not know as they
 * are; a closed one refuses them. Members are given as a thunk: unions are where lexicons cycle.
 */
export class UnionSchema<out T> extends LexSchema<T> {
  readonly type = 'union'
  readonly expects = 'object with $type'
  private described: UnionShape | undefined = undefined

  constructor(
    private readonly members: () => readonly ObjectSchema<any>[],
    readonly closed: boolean,
  ) {
    super()
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    const shape = this.shape()
    this.check = (v, c) => checkUnion<T>(shape, v, c)
    return this.check(value, ctx)
  }

  override fast(value: unknown): T | Fail {
    const shape = this.shape()
    this.fast = compileUnion<T>(shape) ?? ((v) => checkUnion<T>(shape, v, DISCARD))
    return this.fast(value)
  }

  private shape(): UnionShape {
    if (this.described !== undefined) return this.described
    const members = this.members()
    const byType = new Map<string, LexSchema<unknown>>()
    for (const member of members) {
      byType.set(member.typeId!, member)
      if (!member.typeId!.includes('#')) byType.set(`${member.typeId}#main`, member)
    }
    return (this.described = { byType, typeIds: members.map((m) => m.typeId!), closed: this.closed })
  }
}

function checkUnion<T>(shape: UnionShape, value: unknown, ctx: CheckContext): T | Fail {
  if (!hasTypeTag(value)) return fail(ctx, value, 'object with $type', 'must be an object with a $type')
  if (nesting.depth >= MAX_NESTING) return tooDeep(ctx, value)
  const member = shape.byType.get(value.$type)
  if (member !== undefined) {
    nesting.depth++
    try {
      return member.check(value, ctx) as T | Fail
    } finally {
      nesting.depth--
    }
  }
  if (!shape.closed) return value as T
  const from = ctx.issues.length
  const { typeIds } = shape
  fail(ctx, value.$type, typeIds.join(' | '), `must be one of ${typeIds.join(', ')}`)
  prefixIssues(ctx, from, '$type')
  return FAIL
}

/** A reference resolved on first use, for refs that are part of a cycle. */
export class LazySchema<out T> extends LexSchema<T> {
  readonly type = 'lazy'
  private target: LexSchema<T> | undefined

  constructor(private readonly resolve: () => LexSchema<T>) {
    super()
  }

  get expects(): string {
    return (this.target ??= this.resolve()).expects
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (nesting.depth >= MAX_NESTING) return tooDeep(ctx, value)
    nesting.depth++
    try {
      return (this.target ??= this.resolve()).check(value, ctx)
    } finally {
      nesting.depth--
    }
  }

  override fast(value: unknown): T | Fail {
    if (nesting.depth >= MAX_NESTING) return FAIL
    nesting.depth++
    try {
      return (this.target ??= this.resolve()).fast(value)
    } finally {
      nesting.depth--
    }
  }
}

/** A fixed string, for refs to a token. */
export class LiteralSchema<T extends string> extends LexSchema<T> {
  readonly type = 'literal'
  readonly expects: string

  constructor(readonly value: T) {
    super()
    this.expects = JSON.stringify(value)
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    return value === this.value ? this.value : fail(ctx, value, this.expects, `must be ${this.expects}`)
  }
}
