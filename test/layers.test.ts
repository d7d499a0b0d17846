/**
 * The architecture, checked from the source: every import of src/ and generated/ (static, dynamic,
 * re-exports) read from the files and resolved, so that no import runs up the layers
 *
 *   src/runtime ← generated ← src/client ← src/session, src/facade ← entry points
 *
 * and each layer uses only the packages it is meant to. Also: the entry points are curated lists
 * (no `export *`) that keep the runtime's internals private.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './support/codegen.js'

type Layer = 'runtime' | 'generated' | 'client' | 'session' | 'facade' | 'entry'

/** What each layer may import, besides itself. */
const ALLOWED: Record<Layer, Layer[]> = {
  runtime: [],
  generated: ['runtime'],
  client: ['runtime', 'generated'],
  session: ['runtime', 'generated', 'client'],
  facade: ['runtime', 'generated', 'client'],
  entry: ['runtime', 'generated', 'client', 'session', 'facade'],
}

/** Packages each layer may import (node: builtins are listed per file below). */
const PACKAGES: Record<Layer, string[]> = {
  runtime: [],
  generated: [],
  client: ['ky', '@atcute/cbor'],
  session: [],
  facade: [],
  entry: [],
}

/** The only files that import Node built-ins: reachable from the node entry alone. */
const NODE_BUILTINS: Record<string, string[]> = {
  'src/session/stores/file.ts': ['node:crypto', 'node:fs/promises', 'node:path'],
  'src/session/stores/postgres.ts': ['node:async_hooks'],
  'src/session/node-dns.ts': ['node:dns/promises'],
  'src/session/oauth-node.ts': ['node:http', 'node:net'],
}
/** The entries for Node alone: the node-only stores, and OAuth on `@atproto/oauth-client-node`. */
const NODE_ENTRIES = ['src/node.ts', 'src/oauth.ts']

/** The entries of optional peers that run in browsers too (firehose verification, on @atcute/crypto). */
const PEER_ENTRIES = ['src/verify.ts']

/** Optional peer dependencies, each imported by one file, reached from its own entry only. */
const PEER_PACKAGES: Record<string, string[]> = {
  'src/session/oauth-node.ts': ['@atproto/oauth-client-node'],
  'src/session/signature-verifier.ts': ['@atcute/crypto'],
}

const ENTRY_POINTS: Record<string, Layer> = {
  'src/index.ts': 'entry',
  'src/node.ts': 'entry',
  'src/oauth.ts': 'entry',
  'src/verify.ts': 'entry',
  'src/xrpc.ts': 'client',
  'src/schema.ts': 'runtime',
}

function layerOf(file: string): Layer {
  if (file in ENTRY_POINTS) return ENTRY_POINTS[file]
  const [top, second] = file.split('/')
  if (top === 'generated') return 'generated'
  if (top === 'src' && ['runtime', 'client', 'session', 'facade'].includes(second)) return second as Layer
  throw new Error(`${file} is in no layer: add it to a layer folder or to ENTRY_POINTS`)
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(repoRoot, dir), { withFileTypes: true, recursive: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
}

// `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `declare module 'x'`.
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|declare module\s+['"]([^'"]+)['"]/gm

function importsOf(text: string): string[] {
  // Comments may quote code (`import { x } from 'y'` in a doc example): drop them first.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
  return [...code.matchAll(SPECIFIER)].map((match) => match[1] ?? match[2] ?? match[3] ?? match[4])
}

function resolve(from: string, specifier: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.js$/, '.ts')
}

const files = [...(await sourceFiles('src')), ...(await sourceFiles('generated'))].sort()
const graph = await Promise.all(
  files.map(async (file) => ({ file, imports: importsOf(await readFile(path.join(repoRoot, file), 'utf8')) })),
)

