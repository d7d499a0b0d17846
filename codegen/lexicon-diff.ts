import { jsonPath } from './errors.js'
import type { LexiconDocument } from './lexicon-document.js'

/**
 * Classifies the changes between two sets of lexicon documents by the spec's evolution rules
 * (atproto.com/specs/lexicon#lexicon-evolution): "all old data must still be valid under the updated
 * Lexicon, and new data must be valid under the old Lexicon"; the NSID's authority may change a
 * lexicon only within those bounds, anything more needs a new NSID.
 *
 * The spec states the rule for data whether it is written or read, so constraints are judged the same
 * way everywhere: a tightening in a query's output is as breaking as one in a record (old data, or an
 * old server's answers, would fail the new lexicon). A relaxation is reported as compatible: what
 * exists stays valid and code generated from the old lexicon still compiles. Software still on the old
 * lexicon may reject new data that uses the room, which is why every relaxation is listed. What a
 * field may be absent or null is not a mere constraint: a field made optional or nullable is breaking,
 * as code that reads it relies on it (the spec: non-optional fields can not be removed).
 */

const KINDS = {
  'document-removed': { breaking: true, rule: 'document removed' },
  'def-removed': { breaking: true, rule: 'def removed' },
  'type-changed': { breaking: true, rule: 'type changed' },
  'field-removed': { breaking: true, rule: 'field removed' },
  'required-field-added': { breaking: true, rule: 'required field added' },
  'field-made-required': { breaking: true, rule: 'optional field made required' },
  'field-made-optional': { breaking: true, rule: 'required field made optional' },
  'nullable-removed': { breaking: true, rule: 'nullable removed' },
  'nullable-added': { breaking: true, rule: 'nullable added' },
  'constraint-tightened': { breaking: true, rule: 'constraint tightened' },
  // Readers of a value without the field see the default: another one changes what they read.
  'default-changed': { breaking: true, rule: 'default changed' },
  'record-key-changed': { breaking: true, rule: 'record key type changed' },
  'union-closed': { breaking: true, rule: 'union made closed' },
  // A closed union's readers handle every member it names; opening it or adding one lets in others.
  'union-opened': { breaking: true, rule: 'closed union made open' },
  'closed-union-ref-added': { breaking: true, rule: 'closed union gained a ref' },
  'union-ref-removed': { breaking: true, rule: 'union lost a ref' },
  'ref-retargeted': { breaking: true, rule: 'ref retargeted' },
  // Callers of the old lexicon do not send it.
  'input-added': { breaking: true, rule: 'input added' },
  'body-removed': { breaking: true, rule: 'input or output removed' },
  'encoding-changed': { breaking: true, rule: 'encoding changed' },
  // A body of any content became a typed one, or the other way round: a type change.
  'schema-added': { breaking: true, rule: 'schema added' },
  'schema-removed': { breaking: true, rule: 'schema removed' },
  // Callers handle declared errors by name (the generated code has a class for each).
  'error-removed': { breaking: true, rule: 'declared error removed' },
  'permission-removed': { breaking: true, rule: 'permission removed' },

  'document-added': { breaking: false, rule: 'document added' },
  'def-added': { breaking: false, rule: 'def added' },
  'field-added': { breaking: false, rule: 'optional field added' },
  'output-added': { breaking: false, rule: 'output added' },
  'constraint-relaxed': { breaking: false, rule: 'constraint relaxed' },
  'default-added': { breaking: false, rule: 'default added' },
  // knownValues never constrain a value: they are suggestions.
  'known-value-added': { breaking: false, rule: 'knownValues entry added' },
  'known-value-removed': { breaking: false, rule: 'knownValues entry removed' },
  'union-ref-added': { breaking: false, rule: 'open union gained a ref' },
  'error-added': { breaking: false, rule: 'error added' },
  'permission-added': { breaking: false, rule: 'permission added' },
  'description-changed': { breaking: false, rule: 'description changed' },
  // Fields the lexicon language does not validate by (`revision`, an error's description, newer extras).
  'other-changed': { breaking: false, rule: 'changed, not a validation rule' },
} as const satisfies Record<string, { breaking: boolean; rule: string }>

