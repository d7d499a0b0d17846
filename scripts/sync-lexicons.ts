/**
 * Sync lexicons/<nsid path>.json from the schemaDict bundled in the pinned
 * @atproto/api devDependency, merged with folders of published lexicon JSON
 * (`--from DIR`, repeatable: a checkout of the atproto repo's lexicons/, or
 * what `blueskysdk-codegen pull` wrote); a folder's document replaces
 * @atproto/api's of the same id, and a later folder an earlier one's.
 * `--out DIR` syncs another folder than lexicons/.
 *
 * The file is read as data, never imported: @atproto/api requires Node 22,
 * and executing a dependency just to read constants is needless risk.
 * Everything is computed in memory first and checked with the generator's
 * parser, so a failure while parsing or checking leaves the existing
 * lexicons/ tree untouched.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { parseCommandArgs } from '../codegen/arguments.js'
import { LexiconError } from '../codegen/errors.js'
import { loadLexicons } from '../codegen/load.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Doc = { [key: string]: Json }

const PKG = '@atproto/api'
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
function parseCli() {
  try {
    const options = {
      from: { type: 'string', multiple: true, default: [] as string[] },
      out: { type: 'string' },
    } as const
    return parseCommandArgs('lexicons:sync', process.argv.slice(2), options, (message) => new Error(message), {
      allowPositionals: false,
    }).values
  } catch (error) {
    // A usage mistake: one line, exit code 2.
    console.error((error as Error).message)
    process.exit(2)
  }
}
const args = parseCli()
const LEXICONS_DIR = path.resolve(args.out ?? path.join(ROOT, 'lexicons'))
// Letters/digits/hyphens, at least 3 segments. Also guarantees the id is
// safe to turn into a path (no '/', '..', etc.).
const NSID_RE = /^[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+){2,}$/

/** Locate the installed package dir without executing it. */
async function findPackage(): Promise<{ dir: string; version: string }> {
  // `${PKG}/package.json` is not in the package's "exports" map, so resolve
  // the entry point (resolution only, no execution) and walk up from there.
  let dir = path.dirname(createRequire(import.meta.url).resolve(PKG))
  for (;;) {
    const pkgJson = path.join(dir, 'package.json')
    if (existsSync(pkgJson)) {
      const pkg = JSON.parse(await fs.readFile(pkgJson, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === PKG) return { dir, version: String(pkg.version) }
    }
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`could not find package.json of ${PKG}`)
    dir = parent
  }
}

/** Convert a literal-only expression to JSON; anything else is an error. */
function toJson(node: ts.Expression, sf: ts.SourceFile): Json {
  const fail = (what: string): never => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf))
    throw new Error(`${sf.fileName}:${line + 1}:${character + 1}: ${what}`)
  }
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text
  if (ts.isNumericLiteral(node)) return Number(node.text)
  if (
    ts.isPrefixUnaryExpression(node) &&
    node.operator === ts.SyntaxKind.MinusToken &&
    ts.isNumericLiteral(node.operand)
  ) {
    return -Number(node.operand.text)
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false
  if (node.kind === ts.SyntaxKind.NullKeyword) return null
  if (ts.isArrayLiteralExpression(node)) return node.elements.map((el) => toJson(el, sf))
  if (ts.isObjectLiteralExpression(node)) {
    const obj: { [key: string]: Json } = {}
    for (const prop of node.properties) {
      if (!ts.isPropertyAssignment(prop)) return fail(`unsupported property kind ${ts.SyntaxKind[prop.kind]}`)
      const { name } = prop
      if (!ts.isIdentifier(name) && !ts.isStringLiteral(name))
        return fail(`unsupported key kind ${ts.SyntaxKind[name.kind]}`)
      const key = name.text
      // Integer-like keys would be reordered by JS objects and `__proto__`
      // would not become an own key; neither occurs in lexicons, so refuse.
      if (/^\d+$/.test(key) || key === '__proto__') return fail(`unsupported key ${JSON.stringify(key)}`)
      if (Object.hasOwn(obj, key)) return fail(`duplicate key ${JSON.stringify(key)}`)
      obj[key] = toJson(prop.initializer, sf)
    }
    return obj
  }
  return fail(`unsupported node kind ${ts.SyntaxKind[node.kind]}`)
}

