import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseJsonc, type ParseError, printParseErrorCode } from 'jsonc-parser'
import * as v from 'valibot'
import { jsonPath, LexiconError, type LexiconProblem } from './errors.js'
import { type LexDef, type LexiconDocument, lexiconDocument, PRIMARY_TYPES } from './lexicon-document.js'

/** A lexicon file as read: its name (for messages) and its text. */
export interface LexiconSource {
  file: string
  text: string
}

export interface LoadedDocument {
  file: string
  doc: LexiconDocument
}

/** A resolved `ref`: the document and def it points to. */
export interface DefTarget {
  docId: string
  defName: string
  def: LexDef
}

/** A checked set of lexicon documents whose refs all resolve. */
export class LexiconSet {
  readonly documents: ReadonlyMap<string, LoadedDocument>

  constructor(
    documents: LoadedDocument[],
    /** Ids of the documents that came from the runtime package's bundled lexicons. */
    readonly bundled: ReadonlySet<string> = new Set(),
    /** Bundled documents the app's sources hold a different copy of, and which copy `prefer` kept. */
    readonly overridden: readonly Override[] = [],
  ) {
    this.documents = new Map(documents.map((d) => [d.doc.id, d]))
  }

  /** Resolves a ref written in document `fromId`: `#def`, `nsid` (its main) or `nsid#def`. */
  resolve(fromId: string, ref: string): DefTarget | undefined {
    const [id, defName = 'main'] = ref.startsWith('#') ? [fromId, ref.slice(1)] : ref.split('#', 2)
    const defs = this.documents.get(id)?.doc.defs
    // Own defs only: `#toString` must not find Object.prototype's.
    const def = defs && Object.hasOwn(defs, defName) ? defs[defName] : undefined
    return def && { docId: id, defName, def }
  }
}

/** Reads every `*.json` under `dir` (sorted, so results never depend on the file system's order). */
export async function readLexiconDir(dir: string): Promise<LexiconSource[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(file, 'utf8') })))
}

export interface Override {
  id: string
  /** The app's file with the differing copy. */
  file: string
  kept: 'bundled' | 'own'
}

export interface LoadOptions {
  /**
   * The lexicons bundled with the runtime package: refs resolve to them, and a document of the
   * sources that is an identical copy of one is merged into it (a differing copy is a problem).
   */
  bundled?: readonly LexiconSource[]
  /** Ids the runtime package bundles, when `bundled` is not used: only to suggest it for unresolvable refs. */
  bundledIds?: ReadonlySet<string>
  /**
   * Which copy wins when a source document has the id of a bundled one and differs from it: the
   * bundled one (the source file is ignored), or the app's own (generated from its file, and what the
   * app's other documents refer to; bundled modules keep their own). Unset, such a copy is a problem.
   */
  prefer?: 'bundled' | 'own'
  /**
   * Leave refs to documents that are not in the set unchecked (a ref to a missing def of a document
   * in the set is still a problem): for reading one folder on its own, as `diff` does, whose refs
   * may point at lexicons published elsewhere.
   */
  allowExternalRefs?: boolean
}

/**
 * Parses and checks documents: JSON syntax, the lexicon language, primary types only as `main`,
 * `required`/`nullable` naming real properties, unique ids, and every ref resolving. All problems
 * are collected and thrown together as a `LexiconError`.
 */
