import { type CheckContext, type Fail, FAIL, fail, LexSchema, prefixIssues } from './core.js'
import { isPlainObject } from './primitives.js'

/** Object, array, union and (lazy) ref schemas: the structure of lexicon data. */

type Entries = Readonly<Record<string, LexSchema<unknown>>>

export interface ObjectOptions {
  required?: readonly string[]
  nullable?: readonly string[]
}

/**
 * A lexicon object, record or params. Unknown properties pass through (lexicons evolve). The input
 * itself is returned unless a default was filled in, in which case it is copied once.
 */
export class ObjectSchema<T> extends LexSchema<T> {
  readonly type = 'object'
  readonly expects = 'object'
  private readonly keys: string[]
  private readonly schemas: LexSchema<unknown>[]
  private readonly required: boolean[]
  private readonly nullable: boolean[]
  private readonly defaults: unknown[]
  /** `$type` this object accepts, if any: its own id, and for a main def also `nsid#main`. */
  private readonly typeIds: readonly string[] | undefined

  constructor(
    /** The lexicon id of this type (`app.bsky.feed.post`, `app.bsky.feed.post#replyRef`), if it has one. */
    readonly typeId: string | undefined,
    readonly entries: Entries,
    options: ObjectOptions = {},
  ) {
    super()
    this.keys = Object.keys(entries)
    this.schemas = this.keys.map((key) => entries[key])
    this.required = this.keys.map((key) => options.required?.includes(key) ?? false)
    this.nullable = this.keys.map((key) => options.nullable?.includes(key) ?? false)
    this.defaults = this.schemas.map((schema) => (schema as { default?: unknown }).default)
    this.typeIds = typeId === undefined ? undefined : typeId.includes('#') ? [typeId] : [typeId, `${typeId}#main`]
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (!isPlainObject(value)) return fail(ctx, value, 'object', 'must be an object')
    let failed = false
    const $type = value.$type
    if ($type !== undefined && this.typeIds !== undefined && !this.typeIds.includes($type as string)) {
      const from = ctx.issues.length
      fail(ctx, $type, JSON.stringify(this.typeId), `must be ${JSON.stringify(this.typeId)}`)
      prefixIssues(ctx, from, '$type')
      failed = true
    }
    let output = value
    const { keys, schemas } = this
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const child = value[key]
      if (child === undefined) {
        if (this.defaults[i] !== undefined) {
          if (output === value) output = { ...value }
          output[key] = this.defaults[i]
        } else if (this.required[i]) {
          const from = ctx.issues.length
          fail(ctx, undefined, schemas[i].expects, 'is required')
          prefixIssues(ctx, from, key)
          failed = true
        }
        continue
      }
      if (child === null && this.nullable[i]) continue
      const from = ctx.issues.length
      const checked = schemas[i].check(child, ctx)
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
}

export interface ArrayOptions {
  minLength?: number
  maxLength?: number
}

export class ArraySchema<T> extends LexSchema<T[]> {
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
    if (maxLength !== undefined && value.length > maxLength) return fail(ctx, value, 'array', `must not have more than ${maxLength} items`)
    if (minLength !== undefined && value.length < minLength) return fail(ctx, value, 'array', `must not have fewer than ${minLength} items`)
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
export class UnionSchema<T> extends LexSchema<T> {
  readonly type = 'union'
  readonly expects: string = 'object with $type'
  private byType: Map<string, LexSchema<unknown>> | undefined

  constructor(
    private readonly members: () => readonly ObjectSchema<unknown>[],
    readonly closed: boolean,
  ) {
    super()
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (!isPlainObject(value) || typeof value.$type !== 'string') {
      return fail(ctx, value, this.expects, 'must be an object with a $type')
    }
    const member = (this.byType ??= this.index()).get(value.$type)
    if (member !== undefined) return member.check(value, ctx) as T | Fail
    if (!this.closed) return value as T
    const from = ctx.issues.length
    const names = this.members().map((member) => member.typeId!)
    fail(ctx, value.$type, names.join(' | '), `must be one of ${names.join(', ')}`)
    prefixIssues(ctx, from, '$type')
    return FAIL
  }

  private index(): Map<string, LexSchema<unknown>> {
    const byType = new Map<string, LexSchema<unknown>>()
    for (const member of this.members()) {
      byType.set(member.typeId!, member)
      if (!member.typeId!.includes('#')) byType.set(`${member.typeId}#main`, member)
    }
    return byType
  }
}

/** A reference resolved on first use, for refs that are part of a cycle. */
export class LazySchema<T> extends LexSchema<T> {
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