export type LexiconChangeKind = keyof typeof KINDS

/** Every kind of change, whether it breaks, and its rule in words. */
export const LEXICON_CHANGE_KINDS: Readonly<Record<LexiconChangeKind, { breaking: boolean; rule: string }>> = KINDS

export interface LexiconChange {
  kind: LexiconChangeKind
  breaking: boolean
  /** The evolution rule, in words: `constraint tightened`. */
  rule: string
  nsid: string
  /** Where in the document, as a JSON path: `$.defs.main.record.properties.text.maxLength`. */
  path: string
  /** NSID, def and path together: `com.example.note#main.record.properties.text.maxLength`. */
  location: string
  /** The value before and after (a type name for a def or field added or removed); absent for none. */
  before?: unknown
  after?: unknown
}

type Key = string | number
type Node = Record<string, unknown>

/** Every change from `before` to `after`, documents by id in order; documents are matched by id, defs and fields by name. */
export function diffLexicons(before: Iterable<LexiconDocument>, after: Iterable<LexiconDocument>): LexiconChange[] {
  const old = new Map([...before].map((doc) => [doc.id, doc]))
  const next = new Map([...after].map((doc) => [doc.id, doc]))
  const changes: LexiconChange[] = []
  for (const id of [...new Set([...old.keys(), ...next.keys()])].sort()) {
    const a = old.get(id)
    const b = next.get(id)
    const differ = new Differ(id, changes)
    if (!b) differ.add('document-removed', [])
    else if (!a) differ.add('document-added', [])
    // Parsed documents are loose (they keep fields newer than the generator): compared as plain JSON.
    else differ.document(a as unknown as Node, b as unknown as Node)
  }
  return changes
}

/** Keys each type's comparison looks at; any other key that differs is `other-changed`. */
const HANDLED: Record<string, readonly string[]> = {
  boolean: ['default', 'const'],
  integer: ['default', 'const', 'enum', 'minimum', 'maximum'],
  string: [
    'default',
    'const',
    'enum',
    'knownValues',
    'format',
    'minLength',
    'maxLength',
    'minGraphemes',
    'maxGraphemes',
  ],
  bytes: ['minLength', 'maxLength'],
  blob: ['accept', 'maxSize'],
  array: ['items', 'minLength', 'maxLength'],
  object: ['properties', 'required', 'nullable'],
  params: ['properties', 'required'],
  ref: ['ref'],
  union: ['refs', 'closed'],
  record: ['key', 'record'],
  query: ['parameters', 'output', 'errors'],
  procedure: ['parameters', 'input', 'output', 'errors'],
  subscription: ['parameters', 'message', 'errors'],
  'permission-set': ['permissions'],
}
const ALWAYS_HANDLED = ['type', 'description']

const UPPER_BOUNDS = new Set(['maxLength', 'maxGraphemes', 'maximum', 'maxSize'])
const LOWER_BOUNDS = new Set(['minLength', 'minGraphemes', 'minimum'])

class Differ {
  constructor(
    readonly nsid: string,
    readonly changes: LexiconChange[],
  ) {}

  add(kind: LexiconChangeKind, keys: readonly Key[], before?: unknown, after?: unknown): void {
    const { breaking, rule } = KINDS[kind]
    const [first, def, ...rest] = keys
    const location =
      first === 'defs'
        ? `${this.nsid}#${def}${jsonPath(rest).slice(1)}`
        : keys.length
          ? `${this.nsid} ${jsonPath(keys)}`
          : this.nsid
    const change: LexiconChange = { kind, breaking, rule, nsid: this.nsid, path: jsonPath(keys), location }
    if (before !== undefined) change.before = before
    if (after !== undefined) change.after = after
    this.changes.push(change)
  }

