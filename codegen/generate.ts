import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { CLIENT_FILE, emitClient, emitNamespaces, NAMESPACES_FILE } from './emit-client.js'
import { emitModule } from './emit-module.js'
import { emitRegistry, REGISTRY_FILE } from './emit-registry.js'
import { FormatterMissingError } from './errors.js'
import { type LexiconSet, type LexiconSource, loadLexicons, readLexiconDir } from './load.js'
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
  /** Format with prettier (default true). */
  format?: boolean
}

export interface GenerateReport {
  documents: number
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
  const sources = await readSources(options.lexicons)
  const set = loadLexicons(sources)
  const out = path.resolve(options.out)
  const client = options.client ?? (options.runtime === undefined ? DEFAULT_CLIENT : false)
  const clientFor = client ? importResolver(client, out) : undefined
  const { files, plan } = generateFiles(
    set,
    importResolver(options.runtime ?? DEFAULT_RUNTIME, out),
    clientFor?.(CLIENT_FILE),
  )
  const formatted = options.format === false ? files : await formatAll(files)
  await replaceDirectory(out, formatted)

  const namespaces: Record<string, number> = {}
  for (const id of set.documents.keys()) {
    const namespace = id.split('.').slice(0, 2).join('.')
    namespaces[namespace] = (namespaces[namespace] ?? 0) + 1
  }
  return { documents: set.documents.size, files: formatted.size, namespaces, skipped: plan.skipped }
}

/** Every file through prettier, loaded only now: it is an optional peer, needed only to format. */
async function formatAll(files: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  let format: typeof import('prettier').format
  try {
    ;({ format } = await import('prettier'))
  } catch (cause) {
    throw new FormatterMissingError({ cause })
  }
  return new Map(
    await Promise.all([...files].map(async ([file, text]) => [file, await format(text, PRETTIER_OPTIONS)] as const)),
  )
}

async function readSources(lexicons: GenerateOptions['lexicons']): Promise<readonly LexiconSource[]> {
  if (typeof lexicons === 'string') return readLexiconDir(lexicons)
  if (lexicons.every((item) => typeof item === 'string')) {
    return (await Promise.all((lexicons as readonly string[]).map(readLexiconDir))).flat()
  }
  return lexicons as readonly LexiconSource[]
}

/** The unformatted source of every output file, by path relative to the output directory. */
export function generateFiles(
  set: LexiconSet,
  runtimeFor: (file: string) => string,
  client?: string,
): { files: Map<string, string>; plan: Plan } {
  const plan = planModules(set)
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

/** A package specifier is used as is; a path to a module becomes a relative import from each file. */
function importResolver(specifier: string, out: string): (file: string) => string {
  // Package specifiers never end in a source extension; paths to a module file do.
  const isPath = specifier.startsWith('.') || path.isAbsolute(specifier) || /\.[mc]?[jt]s$/.test(specifier)
  if (!isPath) return () => specifier
  const target = path.resolve(specifier).replace(/\.ts$/, '.js')
  return (file) => {
    const relative = path
      .relative(path.dirname(path.join(out, file)), target)
      .split(path.sep)
      .join('/')
    return relative.startsWith('.') ? relative : `./${relative}`
  }
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