describe('layers', () => {
  it('reads a real graph: every layer has files and imports', () => {
    const layers = new Set(files.map(layerOf))
    expect([...layers].sort()).toEqual(['client', 'entry', 'facade', 'generated', 'runtime', 'session'])
    expect(graph.find((g) => g.file === 'src/session/client.ts')!.imports).toContain('../client/xrpc-client.js')
    // The parser sees through comments and finds dynamic imports and augmentations.
    expect(importsOf("// import x from 'nope'\nconst m = import('./a.js')\ndeclare module './b.js' {}")).toEqual([
      './a.js',
      './b.js',
    ])
  })

  it('no import runs up the layers', () => {
    const violations: string[] = []
    for (const { file, imports } of graph) {
      const layer = layerOf(file)
      for (const specifier of imports) {
        if (!specifier.startsWith('.')) continue
        const target = resolve(file, specifier)
        const targetLayer = layerOf(target)
        if (targetLayer !== layer && !ALLOWED[layer].includes(targetLayer))
          violations.push(`${file} (${layer}) imports ${target} (${targetLayer})`)
      }
    }
    expect(violations).toEqual([])
  })

  it('each layer uses only its own packages, and Node built-ins stay off every entry but the node one', async () => {
    const violations: string[] = []
    for (const { file, imports } of graph) {
      const layer = layerOf(file)
      for (const specifier of imports) {
        if (specifier.startsWith('.')) continue
        if (specifier.startsWith('node:')) {
          if (!NODE_BUILTINS[file]?.includes(specifier)) violations.push(`${file} imports ${specifier}`)
          continue
        }
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
        if (!PACKAGES[layer].includes(name) && !PEER_PACKAGES[file]?.includes(name))
          violations.push(`${file} (${layer}) imports the package ${name}`)
      }
    }
    expect(violations).toEqual([])
    // Any import of a built-in, even a dynamic one, breaks browser builds at bundlers' default settings.
    const importsByFile = new Map(graph.map(({ file, imports }) => [file, imports]))
    const reachableFrom = (entries: string[]) => {
      const reachable = new Set<string>()
      const visit = (file: string) => {
        if (reachable.has(file)) return
        reachable.add(file)
        for (const specifier of importsByFile.get(file) ?? [])
          if (specifier.startsWith('.')) visit(resolve(file, specifier))
      }
      for (const entry of entries) visit(entry)
      return reachable
    }
    const browserEntries = [
      ...Object.keys(ENTRY_POINTS).filter((e) => !NODE_ENTRIES.includes(e)),
      'src/runtime/index.ts',
    ]
    const reachable = reachableFrom(browserEntries)
    expect(reachable.size).toBeGreaterThan(100)
    expect(Object.keys(NODE_BUILTINS).filter((file) => reachable.has(file))).toEqual([])
    // An optional peer is reached from its own entry alone: an app that doesn't import it neither installs nor bundles it.
    const withoutPeers = reachableFrom(browserEntries.filter((entry) => !PEER_ENTRIES.includes(entry)))
    expect(Object.keys(PEER_PACKAGES).filter((file) => withoutPeers.has(file))).toEqual([])
  })
})

describe('the generator package', () => {
  it('imports only its own files, Node built-ins and its own dependencies: nothing of the runtime package', async () => {
    const manifest = JSON.parse(await readFile(path.join(repoRoot, 'codegen/package.json'), 'utf8'))
    const dependencies = Object.keys(manifest.dependencies)
    const violations: string[] = []
    const sources = (await sourceFiles('codegen')).filter(
      (file) => !file.startsWith('codegen/dist/') && !file.includes('/node_modules/'),
    )
    expect(sources.length).toBeGreaterThan(5)
    for (const file of sources) {
      for (const specifier of importsOf(await readFile(path.join(repoRoot, file), 'utf8'))) {
        if (specifier.startsWith('node:')) continue
        if (specifier.startsWith('.')) {
          if (!resolve(file, specifier).startsWith('codegen/')) violations.push(`${file} imports ${specifier}`)
          continue
        }
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
        if (!dependencies.includes(name)) violations.push(`${file} imports the package ${name}`)
      }
    }
    expect(violations).toEqual([])
  })
})

describe('entry points', () => {
  const entries = [
    'src/index.ts',
    'src/xrpc.ts',
    'src/node.ts',
    'src/oauth.ts',
    'src/schema.ts',
    'src/runtime/index.ts',
  ]
  const internals = ['FAIL', 'CheckContext', 'fail', 'prefixIssues', 'compilation', 'STANDARD_ERRORS', 'TAKE_OVER']

  it('are curated lists: no `export *`', async () => {
    for (const entry of entries) {
      const text = await readFile(path.join(repoRoot, entry), 'utf8')
      expect(text, entry).not.toMatch(/export \*|export type \*/)
    }
  })

  it('keep the internals private', async () => {
    for (const entry of entries) {
      const module = (await import(path.join(repoRoot, entry))) as Record<string, unknown>
      expect(Object.keys(module).length, entry).toBeGreaterThan(0)
      for (const name of internals) expect(module, `${entry} exports ${name}`).not.toHaveProperty(name)
    }
  })
})