  document(a: Node, b: Node): void {
    this.others([], a, b, ['lexicon', 'id', 'defs', 'description'])
    this.description([], a.description, b.description)
    const defsA = entries(a.defs as Record<string, Node>)
    const defsB = entries(b.defs as Record<string, Node>)
    for (const [name, defA] of defsA) {
      const defB = defsB.get(name)
      if (defB) this.node(['defs', name], defA, defB)
      else this.add('def-removed', ['defs', name], defA.type)
    }
    for (const [name, defB] of defsB) if (!defsA.has(name)) this.add('def-added', ['defs', name], undefined, defB.type)
  }

  /** Any def or field, nested ones by recursion. */
  node(keys: Key[], a: Node, b: Node): void {
    if (a.type !== b.type) return this.add('type-changed', [...keys, 'type'], a.type, b.type)
    const type = a.type as string
    this.description(keys, a.description, b.description)
    this.others(keys, a, b, [...ALWAYS_HANDLED, ...(HANDLED[type] ?? [])])
    for (const key of HANDLED[type] ?? []) {
      const at = [...keys, key]
      if (UPPER_BOUNDS.has(key) || LOWER_BOUNDS.has(key)) this.bound(at, a[key], b[key], UPPER_BOUNDS.has(key))
    }
    switch (type) {
      case 'boolean':
      case 'integer':
      case 'string':
        this.value(keys, a, b)
        break
      case 'blob':
        this.accept([...keys, 'accept'], a.accept as string[] | undefined, b.accept as string[] | undefined)
        break
      case 'array':
        this.node([...keys, 'items'], a.items as Node, b.items as Node)
        break
      case 'object':
      case 'params':
        this.properties(keys, a, b)
        break
      case 'ref': {
        const [refA, refB] = [this.absolute(a.ref as string), this.absolute(b.ref as string)]
        if (refA !== refB) this.add('ref-retargeted', [...keys, 'ref'], refA, refB)
        break
      }
      case 'union':
        this.union(keys, a, b)
        break
      case 'record':
        if (a.key !== b.key) this.add('record-key-changed', [...keys, 'key'], a.key, b.key)
        this.node([...keys, 'record'], a.record as Node, b.record as Node)
        break
      case 'query':
      case 'procedure':
      case 'subscription':
        this.endpoint(keys, a, b)
        break
      case 'permission-set':
        this.permissions([...keys, 'permissions'], a.permissions as unknown[], b.permissions as unknown[])
        break
    }
  }

  private description(keys: Key[], a: unknown, b: unknown): void {
    if (a !== b) this.add('description-changed', [...keys, 'description'], a, b)
  }

