import { type CheckContext, type Fail, FAIL, fail, type LexSchema, prefixIssues } from './core.js'

/**
 * Specialised check functions for objects, arrays and unions, built once per schema on first use.
 * With each property read by a constant key and each child check called from its own call site,
 * V8 keeps every access monomorphic and inlines child checks: about 2x faster than one generic
 * loop shared by all schemas. Where `new Function` is forbidden (a strict Content Security Policy),
 * `compile` returns undefined and schemas keep their generic loops, which behave the same.
 */

export type CheckFunction<T> = (value: unknown, ctx: CheckContext) => T | Fail

/** Whether schemas compile their checks; off where eval is forbidden (and in tests of the generic path). */
export const compilation = {
  enabled: (() => {
    try {
      return new Function('return true')() === true
    } catch {
      return false
    }
  })(),
}

const helpers = { FAIL, fail, prefixIssues }

function compile<T>(name: string, body: string, bindings: Record<string, unknown>): CheckFunction<T> | undefined {
  if (!compilation.enabled) return undefined
  const all = { ...helpers, ...bindings }
  const names = Object.keys(all)
  // Bindings become closure constants of the check function.
  const factory = new Function(...names, `return function ${name}(value, ctx) {\n${body}\n}`)
  return factory(...names.map((n) => all[n as keyof typeof all])) as CheckFunction<T>
}

const key = (name: string): string => JSON.stringify(name)

export interface ObjectShape {
  keys: readonly string[]
  schemas: readonly LexSchema<unknown>[]
  required: readonly boolean[]
  nullable: readonly boolean[]
  defaults: readonly unknown[]
  typeIds: readonly string[] | undefined
  typeId: string | undefined
}

export function compileObject<T>(shape: ObjectShape): CheckFunction<T> | undefined {
  // A `__proto__` key would need defineProperty on copies; such lexicons keep the generic loop.
  if (shape.keys.includes('__proto__')) return undefined
  const lines = [
    `if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(ctx, value, 'object', 'must be an object')`,
    'let output = value, failed = false, child, checked, from',
  ]
  if (shape.typeIds) {
    const accepted = shape.typeIds.map((id) => `child !== ${key(id)}`).join(' && ')
    const expected = key(JSON.stringify(shape.typeId))
    lines.push(
      `child = value.$type`,
      `if (child !== undefined && ${accepted}) { from = ctx.issues.length; fail(ctx, child, ${expected}, ${key(`must be ${JSON.stringify(shape.typeId)}`)}); prefixIssues(ctx, from, '$type'); failed = true }`,
    )
  }
  shape.keys.forEach((name, i) => {
    const k = key(name)
    lines.push(`child = value[${k}]`)
    if (shape.defaults[i] !== undefined) {
      lines.push(`if (child === undefined) { if (output === value) output = { ...value }; output[${k}] = d${i} }`)
    } else if (shape.required[i]) {
      lines.push(
        `if (child === undefined) { from = ctx.issues.length; fail(ctx, undefined, s${i}.expects, 'is required'); prefixIssues(ctx, from, ${k}); failed = true }`,
      )
    } else {
      lines.push('if (child === undefined) {}')
    }
    if (shape.nullable[i]) lines.push('else if (child === null) {}')
    lines.push(
      `else { from = ctx.issues.length; checked = s${i}.check(child, ctx); if (checked === FAIL) { prefixIssues(ctx, from, ${k}); failed = true } else if (checked !== child) { if (output === value) output = { ...value }; output[${k}] = checked } }`,
    )
  })
  lines.push('return failed ? FAIL : output')
  const bindings: Record<string, unknown> = {}
  shape.schemas.forEach((schema, i) => (bindings[`s${i}`] = schema))
  shape.defaults.forEach((value, i) => (bindings[`d${i}`] = value))
  return compile<T>('checkObject', lines.join('\n'), bindings)
}

export function compileArray<T>(
  items: LexSchema<T>,
  minLength?: number,
  maxLength?: number,
): CheckFunction<T[]> | undefined {
  const lines = [`if (!Array.isArray(value)) return fail(ctx, value, 'array', 'must be an array')`]
  if (maxLength !== undefined) {
    lines.push(
      `if (value.length > ${maxLength}) return fail(ctx, value, 'array', ${key(`must not have more than ${maxLength} items`)})`,
    )
  }
  if (minLength !== undefined) {
    lines.push(
      `if (value.length < ${minLength}) return fail(ctx, value, 'array', ${key(`must not have fewer than ${minLength} items`)})`,
    )
  }
  lines.push(
    'let output = value, failed = false',
    'for (let i = 0; i < value.length; i++) {',
    '  const child = value[i], from = ctx.issues.length, checked = items.check(child, ctx)',
    '  if (checked === FAIL) { prefixIssues(ctx, from, i); failed = true }',
    '  else if (checked !== child) { if (output === value) output = value.slice(); output[i] = checked }',
    '}',
    'return failed ? FAIL : output',
  )
  return compile<T[]>('checkArray', lines.join('\n'), { items })
}

/** Dispatch on `$type` to each member's own call site; what is left is for `unmatched`. */
export function compileUnion<T>(
  byType: ReadonlyMap<string, LexSchema<unknown>>,
  unmatched: CheckFunction<T>,
): CheckFunction<T> | undefined {
  const members = [...new Set(byType.values())]
  const cases = [...byType].map(
    ([type, schema]) => `case ${key(type)}: return m${members.indexOf(schema)}.check(value, ctx)`,
  )
  const body = [
    `if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof value.$type !== 'string' || value.$type === '') return fail(ctx, value, 'object with $type', 'must be an object with a $type')`,
    `switch (value.$type) {`,
    ...cases,
    `}`,
    'return unmatched(value, ctx)',
  ].join('\n')
  const bindings: Record<string, unknown> = { unmatched }
  members.forEach((schema, i) => (bindings[`m${i}`] = schema))
  return compile<T>('checkUnion', body, bindings)
}