export function loadLexicons(sources: readonly LexiconSource[], options: LoadOptions = {}): LexiconSet {
  const problems: LexiconProblem[] = []
  const documents: LoadedDocument[] = []
  const fileById = new Map<string, string>()
  const bundledJson = new Map<string, { file: string; json: unknown }>()
  const bundledSources = options.bundled ?? []
  const overridden: Override[] = []

  for (const [index, { file, text }] of [...bundledSources, ...sources].entries()) {
    const isBundled = index < bundledSources.length
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      problems.push({ file, path: '$', message: `invalid JSON: ${describeJsonError(error as Error, text)}` })
      continue
    }
    const before = problems.length
    const parsed = v.safeParse(lexiconDocument, renameKeys(json, hideKey))
    if (!parsed.success) {
      for (const issue of parsed.issues)
        problems.push({ file, path: jsonPath(issuePath(issue)), message: issue.message })
    }
    // Structural rules are checked even when the schema failed, so one run reports every problem.
    checkDefs(file, json, problems)
    if (!parsed.success || problems.length > before) continue
    const doc = renameKeys(parsed.output, restoreKey) as LexiconDocument
    if (isBundled) bundledJson.set(doc.id, { file, json })
    const copyOf = isBundled ? undefined : bundledJson.get(doc.id)
    if (copyOf && sameJson(copyOf.json, json)) continue // a copy of a bundled document: one and the same
    if (copyOf && options.prefer === 'bundled') {
      overridden.push({ id: doc.id, file, kept: 'bundled' })
      continue
    }
    if (copyOf && options.prefer === 'own') {
      overridden.push({ id: doc.id, file, kept: 'own' })
      bundledJson.delete(doc.id)
      documents[documents.findIndex((loaded) => loaded.doc.id === doc.id)] = { file, doc }
      fileById.set(doc.id, file)
      continue
    }
    if (copyOf) {
      problems.push({
        file,
        path: '$.id',
        message: `${doc.id} is also bundled with blueskysdk, and this copy differs from it: remove this file to use the bundled one, say which copy wins with --prefer bundled or --prefer own, or generate every document from your own files with --no-bundled`,
      })
      continue
    }
    const previous = fileById.get(doc.id)
    if (previous !== undefined) {
      problems.push({ file, path: '$.id', message: `duplicate id ${doc.id}, also defined in ${previous}` })
      continue
    }
    fileById.set(doc.id, file)
    documents.push({ file, doc })
  }

  const set = new LexiconSet(documents, new Set(bundledJson.keys()), overridden)
  for (const { file, doc } of documents) {
    forEachRef(doc, (ref, keys, inUnion) => {
      const target = set.resolve(doc.id, ref)
      const targetId = ref.startsWith('#') ? doc.id : ref.split('#')[0]
      if (!target && options.allowExternalRefs && !set.documents.has(targetId)) return
      const message = refProblem(target, inUnion)
      if (!message) return
      const hint = target ? '' : missingDocumentHint(set, targetId, options)
      problems.push({ file, path: jsonPath(keys), message: `${message}: ${ref}${hint}` })
    })
  }
  if (problems.length > 0) throw new LexiconError(problems)
  return set
}

const DATA_TYPES = new Set([
  'object',
  'record',
  'token',
  'array',
  'boolean',
  'integer',
  'string',
  'bytes',
  'cid-link',
  'blob',
])

/** What to do about a ref to a document that is not in the set (nothing to add if the document is there but the def is not). */
function missingDocumentHint(set: LexiconSet, id: string, options: LoadOptions): string {
  if (set.documents.has(id)) return ''
  if (options.bundledIds?.has(id))
    return ` (${id} is bundled with blueskysdk: generate without --no-bundled to use it, or add the bundled lexicons folder with --lexicons)`
  const where = options.bundled ? 'among the lexicons given or bundled with blueskysdk' : 'among the lexicons given'
  return ` (no document ${id} ${where}: add the folder that has it with --lexicons DIR)`
}

