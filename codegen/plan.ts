import { relativeImport } from './emit-module.js'
import { stronglyConnected, topologicalOrder } from './graph.js'
import type { LexQuery } from './lexicon-document.js'
import { type DefTarget, forEachRef, type LexiconSet } from './load.js'
import {
  camelCase,
  guardName,
  moduleAlias,
  modulePath,
  NameTable,
  pascalCase,
  safeIdentifier,
  schemaName,
} from './names.js'

/**
 * Decisions made across all documents before any code is written: names, which refs must be lazy
 * (because they close a cycle, between defs or between modules), and the order defs are emitted in
 * so every eager ref points to something already initialised.
 */

/** Types that become no code (reported, not errors). */
export const NO_CODE_TYPES = new Set(['permission-set'])

export interface DefNames {
  /** The type (and for tokens, the const): `ReplyRef`, `Record`, `Main`. */
  type: string
  schema: string
  guard: string
}

export interface EndpointNames {
  descriptor: string
  params: DefNames
  input: DefNames
  output: DefNames
  message: DefNames
  /** The generated response class (`GetProfileResponse`). */
  response: string
  /** Generated error classes by declared error name (`RecordNotFound` → `RecordNotFoundError`). */
  errors: Map<string, string>
}

export interface ModulePlan {
  id: string
  file: string
  /** Def names in emission order (dependencies first). */
  order: string[]
  names: Map<string, DefNames>
  endpoint: EndpointNames | undefined
  /** Alias each imported module is known by here. */
  imports: Map<string, string>
  /** What the runtime is imported as: `l`, unless the module's own descriptor is called that. */
  runtimeAlias: string
}

export interface Plan {
  /** The modules to write: every document of the set but the bundled ones. */
  modules: Map<string, ModulePlan>
  /** Documents whose modules the runtime package already ships, planned only so refs to them get their names. */
  bundled: Map<string, ModulePlan>
  /** The module of any document, written or bundled. */
  moduleOf(id: string): ModulePlan
  /** The import specifier of a module, from a file of the output: relative, or into the runtime package. */
  importPath(fromFile: string, to: ModulePlan): string
  /** Does the ref from `fromDoc#fromDef` to `target` need to be resolved lazily? */
  isLazy(fromDoc: string, fromDef: string, target: DefTarget): boolean
  /** Defs that produce no code, with their type. */
  skipped: { id: string; def: string; type: string }[]
}

const ENDPOINT_TYPES = new Set(['query', 'procedure', 'subscription'])

export interface PlanOptions {
  /** Where a bundled module is imported from, by its file (`app/bsky/feed/post.ts`), for a file of the output. */
  bundledImport?: (fromFile: string, toFile: string) => string
}