  /** Keys no rule covers: reported when they differ, so the diff misses nothing. */
  private others(keys: Key[], a: Node, b: Node, handled: readonly string[]): void {
    const skip = new Set(handled)
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (skip.has(key) || canonical(a[key]) === canonical(b[key])) continue
      this.add('other-changed', [...keys, key], a[key], b[key])
    }
  }

  /** A lower or upper bound: added or moved inwards is a tightening, removed or moved outwards a relaxation. */
  private bound(keys: Key[], a: unknown, b: unknown, upper: boolean): void {
    if (a === b) return
    const tightened =
      a === undefined || (b !== undefined && (upper ? (b as number) < (a as number) : (b as number) > (a as number)))
    this.add(tightened ? 'constraint-tightened' : 'constraint-relaxed', keys, a, b)
  }

  /** What a boolean, integer or string may hold: default, const, enum, format, knownValues. */
  private value(keys: Key[], a: Node, b: Node): void {
    for (const key of ['const', 'format'] as const) {
      // Any other const or format admits other values (a format changed may overlap, but not always).
      if (a[key] !== b[key])
        this.add(b[key] === undefined ? 'constraint-relaxed' : 'constraint-tightened', [...keys, key], a[key], b[key])
    }
    if (a.default !== b.default)
      this.add(
        a.default === undefined ? 'default-added' : 'default-changed',
        [...keys, 'default'],
        a.default,
        b.default,
      )
    const enumA = a.enum as unknown[] | undefined
    const enumB = b.enum as unknown[] | undefined
    if (enumA || enumB) {
      const { removed, added } = setDifference(enumA ?? [], enumB ?? [])
      // No enum admits any value: gaining one tightens, losing one relaxes.
      const kind = !enumA
        ? 'constraint-tightened'
        : !enumB
          ? 'constraint-relaxed'
          : removed.length
            ? 'constraint-tightened'
            : added.length
              ? 'constraint-relaxed'
              : undefined
      if (kind) this.add(kind, [...keys, 'enum'], enumA, enumB)
    }
    const { removed, added } = setDifference((a.knownValues as string[]) ?? [], (b.knownValues as string[]) ?? [])
    for (const value of removed) this.add('known-value-removed', [...keys, 'knownValues'], value)
    for (const value of added) this.add('known-value-added', [...keys, 'knownValues'], undefined, value)
  }

  /** A blob's MIME types: narrowed if one it took is no longer covered (`image/*` covers `image/png`). */
  private accept(keys: Key[], a: string[] | undefined, b: string[] | undefined): void {
    if (canonical(a) === canonical(b)) return
    if (!a || !b) return this.add(a ? 'constraint-relaxed' : 'constraint-tightened', keys, a, b)
    const [setA, setB] = [new Set(a), new Set(b)]
    if (a.some((type) => !covers(setB, type))) this.add('constraint-tightened', keys, a, b)
    else if (b.some((type) => !covers(setA, type))) this.add('constraint-relaxed', keys, a, b)
  }

  /** An object's or params' fields, with what is required and nullable. */
  private properties(keys: Key[], a: Node, b: Node): void {
    const propsA = entries((a.properties ?? {}) as Record<string, Node>)
    const propsB = entries((b.properties ?? {}) as Record<string, Node>)
    const [requiredA, requiredB] = [new Set(a.required as string[]), new Set(b.required as string[])]
    const [nullableA, nullableB] = [new Set(a.nullable as string[]), new Set(b.nullable as string[])]
    for (const [name, propA] of propsA) {
      const at = [...keys, 'properties', name]
      const propB = propsB.get(name)
      if (!propB) {
        // Also an optional one: readers of data written before still meet it, and code reading it no longer compiles.
        this.add('field-removed', at, propA.type)
        continue
      }
      this.node(at, propA, propB)
      if (requiredA.has(name) !== requiredB.has(name)) {
        const made = requiredB.has(name) ? 'field-made-required' : 'field-made-optional'
        this.add(made, at, presence(requiredA.has(name)), presence(requiredB.has(name)))
      }
      if (nullableA.has(name) !== nullableB.has(name))
        this.add(
          nullableB.has(name) ? 'nullable-added' : 'nullable-removed',
          at,
          nullableA.has(name),
          nullableB.has(name),
        )
    }
    for (const [name, propB] of propsB) {
      if (propsA.has(name)) continue
      this.add(
        requiredB.has(name) ? 'required-field-added' : 'field-added',
        [...keys, 'properties', name],
        undefined,
        propB.type,
      )
    }
  }

  private union(keys: Key[], a: Node, b: Node): void {
    const closedA = a.closed === true
    const closedB = b.closed === true
    if (closedA !== closedB) this.add(closedB ? 'union-closed' : 'union-opened', [...keys, 'closed'], closedA, closedB)
    const refsA = (a.refs as string[]).map((ref) => this.absolute(ref))
    const refsB = (b.refs as string[]).map((ref) => this.absolute(ref))
    const { removed, added } = setDifference(refsA, refsB)
    for (const ref of removed) this.add('union-ref-removed', [...keys, 'refs'], ref)
    for (const ref of added)
      this.add(closedB ? 'closed-union-ref-added' : 'union-ref-added', [...keys, 'refs'], undefined, ref)
  }

  private endpoint(keys: Key[], a: Node, b: Node): void {
    // No parameters is the same as none declared.
    const none = { type: 'params', properties: {} }
    this.node([...keys, 'parameters'], (a.parameters ?? none) as Node, (b.parameters ?? none) as Node)
    for (const key of ['input', 'output', 'message'] as const) {
      const [bodyA, bodyB] = [a[key] as Node | undefined, b[key] as Node | undefined]
      const at = [...keys, key]
      if (!bodyA && !bodyB) continue
      if (!bodyB) this.add('body-removed', at, bodyA!.encoding ?? 'message')
      else if (!bodyA)
        this.add(key === 'input' ? 'input-added' : 'output-added', at, undefined, bodyB.encoding ?? 'message')
      else this.body(at, bodyA, bodyB)
    }
    const errorsA = new Map(((a.errors ?? []) as Node[]).map((error) => [error.name as string, error]))
    const errorsB = new Map(((b.errors ?? []) as Node[]).map((error) => [error.name as string, error]))
    for (const [name, error] of errorsA) {
      const other = errorsB.get(name)
      if (!other) this.add('error-removed', [...keys, 'errors', name], name)
      else {
        this.description([...keys, 'errors', name], error.description, other.description)
        this.others([...keys, 'errors', name], error, other, ['name', 'description'])
      }
    }
    for (const name of errorsB.keys())
      if (!errorsA.has(name)) this.add('error-added', [...keys, 'errors', name], undefined, name)
  }

  /** An input, output or subscription message. */
  private body(keys: Key[], a: Node, b: Node): void {
    this.description(keys, a.description, b.description)
    this.others(keys, a, b, ['description', 'encoding', 'schema'])
    if (a.encoding !== b.encoding) this.add('encoding-changed', [...keys, 'encoding'], a.encoding, b.encoding)
    const [schemaA, schemaB] = [a.schema as Node | undefined, b.schema as Node | undefined]
    const at = [...keys, 'schema']
    if (schemaA && schemaB) this.node(at, schemaA, schemaB)
    else if (schemaA) this.add('schema-removed', at, schemaA.type)
    else if (schemaB) this.add('schema-added', at, undefined, schemaB.type)
  }

  private permissions(keys: Key[], a: unknown[], b: unknown[]): void {
    const { removed, added } = setDifference(a.map(canonical), b.map(canonical))
    for (const permission of removed) this.add('permission-removed', keys, JSON.parse(permission))
    for (const permission of added) this.add('permission-added', keys, undefined, JSON.parse(permission))
  }

  /** A ref as it reads from anywhere: `#reply` → `com.example.post#reply`, `com.example.like#main` → `com.example.like`. */
  private absolute(ref: string): string {
    const full = ref.startsWith('#') ? `${this.nsid}${ref}` : ref
    return full.endsWith('#main') ? full.slice(0, -'#main'.length) : full
  }
}

/** Own entries only: a def or field called `constructor` is a name like any other. */
function entries<T>(record: Record<string, T>): Map<string, T> {
  return new Map(Object.entries(record))
}

function presence(required: boolean): string {
  return required ? 'required' : 'optional'
}

/** What `a` has that `b` lacks and the other way round, in their order; linear, by sets. */
function setDifference<T>(a: readonly T[], b: readonly T[]): { removed: T[]; added: T[] } {
  const [setA, setB] = [new Set(a), new Set(b)]
  return { removed: [...setA].filter((x) => !setB.has(x)), added: [...setB].filter((x) => !setA.has(x)) }
}

function covers(accepted: ReadonlySet<string>, type: string): boolean {
  return accepted.has('*/*') || accepted.has(type) || accepted.has(`${type.split('/')[0]}/*`)
}

/** JSON with sorted keys, so equal values read the same whatever their key order. */
function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
        : v,
    ) ?? 'undefined'
  )
}
