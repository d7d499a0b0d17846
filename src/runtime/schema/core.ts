import type {
  IssuePathItem,
  LexIssue,
  OutputDataset,
  StandardProps,
  UnknownDataset,
  ValibotConfig,
  ValibotSchema,
} from './valibot-shape.js'

export type { LexIssue } from './valibot-shape.js'

/**
 * The base of every generated schema. Schemas are valibot schemas (they implement valibot's
 * `BaseSchema`, so `v.parse`, `v.safeParse` and `v.pipe` accept them, and Standard Schema v1),
 * but they check through their own code, which allocates nothing on success and returns the input
 * itself unless a lexicon default had to be filled in. Valibot's own object and array schemas copy
 * every value they parse, which measured ~4x slower on a post with facets and a reply.
 *
 * One validation engine, two entries:
 * - `check(value, ctx)`, the interpreter, owns every rule, message and issue path.
 * - `fast(value)`, the fast path, only decides: the output (as `check` returns it) or FAIL, with
 *   no reasons. Objects, arrays and unions compile it from the same description their `check`
 *   reads (compile.ts); every other schema's `fast` is its `check` with a context that keeps
 *   nothing. On FAIL, `validate`, `~run` and `~standard` run `check` for the reasons: failure is
 *   the rare case, and it is the interpreter that has the last word.
 */

/** Returned by `check()` and `fast()` on failure; `check()` adds the reasons to `ctx.issues`. */
export const FAIL: unique symbol = Symbol('lex.fail')
export type Fail = typeof FAIL

export type PathKey = string | number

/**
 * How deep checks are nested in unions and lazy refs, and how deep they may be. Lexicons cycle
 * only through those two (a thread's `parent` is a union of thread views, a lazy ref closes any
 * other cycle), so counting there bounds the recursion of both paths: a hostile server can nest
 * a thread 10,000 parents deep, which overflowed the stack (a raw RangeError). Past the limit a
 * value is refused with an issue, "nested too deeply", alike on both paths.
 *
 * A counter rather than only catching the RangeError: where the stack runs out depends on the
 * path (the compiled one inlines, and went 6x deeper than the interpreter, so their verdicts would
 * differ in between), on whether the code is optimised yet, and on how deep the caller already
 * is; a counter gives one answer everywhere. The limit is above real data (the AppView nests at
 * most 1,000 parents or replies, `getPostThread`'s maximum) and below where the interpreter's
 * stack ends on Node's default stack (~1,500 thread levels before its code is optimised, ~2,500
 * after). Below the limit, a cycle with heavier levels than a thread's or a caller already deep in
 * the stack can still run out first: `validate` then reports the same issue (see `outOfStack`).
 */
export const nesting = { depth: 0 }
export const MAX_NESTING = 1200

const TOO_DEEP = `is nested too deeply (more than ${MAX_NESTING} levels)`

export function tooDeep(ctx: CheckContext, input: unknown): Fail {
  return fail(ctx, input, `at most ${MAX_NESTING} levels`, TOO_DEEP)
}

/** Whether `error` is the stack running out (a RangeError in V8 and WebKit, an InternalError in Firefox), else rethrows it. */
function outOfStack(error: unknown): true {
  if (error instanceof RangeError || (error instanceof Error && error.name === 'InternalError')) return true
  throw error
}

/** A failure as collected during a check. Paths are built as the failure unwinds, so success costs nothing. */
export interface RawIssue {
  path: PathKey[]
  message: string
  expected: string
  input: unknown
}

export class CheckContext {
  readonly issues: RawIssue[] = []
}

/** The context of the fast path: `fail` keeps nothing in it, so checks run in it only decide. */
export const DISCARD: CheckContext = new CheckContext()

export function fail(ctx: CheckContext, input: unknown, expected: string, message: string): Fail {
  if (ctx !== DISCARD) ctx.issues.push({ path: [], message, expected, input })
  return FAIL
}

/** Prefixes with `key` the issues a child check added since `from`. */
export function prefixIssues(ctx: CheckContext, from: number, key: PathKey): void {
  for (let i = from; i < ctx.issues.length; i++) ctx.issues[i].path.unshift(key)
}

/** A problem found by `validate`, with the JSON path of the offending value (`reply.root.uri`, `facets[0].index`). */
export interface ValidationIssue {
  path: string
  message: string
}

export type ValidationResult<T> = { success: true; value: T } | { success: false; issues: ValidationIssue[] }

export abstract class LexSchema<out T> implements ValibotSchema<T> {
  readonly kind = 'schema' as const
  readonly async = false as const
  abstract readonly type: string
  abstract readonly expects: string
  declare readonly '~types'?: { readonly input: unknown; readonly output: T; readonly issue: LexIssue }

  /**
   * The interpreter: checks `value`; returns it (or a copy with defaults filled in) or FAIL with
   * the issues added to `ctx`. The one place with the rules' messages and the issues' paths.
   */
  abstract check(value: unknown, ctx: CheckContext): T | Fail