/** Parse the file and return the documents of `export const schemaDict = {...}`. */
function readSchemaDict(file: string, text: string): Doc[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt)) continue
    for (const decl of stmt.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || decl.name.text !== 'schemaDict') continue
      if (!decl.initializer || !ts.isObjectLiteralExpression(decl.initializer)) {
        throw new Error(`${file}: schemaDict is not an object literal`)
      }
      const dict = toJson(decl.initializer, sf) as { [key: string]: Json }
      return Object.entries(dict).map(([key, doc]) => {
        if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || typeof doc.id !== 'string') {
          throw new Error(`schemaDict.${key} is not a lexicon document with a string id`)
        }
        return doc
      })
    }
  }
  throw new Error(`${file}: no schemaDict declaration found`)
}

/**
 * @atproto/lexicon's Lexicons.add() rewrites ref/union targets to `lex:` URIs
 * and the generated dict captured that; map them back to the published form.
 * Own-document refs become `#x` (the usual spelling; the original could also
 * have been fully qualified — that distinction is lost in the bundle).
 */
function unrewriteRefs(value: Json, ownId: string): Json {
  const undo = (ref: string): string => {
    if (!ref.startsWith('lex:')) return ref
    const uri = ref.slice('lex:'.length)
    return uri.startsWith(`${ownId}#`) ? uri.slice(ownId.length) : uri
  }
  if (Array.isArray(value)) return value.map((v) => unrewriteRefs(v, ownId))
  if (value === null || typeof value !== 'object') return value
  const out: { [key: string]: Json } = {}
  for (const [key, v] of Object.entries(value)) {
    if (key === 'ref' && typeof v === 'string') out[key] = undo(v)
    else if (key === 'refs' && Array.isArray(v) && v.every((r) => typeof r === 'string')) {
      out[key] = (v as string[]).map(undo)
    } else out[key] = unrewriteRefs(v, ownId)
  }
  return out
}

/** Throw if any string (value or key) still starts with `lex:`. */
function assertNoLexStrings(value: Json, where: string): void {
  if (typeof value === 'string') {
    if (value.startsWith('lex:')) throw new Error(`leftover lex: URI at ${where}: ${value}`)
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoLexStrings(v, `${where}[${i}]`))
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assertNoLexStrings(k, `${where} (key)`)
      assertNoLexStrings(v, `${where}.${k}`)
    }
  }
}

/** Every `.json` file under dir, as paths relative to dir (all owned by the sync). */
async function listJsonFiles(dir: string, rel = ''): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name)
    if (entry.isDirectory()) out.push(...(await listJsonFiles(dir, child)))
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(child)
  }
  return out
}

/** Remove empty directories below dir (dir itself is kept). Returns true if dir ended up empty. */
async function pruneEmptyDirs(dir: string): Promise<boolean> {
  let empty = true
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name)
    if (entry.isDirectory() && (await pruneEmptyDirs(child))) await fs.rmdir(child)
    else empty = false
  }
  return empty
}

const nsidOf = (rel: string): string => rel.slice(0, -'.json'.length).split(path.sep).join('.')

/** The documents of a --from folder (every `*.json` under it), by id; published JSON, taken as it is. */
async function readFromDir(dir: string): Promise<Map<string, { doc: Doc; file: string }>> {
  if (!(await fs.stat(dir).catch(() => undefined))?.isDirectory()) throw new Error(`--from ${dir}: no such folder`)
  const docs = new Map<string, { doc: Doc; file: string }>()
  for (const rel of (await listJsonFiles(dir)).sort()) {
    const file = path.join(dir, rel)
    let doc: Json
    try {
      doc = JSON.parse(await fs.readFile(file, 'utf8')) as Json
    } catch (error) {
      throw new Error(`${file}: not JSON (${(error as Error).message})`)
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || typeof doc.id !== 'string') {
      throw new Error(`${file}: not a lexicon document with a string id`)
    }
    if (!NSID_RE.test(doc.id)) throw new Error(`${file}: invalid NSID: ${JSON.stringify(doc.id)}`)
    if (docs.has(doc.id)) throw new Error(`${file}: duplicate document id ${doc.id} in ${dir}`)
    docs.set(doc.id, { doc, file })
  }
  return docs
}

