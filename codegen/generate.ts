import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { CLIENT_FILE, emitClient, emitNamespaces, NAMESPACES_FILE } from './emit-client.js'
import { emitModule } from './emit-module.js'
import { emitRegistry, REGISTRY_FILE } from './emit-registry.js'
import { BUNDLED_LEXICONS_DIR, BUNDLED_MODULES, checkRuntimeVersion } from './bundled.js'
import { OutputDirectoryError } from './errors.js'
import { type LexiconSet, type LexiconSource, loadLexicons, type Override, readLexiconDir } from './load.js'
import { type Plan, planModules } from './plan.js'

export interface GenerateOptions {
  /** Directories of lexicon JSON files (searched recursively), or the documents themselves. */
  lexicons: string | readonly string[] | readonly LexiconSource[]
  /** The output directory. It is owned by the generator: replaced as a whole, and only once all is well. */
  out: string
  /**
   * Where generated modules import the runtime from: a package specifier (default
   * `blueskysdk/runtime`), or a path to the runtime's index file, which each module imports relatively.
   */
  runtime?: string
  /**
   * Where the generated `client.ts` imports `createClient` from, to export one bound to this set
   * (a package specifier, or a path to the SDK's main entry, imported relatively): `blueskysdk` when
   * `runtime` is the default; none (only the `lexicons` value) otherwise, unless given.
   */
  client?: string | false
  /**
   * Where the modules of the lexicons bundled with the runtime package are imported from, instead
   * of being generated again: a package specifier (default `blueskysdk/lexicons` when `runtime` is
   * the default) or a path to a generated directory, imported relatively. Refs resolve to the
   * bundled documents, and identical copies of them among `lexicons` are merged into them. `false`
   * generates every document from `lexicons` alone (the default when `runtime` is a path).
   */
  bundled?: string | false
  /**
   * Which copy wins when one of `lexicons` has the id of a bundled document but differs from it:
   * `bundled` (the file is ignored) or `own` (generated from the file; the app's documents refer to
   * it). Unset, such a copy is an error.
   */
  prefer?: 'bundled' | 'own'
  /** Format with prettier (default true). */
  format?: boolean
  /**
   * Replace `out` even if it is a non-empty directory this generator did not make (one without its
   * marker file, `.blueskysdk-codegen`). Default false: such a directory is refused, untouched.
   */
  force?: boolean
}

export interface GenerateReport {
  /** Documents generated (bundled ones not counted). */
  documents: number
  /** Bundled documents the output imports from the runtime package instead of generating them. */
  reused: string[]
  /** Bundled documents the sources held a differing copy of, and which copy `prefer` kept. */
  overridden: Override[]
  files: number
  /** Documents per namespace (first two NSID segments). */
  namespaces: Record<string, number>
  /** Defs of types that produce no code, such as `permission-set`. */
  skipped: Plan['skipped']
}

const PRETTIER_OPTIONS = {
  parser: 'typescript',
  semi: false,
  singleQuote: true,
  printWidth: 120,
  trailingComma: 'all',
} as const

/**
 * Generates TypeScript from lexicon documents. Invalid input throws `LexiconError` (every problem, by
 * file and JSON path) before anything is written; output is built in a temporary directory and
 * swapped in at the end, so a failure leaves the previous output as it was.
 */
export async function generate(options: GenerateOptions): Promise<GenerateReport> {
  const out = path.resolve(options.out)
  await checkOutput(out, options)
  const bundled = options.bundled ?? (options.runtime === undefined ? BUNDLED_MODULES : false)
  const [sources, bundledSources] = await Promise.all([
    readSources(options.lexicons),
    bundled ? readLexiconDir(BUNDLED_LEXICONS_DIR) : undefined,
  ])
  if (bundled && !isPath(bundled)) await checkRuntimeVersion(out)
  const bundledIds = bundled ? undefined : await bundledDocumentIds()
  const set = loadLexicons(sources, { bundled: bundledSources, bundledIds, prefer: options.prefer })
  const client = options.client ?? (options.runtime === undefined ? DEFAULT_CLIENT : false)
  const clientFor = client ? importResolver(client, out) : undefined
  const { files, plan } = generateFiles(set, {
    runtimeFor: importResolver(options.runtime ?? DEFAULT_RUNTIME, out),
    client: clientFor?.(CLIENT_FILE),
    bundledImport: bundled ? bundledImporter(bundled, out) : undefined,
  })
  files.set(MARKER_FILE, MARKER_TEXT)
  const formatted = options.format === false ? files : await formatAll(files)
  await replaceDirectory(out, formatted)

  const namespaces: Record<string, number> = {}
  const reused = new Set<string>()
  for (const id of set.documents.keys()) {
    if (set.bundled.has(id)) continue
    const namespace = id.split('.').slice(0, 2).join('.')
    namespaces[namespace] = (namespaces[namespace] ?? 0) + 1
    for (const imported of plan.modules.get(id)?.imports.keys() ?? [])
      if (set.bundled.has(imported)) reused.add(imported)
  }
  return {
    documents: set.documents.size - set.bundled.size,
    reused: [...reused].sort(),
    overridden: [...set.overridden],
    files: formatted.size,
    namespaces,
    skipped: plan.skipped,
  }
}

/** Marks an output directory as the generator's own: it replaces only directories that have it (or are empty). */
export const MARKER_FILE = '.blueskysdk-codegen'
const MARKER_TEXT =
  'This directory is written by blueskysdk-codegen and replaced as a whole on each run: do not edit or keep files here.\n'