/** Deep equality of parsed JSON, key order aside. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  )
}

function refProblem(target: DefTarget | undefined, inUnion: boolean): string | undefined {
  if (!target) return 'unresolvable ref'
  if (inUnion && target.def.type !== 'object' && target.def.type !== 'record')
    return `union member must be an object, not a ${target.def.type}`
  if (!DATA_TYPES.has(target.def.type)) return `a ${target.def.type} cannot be referenced`
  return undefined
}

function checkDefs(file: string, json: unknown, problems: LexiconProblem[]): void {
  const defs = (json as { defs?: unknown } | null)?.defs
  if (typeof defs !== 'object' || defs === null) return
  for (const [name, def] of Object.entries(defs as Record<string, { type?: unknown }>)) {
    if (typeof def?.type === 'string' && PRIMARY_TYPES.has(def.type) && name !== 'main') {
      problems.push({ file, path: jsonPath(['defs', name, 'type']), message: `a ${def.type} may only be the main def` })
    }
  }
  walk(defs, ['defs'], (node, keys) => {
    const properties = node.properties
    if ((node.type !== 'object' && node.type !== 'params') || typeof properties !== 'object' || properties === null)
      return
    for (const list of ['required', 'nullable'] as const) {
      const names = node[list]
      if (!Array.isArray(names)) continue
      names.forEach((name, i) => {
        if (typeof name === 'string' && !Object.hasOwn(properties, name)) {
          problems.push({ file, path: jsonPath([...keys, list, i]), message: `${name} is not a property` })
        }
      })
    }
  })
}

/** Calls `visit` with every `ref` and union member under `node`, its JSON path, and whether it is a union member. */
export function forEachRef(
  node: unknown,
  visit: (ref: string, keys: (string | number)[], inUnion: boolean) => void,
): void {
  walk(node, [], (child, keys) => {
    if (child.type === 'ref' && typeof child.ref === 'string') visit(child.ref, [...keys, 'ref'], false)
    if (child.type === 'union' && Array.isArray(child.refs)) {
      child.refs.forEach((ref, i) => visit(ref, [...keys, 'refs', i], true))
    }
  })
}

function walk(
  node: unknown,
  keys: (string | number)[],
  visit: (node: Record<string, unknown>, keys: (string | number)[]) => void,
): void {
  if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...keys, i], visit))
  else if (typeof node === 'object' && node !== null) {
    visit(node as Record<string, unknown>, keys)
    for (const [key, value] of Object.entries(node)) walk(value, [...keys, key], visit)
  }
}

function issuePath(issue: v.BaseIssue<unknown>): (string | number)[] {
  return (issue.path ?? []).map((item) => (typeof item.key === 'string' ? restoreKey(item.key) : (item.key as number)))
}

// Valibot's record schemas skip the keys `__proto__`, `constructor` and `prototype` (a guard against
// prototype pollution), so a property or def of such a name would go unchecked and vanish from the
// parsed document. They are checked under a stand-in name, and given back theirs after.
const HIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const STAND_IN = '__blueskysdkCodegenKey'
const hideKey = (key: string) => (HIDDEN_KEYS.has(key) ? `${key}${STAND_IN}` : key)
const restoreKey = (key: string) => (key.endsWith(STAND_IN) ? key.slice(0, -STAND_IN.length) : key)

/** A copy of parsed JSON with every key renamed; own data properties throughout, `__proto__` included. */
function renameKeys(node: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(node)) return node.map((item) => renameKeys(item, rename))
  if (typeof node !== 'object' || node === null) return node
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    Object.defineProperty(copy, rename(key), {
      value: renameKeys(value, rename),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return copy
}

/** V8's JSON errors often give no position; jsonc-parser's (in strict JSON mode) give an offset, shown as line and column. */
function describeJsonError(error: Error, text: string): string {
  const errors: ParseError[] = []
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false })
  const first = errors[0]
  if (first === undefined) return error.message
  // A `}` or `]` right after a comma: name the comma, the mistake people make.
  const comma = /,\s*$/.exec(text.slice(0, first.offset))
  if (comma && /^[}\]]/.test(text.slice(first.offset))) return `trailing comma at ${lineAndColumn(text, comma.index)}`
  // `CloseBraceExpected` → `close brace expected`
  const problem = printParseErrorCode(first.error)
    .replace(/\B([A-Z])/g, ' $1')
    .toLowerCase()
  return `${problem} at ${lineAndColumn(text, first.offset)}`
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n')
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`
}
