import type { ArrayOptions } from './composites.js'
import { DISCARD, FAIL, type Fail, LexSchema, MAX_NESTING, nesting } from './core.js'
import { hasTypeTag, isPlainObject } from './primitives.js'

/**
 * The fast path of objects, arrays and unions: a function built once per schema on first use that
 * only decides (the output, or FAIL) and knows no message and no path; the schema's `check`, the
 * interpreter, gives the reasons when it fails. Both read the same description of the schema (its
 * shape below) and the same predicates (`isPlainObject`, `hasTypeTag`), so no rule is written twice.
 *
 * With each property read by a constant key and each child called from its own call site, V8 keeps
 * every access monomorphic and inlines child checks: about 2x faster than one generic loop shared
 * by all schemas. Where `new Function` is forbidden (a strict Content Security Policy), `compile`
 * returns undefined and the fast path is the interpreter itself, in a context that keeps no issues.
 */

export type FastFunction<T> = (value: unknown) => T | Fail

/** Whether schemas compile their fast path; off where eval is forbidden (and in tests of the generic path). */
export const compilation = {
  enabled: (() => {
    try {
      return new Function('return true')() === true
    } catch {
      return false
    }
  })(),
}

const helpers = { FAIL, DISCARD, isPlainObject, hasTypeTag, nesting }

function compile<T>(name: string, body: string, bindings: Record<string, unknown>): FastFunction<T> | undefined {
  if (!compilation.enabled) return undefined
  const all = { ...helpers, ...bindings }
  const names = Object.keys(all)
  // Bindings become closure constants of the function.
  const factory = new Function(...names, `return function ${name}(value) {\n${body}\n}`)
  return factory(...names.map((n) => all[n as keyof typeof all])) as FastFunction<T>
}

const key = (name: string): string => JSON.stringify(name)

/**
 * A call to `schema`'s fast path on `arg`. A schema without its own (a primitive: its `fast` is its
 * `check` in the discarding context) is called as that directly, so that each call site of the
 * generated code dispatches on one class and V8 inlines the check there.
 */
function fastCall(schema: LexSchema<unknown>, binding: string, arg: string): string {
  return schema.fast === LexSchema.prototype.fast ? `${binding}.check(${arg}, DISCARD)` : `${binding}.fast(${arg})`
}

/** An object schema, described once; its interpreter and its compiled fast path both read this. */
export interface ObjectShape {
  keys: readonly string[]
  schemas: readonly LexSchema<unknown>[]
  required: readonly boolean[]
  /** Keys every plain object inherits (`constructor`, `toString`…), read only when the object's own. */
  inherited: readonly boolean[]
  nullable: readonly boolean[]
  defaults: readonly unknown[]
  /** The `$type` values accepted on the object (its own type, with or without `#main`), if it has a type. */
  typeIds: readonly string[] | undefined
  /** Whether `$type` must be there (a whole record's). */
  typeRequired: boolean
  typeId: string | undefined
}

export function compileObject<T>(shape: ObjectShape): FastFunction<T> | undefined {
  // A `__proto__` key would need defineProperty on copies; such lexicons keep the interpreter.
  if (shape.keys.includes('__proto__')) return undefined
  const lines = ['if (!isPlainObject(value)) return FAIL', 'let output = value, child, checked']
  if (shape.typeIds) {
    const accepted = shape.typeIds.map((id) => `child !== ${key(id)}`).join(' && ')
    // Required, a missing `$type` (undefined) is one of those not accepted.
    lines.push(
      'child = value.$type',
      `if (${shape.typeRequired ? '' : 'child !== undefined && '}${accepted}) return FAIL`,
    )
  }
  shape.keys.forEach((name, i) => {
    const k = key(name)
    lines.push(shape.inherited[i] ? `child = hasOwn(value, ${k}) ? value[${k}] : undefined` : `child = value[${k}]`)
    if (shape.defaults[i] !== undefined) {
      lines.push(`if (child === undefined) { if (output === value) output = { ...value }; output[${k}] = d${i} }`)
    } else if (shape.required[i]) {
      lines.push('if (child === undefined) return FAIL')
    } else {
      lines.push('if (child === undefined) {}')
    }
    if (shape.nullable[i]) lines.push('else if (child === null) {}')
    lines.push(
      `else { checked = ${fastCall(shape.schemas[i], `s${i}`, 'child')}; if (checked === FAIL) return FAIL; if (checked !== child) { if (output === value) output = { ...value }; output[${k}] = checked } }`,
    )
  })
  lines.push('return output')
  const bindings: Record<string, unknown> = { hasOwn: Object.hasOwn }
  shape.schemas.forEach((schema, i) => (bindings[`s${i}`] = schema))
  shape.defaults.forEach((value, i) => (bindings[`d${i}`] = value))
  return compile<T>('fastObject', lines.join('\n'), bindings)
}

export function compileArray<T>(
  items: LexSchema<T>,
  { minLength, maxLength }: ArrayOptions,
): FastFunction<T[]> | undefined {
  const lines = ['if (!Array.isArray(value)) return FAIL']
  if (maxLength !== undefined) lines.push(`if (value.length > ${maxLength}) return FAIL`)
  if (minLength !== undefined) lines.push(`if (value.length < ${minLength}) return FAIL`)
  lines.push(
    'let output = value',
    'for (let i = 0; i < value.length; i++) {',
    `  const child = value[i], checked = ${fastCall(items, 'items', 'child')}`,
    '  if (checked === FAIL) return FAIL',
    '  if (checked !== child) { if (output === value) output = value.slice(); output[i] = checked }',
    '}',
    'return output',
  )
  return compile<T[]>('fastArray', lines.join('\n'), { items })
}

/** A union schema, described once; its interpreter and its compiled fast path both read this. */
export interface UnionShape {
  /** Each member by the `$type` values it is chosen for (its type, and `type#main` for a main def). */
  byType: ReadonlyMap<string, LexSchema<unknown>>
  /** The members' types, in order. */
  typeIds: readonly string[]
  /** Whether a `$type` that no member has is refused (closed) or the value accepted as it is (open). */
  closed: boolean
}

/** Dispatch on `$type` to each member's own call site, one level deeper (see `nesting` in core.ts). */
export function compileUnion<T>(shape: UnionShape): FastFunction<T> | undefined {
  const members = [...new Set(shape.byType.values())]
  const cases = [...shape.byType].map(
    ([type, schema]) => `case ${key(type)}: return ${fastCall(schema, `m${members.indexOf(schema)}`, 'value')}`,
  )
  const body = [
    'if (!hasTypeTag(value)) return FAIL',
    `if (nesting.depth >= ${MAX_NESTING}) return FAIL`,
    'nesting.depth++',
    'try {',
    'switch (value.$type) {',
    ...cases,
    '}',
    '} finally { nesting.depth-- }',
    shape.closed ? 'return FAIL' : 'return value',
  ].join('\n')
  const bindings: Record<string, unknown> = {}
  members.forEach((schema, i) => (bindings[`m${i}`] = schema))
  return compile<T>('fastUnion', body, bindings)
}