async function main(): Promise<void> {
  const pkg = await findPackage()
  const source = path.join(pkg.dir, 'dist', 'client', 'lexicons.js')
  const rawDocs = readSchemaDict(source, await fs.readFile(source, 'utf8'))

  // 1. Compute the full new tree in memory: relative path -> file content.
  const next = new Map<string, string>()
  // Where each document came from, for the parser's messages.
  const origin = new Map<string, string>()
  for (const raw of rawDocs) {
    const id = raw.id as string
    if (!NSID_RE.test(id)) throw new Error(`invalid NSID: ${JSON.stringify(id)}`)
    const doc = unrewriteRefs(raw, id)
    assertNoLexStrings(doc, id)
    const rel = path.join(...id.split('.')) + '.json'
    if (next.has(rel)) throw new Error(`duplicate document id: ${id}`)
    next.set(rel, JSON.stringify(doc, null, 2) + '\n')
    origin.set(rel, `${PKG} schemaDict ${id}`)
  }
  // The --from folders, each over what came before it.
  const sources: string[] = []
  for (const dir of args.from) {
    const docs = await readFromDir(dir)
    let replacing = 0
    for (const [id, { doc, file }] of docs) {
      const rel = path.join(...id.split('.')) + '.json'
      if (next.has(rel)) replacing++
      next.set(rel, JSON.stringify(doc, null, 2) + '\n')
      origin.set(rel, file)
    }
    sources.push(`${dir}: ${docs.size} documents (${replacing} replacing a copy from before)`)
  }
  const perNamespace = new Map<string, number>()
  for (const rel of next.keys()) {
    const ns = nsidOf(rel).split('.').slice(0, 2).join('.')
    perNamespace.set(ns, (perNamespace.get(ns) ?? 0) + 1)
  }
  // The merged set must be one the generator takes (valid documents, every ref resolving): checked
  // here, before anything is written, rather than by the next `npm run codegen`.
  loadLexicons([...next].map(([rel, text]) => ({ file: origin.get(rel)!, text })))

  // 2. Diff against the current tree before touching anything.
  const existing = new Set(await listJsonFiles(LEXICONS_DIR))
  const added: string[] = []
  const changed: string[] = []
  for (const [rel, content] of next) {
    if (!existing.has(rel)) added.push(rel)
    else if ((await fs.readFile(path.join(LEXICONS_DIR, rel), 'utf8')) !== content) changed.push(rel)
  }
  const removed = [...existing].filter((rel) => !next.has(rel))

  // 3. Apply. New/changed files are staged in a sibling temp dir (same
  // filesystem) and renamed into place, so each file is replaced atomically
  // and a failure while writing the stage leaves lexicons/ untouched.
  const toWrite = [...added, ...changed]
  if (toWrite.length > 0) {
    const stage = await fs.mkdtemp(path.join(ROOT, '.lexicons-sync-'))
    try {
      for (const rel of toWrite) {
        await fs.mkdir(path.dirname(path.join(stage, rel)), { recursive: true })
        await fs.writeFile(path.join(stage, rel), next.get(rel)!)
      }
      for (const rel of toWrite) {
        await fs.mkdir(path.dirname(path.join(LEXICONS_DIR, rel)), { recursive: true })
        await fs.rename(path.join(stage, rel), path.join(LEXICONS_DIR, rel))
      }
    } finally {
      await fs.rm(stage, { recursive: true, force: true })
    }
  }
  for (const rel of removed) await fs.unlink(path.join(LEXICONS_DIR, rel))
  if (existsSync(LEXICONS_DIR)) await pruneEmptyDirs(LEXICONS_DIR)

  // 4. Summary.
  console.log(`${PKG} ${pkg.version} (${path.relative(ROOT, source)})`)
  for (const line of sources) console.log(`--from ${line}`)
  console.log(`${next.size} lexicon documents`)
  for (const [ns, n] of [...perNamespace].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${ns} ${n}`)
  if (toWrite.length + removed.length === 0) {
    console.log('no changes')
    return
  }
  for (const [label, list] of [
    ['added', added],
    ['changed', changed],
    ['removed', removed],
  ] as const) {
    if (list.length === 0) continue
    console.log(`${label} (${list.length}):`)
    for (const nsid of list.map(nsidOf).sort()) console.log(`  ${nsid}`)
  }
}

main().catch((err: unknown) => {
  // A LexiconError's message lists every problem, by file and JSON path.
  const message = err instanceof LexiconError ? `${err.message}\nNothing was written.` : undefined
  console.error(`lexicons:sync failed: ${message ?? (err instanceof Error ? err.message : String(err))}`)
  process.exitCode = 1
})