/** The output directory is replaced whole: refuse one that holds anything but an earlier output, or the input. */
async function checkOutput(out: string, options: GenerateOptions): Promise<void> {
  const inputs = typeof options.lexicons === 'string' ? [options.lexicons] : options.lexicons
  for (const input of inputs) {
    if (typeof input !== 'string') continue
    const relative = path.relative(out, path.resolve(input))
    if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative)))
      throw new OutputDirectoryError(`--out ${options.out} holds the lexicons it would be generated from (${input})`)
  }
  if (options.force) return
  const entries: string[] = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    if (error.code === 'ENOTDIR') throw new OutputDirectoryError(`--out ${options.out} is a file, not a folder`)
    throw error
  })
  if (entries.length > 0 && !entries.includes(MARKER_FILE))
    throw new OutputDirectoryError(
      `--out ${options.out} is not empty and was not written by blueskysdk-codegen (it has no ${MARKER_FILE}); it would be replaced as a whole: choose another folder, or pass --force`,
    )
}

/** Every file through prettier, loaded only now (it takes a while to import, and `--no-format` needs none of it). */
async function formatAll(files: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const { format } = await import('prettier')
  return new Map(
    await Promise.all(
      [...files].map(
        async ([file, text]) => [file, file.endsWith('.ts') ? await format(text, PRETTIER_OPTIONS) : text] as const,
      ),
    ),
  )
}

async function readSources(lexicons: GenerateOptions['lexicons']): Promise<readonly LexiconSource[]> {
  if (typeof lexicons === 'string') return readLexiconDir(lexicons)
  if (lexicons.every((item) => typeof item === 'string')) {
    return (await Promise.all((lexicons as readonly string[]).map(readLexiconDir))).flat()
  }
  return lexicons as readonly LexiconSource[]
}

export interface FileOptions {
  /** Where each file imports the runtime from. */
  runtimeFor: (file: string) => string
  /** Where `client.ts` imports `createClient` from, if it exports one. */
  client?: string
  /** Where a file imports a bundled module from (see `GenerateOptions.bundled`). */
  bundledImport?: (fromFile: string, toFile: string) => string
}

/** The unformatted source of every output file, by path relative to the output directory. */
export function generateFiles(set: LexiconSet, options: FileOptions): { files: Map<string, string>; plan: Plan } {
  const { runtimeFor, client } = options
  const plan = planModules(set, { bundledImport: options.bundledImport })
  const files = new Map<string, string>()
  for (const module of plan.modules.values())
    files.set(module.file, emitModule(set, plan, module, runtimeFor(module.file)))
  files.set(REGISTRY_FILE, emitRegistry(set, plan, runtimeFor(REGISTRY_FILE)))
  for (const [file, text] of emitClient(set, plan, { runtimeFor, client })) files.set(file, text)
  files.set(NAMESPACES_FILE, emitNamespaces(set, plan, runtimeFor(NAMESPACES_FILE)))
  return { files, plan }
}

const DEFAULT_RUNTIME = 'blueskysdk/runtime'
const DEFAULT_CLIENT = 'blueskysdk'

// Package specifiers never end in a source extension, nor start with a dot or a slash; paths do.
const isPath = (specifier: string) =>
  specifier.startsWith('.') || path.isAbsolute(specifier) || /\.[mc]?[jt]s$/.test(specifier)

/** The import of `target` (a path) from `file` of the output directory `out`. */
function relativeTo(out: string, file: string, target: string): string {
  const relative = path
    .relative(path.dirname(path.join(out, file)), target)
    .split(path.sep)
    .join('/')
  return relative.startsWith('.') ? relative : `./${relative}`
}

/** A package specifier is used as is; a path to a module becomes a relative import from each file. */
function importResolver(specifier: string, out: string): (file: string) => string {
  if (!isPath(specifier)) return () => specifier
  const target = path.resolve(specifier).replace(/\.ts$/, '.js')
  return (file) => relativeTo(out, file, target)
}

/** Bundled modules under a package specifier (`blueskysdk/lexicons/app/bsky/feed/post`) or a generated directory. */
function bundledImporter(bundled: string, out: string): (fromFile: string, toFile: string) => string {
  if (!isPath(bundled)) return (_fromFile, toFile) => `${bundled}/${toFile.replace(/\.ts$/, '')}`
  const dir = path.resolve(bundled)
  return (fromFile, toFile) => relativeTo(out, fromFile, path.join(dir, toFile.replace(/\.ts$/, '.js')))
}

/** The ids of the bundled documents, from their file names alone. */
async function bundledDocumentIds(): Promise<Set<string>> {
  const entries = await readdir(BUNDLED_LEXICONS_DIR, { recursive: true, withFileTypes: true }).catch(() => [])
  return new Set(
    entries
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => path.relative(BUNDLED_LEXICONS_DIR, path.join(e.parentPath, e.name)).replace(/\.json$/, ''))
      .map((file) => file.split(path.sep).join('.')),
  )
}

async function replaceDirectory(out: string, files: ReadonlyMap<string, string>): Promise<void> {
  const suffix = randomBytes(4).toString('hex')
  const staging = `${out}.tmp-${suffix}`
  const retired = `${out}.old-${suffix}`
  try {
    for (const [file, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const target = path.join(staging, file)
      await mkdir(path.dirname(target), { recursive: true })
      await writeFile(target, text)
    }
    const exists = await stat(out).then(
      () => true,
      () => false,
    )
    if (exists) await rename(out, retired)
    await rename(staging, out)
  } finally {
    await rm(staging, { recursive: true, force: true })
    await rm(retired, { recursive: true, force: true })
  }
}