  /**
   * The fast path: what `check` returns, or FAIL without the reasons (run `check` for those).
   * Here, `check` in a context that keeps no issues; objects, arrays and unions replace it with
   * compiled code on first use.
   */
  fast(value: unknown): T | Fail {
    return this.check(value, DISCARD)
  }

  get reference(): (...args: any[]) => ValibotSchema<unknown> {
    return () => this
  }

  '~run'(dataset: UnknownDataset, config: ValibotConfig): OutputDataset<T> {
    const ctx = new CheckContext()
    const input = dataset.value
    const output = run(this, input, ctx)
    const result = dataset as { typed: boolean; value: unknown; issues?: LexIssue[] }
    if (output === FAIL) {
      result.typed = false
      result.issues = ctx.issues.map((issue) => toValibotIssue(issue, input, config))
    } else {
      result.typed = true
      result.value = output
    }
    return result as OutputDataset<T>
  }

  get '~standard'(): StandardProps<T> {
    return {
      version: 1,
      // Standard Schema's vendor names the library that made the schema: this one. Valibot's
      // `StandardProps`, which its `BaseSchema` requires (and so `v.parse` and `v.safeParse` accept
      // only schemas with it), types the vendor as the literal 'valibot', though its runtime never
      // reads it. The cast keeps these schemas valibot schemas to the compiler; the value is ours.
      vendor: VENDOR as StandardProps<T>['vendor'],
      validate: (value: unknown) => {
        const ctx = new CheckContext()
        const output = run(this, value, ctx)
        if (output !== FAIL) return { value: output }
        return {
          issues: ctx.issues.map((issue) => ({ message: issue.message, path: issue.path.map((key) => ({ key })) })),
        }
      },
    }
  }
}

/** The Standard Schema vendor of these schemas. */
const VENDOR = 'blueskysdk'

/**
 * The fast path, then on failure the interpreter for the reasons (into `ctx`). The interpreter's
 * verdict stands: were the two ever to disagree, its output is returned.
 */
function run<T>(schema: LexSchema<T>, value: unknown, ctx: CheckContext): T | Fail {
  try {
    const output = schema.fast(value)
    return output !== FAIL ? output : schema.check(value, ctx)
  } catch (error) {
    outOfStack(error)
    ctx.issues.length = 0
    return tooDeep(ctx, value)
  }
}

// Checks are synchronous and never call back into `validate`, so one context serves every call.
const sharedContext = new CheckContext()

/** Validates `value` against `schema`: `{ success: true, value }` or `{ success: false, issues }`. */
export function validate<T>(schema: LexSchema<T>, value: unknown): ValidationResult<T> {
  try {
    const output = schema.fast(value)
    if (output !== FAIL) return { success: true, value: output }
    return interpret(schema, value, sharedContext)
  } catch (error) {
    outOfStack(error)
    sharedContext.issues.length = 0
    return { success: false, issues: [{ path: '', message: TOO_DEEP }] }
  }
}

/**
 * Validates with the interpreter alone, never the fast path: for tests that hold the two to the
 * same verdicts and outputs. Internal (not exported from the package's entry points).
 */
export function checkWithInterpreter<T>(schema: LexSchema<T>, value: unknown): ValidationResult<T> {
  return interpret(schema, value, new CheckContext())
}

function interpret<T>(schema: LexSchema<T>, value: unknown, ctx: CheckContext): ValidationResult<T> {
  if (ctx.issues.length !== 0) ctx.issues.length = 0 // a check threw (a hostile getter) and left issues behind
  const output = schema.check(value, ctx)
  if (output !== FAIL) return { success: true, value: output }
  const issues = ctx.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))
  ctx.issues.length = 0
  return { success: false, issues }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** `['facets', 0, 'index']` → `facets[0].index`; keys that are not identifiers are quoted. */
export function formatPath(path: readonly PathKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (IDENTIFIER.test(key)) out += out ? `.${key}` : key
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}

function toValibotIssue(issue: RawIssue, root: unknown, config: ValibotConfig): LexIssue {
  // Valibot path items carry the parent and child values; walk the input to recover them.
  const path: IssuePathItem[] = []
  let parent: any = root
  for (const key of issue.path) {
    const value = parent?.[key]
    path.push(
      typeof key === 'number'
        ? { type: 'array', origin: 'value', input: parent, key, value }
        : { type: 'object', origin: 'value', input: parent, key, value },
    )
    parent = value
  }
  return {
    kind: 'schema',
    type: 'lexicon',
    input: issue.input,
    expected: issue.expected,
    received: describe(issue.input),
    message: issue.message,
    path: path.length ? (path as [IssuePathItem, ...IssuePathItem[]]) : undefined,
    lang: config.lang,
    abortEarly: config.abortEarly,
    abortPipeEarly: config.abortPipeEarly,
  }
}

/** The kind of a value, never its content: inputs may hold passwords or tokens. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}