export function planModules(set: LexiconSet, options: PlanOptions = {}): Plan {
  const ids = [...set.documents.keys()].sort()
  const skipped: Plan['skipped'] = []

  // Eager edges are plain refs (schemas are referenced at module evaluation); union members are
  // thunks, so they only make imports.
  const eagerRefs = new Map<string, DefTarget[]>() // `doc#def` → targets
  const importsOf = new Map<string, Set<string>>()
  for (const id of ids) {
    const { doc } = set.documents.get(id)!
    const imports = new Set<string>()
    for (const [defName, def] of Object.entries(doc.defs)) {
      const targets: DefTarget[] = []
      forEachRef(def, (ref, _keys, viaUnion) => {
        const target = set.resolve(id, ref)!
        if (target.def.type === 'token') return // inlined as a literal
        if (target.docId !== id) imports.add(target.docId)
        if (!viaUnion) targets.push(target)
      })
      eagerRefs.set(`${id}#${defName}`, targets)
    }
    importsOf.set(id, imports)
  }

  const moduleComponent = stronglyConnected(ids, (id) => importsOf.get(id)!)
  const defKeys = [...eagerRefs.keys()]
  const sameModuleEdges = (key: string) =>
    eagerRefs
      .get(key)!
      .filter((t) => t.docId === key.slice(0, key.indexOf('#')))
      .map((t) => `${t.docId}#${t.defName}`)
  const defComponent = stronglyConnected(defKeys, sameModuleEdges)

  const isLazy = (fromDoc: string, fromDef: string, target: DefTarget): boolean => {
    if (target.docId !== fromDoc) return moduleComponent.get(target.docId) === moduleComponent.get(fromDoc)
    const from = `${fromDoc}#${fromDef}`
    const to = `${target.docId}#${target.defName}`
    return from === to || defComponent.get(from) === defComponent.get(to)
  }

  const modules = new Map<string, ModulePlan>()
  const bundled = new Map<string, ModulePlan>()
  for (const id of ids) {
    const { doc } = set.documents.get(id)!
    const main = doc.defs.main
    const method = id.slice(id.lastIndexOf('.') + 1)
    const isEndpoint = main !== undefined && ENDPOINT_TYPES.has(main.type)
    // The descriptor is named after the method (public: `import { getProfile }`); should a method
    // be called `l`, the runtime's import alias steps aside instead.
    const descriptor = isEndpoint ? safeIdentifier(camelCase(method)) : undefined
    const table = new NameTable()
    const runtimeAlias = table.claim(descriptor === 'l' ? 'lex' : 'l')
    table.reserve('NSID')
    if (descriptor) table.reserve(descriptor)
    const imports = new Map<string, string>()
    for (const imported of [...importsOf.get(id)!].sort()) imports.set(imported, table.claim(moduleAlias(imported)))

    let endpoint: EndpointNames | undefined
    if (descriptor) {
      endpoint = {
        descriptor,
        params: namesFor(table.claim('Params')),
        input: namesFor(table.claim('Input')),
        output: namesFor(table.claim('Output')),
        message: namesFor(table.claim('Message')),
        response: table.claim(`${pascalCase(method)}Response`),
        errors: new Map(
          ((main as LexQuery).errors ?? []).map((e) => [e.name, table.claim(`${pascalCase(e.name)}Error`)]),
        ),
      }
    }
    const names = new Map<string, DefNames>()
    const defNames = Object.keys(doc.defs)
    for (const defName of ['main', ...defNames.filter((n) => n !== 'main')]) {
      const def = doc.defs[defName]
      if (!def || ENDPOINT_TYPES.has(def.type)) continue
      if (NO_CODE_TYPES.has(def.type)) {
        if (!set.bundled.has(id)) skipped.push({ id, def: defName, type: def.type })
        continue
      }
      const base = defName !== 'main' ? pascalCase(defName) : def.type === 'record' ? 'Record' : 'Main'
      names.set(defName, namesFor(table.claim(base)))
    }
    const order = topologicalOrder(
      defNames.filter((n) => names.has(n) || (n === 'main' && endpoint)),
      (defName) =>
        eagerRefs
          .get(`${id}#${defName}`)!
          .filter((t) => t.docId === id && !isLazy(id, defName, t))
          .map((t) => t.defName),
    )
    // A document of only code-less defs (a permission set) gets no module.
    if (order.length > 0)
      (set.bundled.has(id) ? bundled : modules).set(id, {
        id,
        file: modulePath(id),
        order,
        names,
        endpoint,
        imports,
        runtimeAlias,
      })
  }
  const { bundledImport } = options
  if (bundled.size > 0 && !bundledImport) throw new Error('planModules: bundled documents need options.bundledImport')
  return {
    modules,
    bundled,
    moduleOf: (id) => modules.get(id) ?? bundled.get(id)!,
    importPath: (fromFile, to) =>
      bundled.has(to.id) ? bundledImport!(fromFile, to.file) : relativeImport(fromFile, to.file),
    isLazy,
    skipped,
  }
}

function namesFor(type: string): DefNames {
  return { type, schema: schemaName(type), guard: guardName(type) }
}
