import { type CheckFunction, compileArray, compileObject, compileUnion, type ObjectShape } from './compile.js'
import { type CheckContext, type Fail, FAIL, fail, LexSchema, prefixIssues } from './core.js'
import { isPlainObject } from './primitives.js'

/**
 * Object, array, union and (lazy) ref schemas: the structure of lexicon data. Each builds a
 * specialised check on first use (see compile.ts) and keeps a generic one for where it cannot.
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

  constructor(
    /** The lexicon id of this type (`app.bsky.feed.post`, `app.bsky.feed.post#replyRef`), if it has one. */
    readonly typeId: string | undefined,
    readonly entries: Entries,
    readonly options: ObjectOptions = {},
  ) {
    super()
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    const shape = this.shape()
    const check = compileObject<T>(shape) ?? ((v: unknown, c: CheckContext) => checkObject<T>(shape, v, c))
    this.check = check
    return check(value, ctx)
  }

  /** Computed on first use, not at import: most schemas of a big lexicon set are never used. */
  private shape(): ObjectShape {
    const keys = Object.keys(this.entries)
    const schemas = keys.map((key) => this.entries[key])
    const { typeId } = this
    return {
      keys,
      schemas,
      required: keys.map((key) => this.options.required?.includes(key) ?? false),
      nullable: keys.map((key) => this.options.nullable?.includes(key) ?? false),
      defaults: schemas.map((schema) => (schema as { default?: unknown }).default),
      typeIds: typeId === undefined ? undefined : typeId.includes('#') ? [typeId] : [typeId, `${typeId}#main`],
      typeId,
    }
  }
}

function checkObject<T>(shape: ObjectShape, value: unknown, ctx: CheckContext): T | Fail {
  if (!isPlainObject(value)) return fail(ctx, value, 'object', 'must be an object')
  let failed = false
  const $type = value.$type
  if ($type !== undefined && shape.typeIds !== undefined && !shape.typeIds.includes($type as string)) {
    const from = ctx.issues.length
    fail(ctx, $type, JSON.stringify(shape.typeId), `must be ${JSON.stringify(shape.typeId)}`)
    prefixIssues(ctx, from, '$type')
    failed = true
  }
  let output = value
  for (let i = 0; i < shape.keys.length; i++) {
    const key = shape.keys[i]
    const child = value[key]
    if (child === undefined) {
      if (shape.defaults[i] !== undefined) {
        if (output === value) output = { ...value }
        output[key] = shape.defaults[i]
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
      output[key] = checked
    }
  }
  return failed ? FAIL : (output as T)
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
    const { minLength, maxLength } = this.options
    const check =
      compileArray(this.items, minLength, maxLength) ?? ((v: unknown, c: CheckContext) => this.checkGeneric(v, c))
    this.check = check
    return check(value, ctx)
  }

  private checkGeneric(value: unknown, ctx: CheckContext): T[] | Fail {
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
}

/**
 * A `$type`-discriminated union. An open union accepts objects of types it does not know as they
 * are; a closed one refuses them. Members are given as a thunk: unions are where lexicons cycle.
 */
export class UnionSchema<out T> extends LexSchema<T> {
  readonly type = 'union'
  readonly expects = 'object with $type'

  constructor(
    private readonly members: () => readonly ObjectSchema<any>[],
    readonly closed: boolean,
  ) {
    super()
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    const byType = new Map<string, LexSchema<unknown>>()
    for (const member of this.members()) {
      byType.set(member.typeId!, member)
      if (!member.typeId!.includes('#')) byType.set(`${member.typeId}#main`, member)
    }
    const unmatched = this.closed ? closedUnionMiss<T>(this.members().map((m) => m.typeId!)) : (v: unknown) => v as T
    const check = compileUnion(byType, unmatched) ?? checkUnionGeneric(byType, unmatched)
    this.check = check
    return check(value, ctx)
  }
}

function checkUnionGeneric<T>(
  byType: ReadonlyMap<string, LexSchema<unknown>>,
  unmatched: CheckFunction<T>,
): CheckFunction<T> {
  return (value, ctx) => {
    if (!isPlainObject(value) || typeof value.$type !== 'string' || value.$type === '') {
      return fail(ctx, value, 'object with $type', 'must be an object with a $type')
    }
    const member = byType.get(value.$type)
    return member !== undefined ? (member.check(value, ctx) as T | Fail) : unmatched(value, ctx)
  }
}

function closedUnionMiss<T>(typeIds: string[]): CheckFunction<T> {
  return (value, ctx) => {
    const from = ctx.issues.length
    fail(ctx, (value as { $type: string }).$type, typeIds.join(' | '), `must be one of ${typeIds.join(', ')}`)
    prefixIssues(ctx, from, '$type')
    return FAIL
  }
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
    return (this.target ??= this.resolve()).check(value, ctx)
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
