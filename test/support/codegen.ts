import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll } from 'vitest'
import { generate, type GenerateReport } from '../../codegen/index.js'
import type { LexiconSource } from '../../codegen/load.js'
import type { ValidationResult } from '../../src/schema.js'
import { repoRoot } from './paths.js'

export { repoRoot }

const runtime = path.join(repoRoot, 'src/runtime/index.ts')

export interface GeneratedSet {
  dir: string
  report: GenerateReport
  validate(ref: string, value: unknown): ValidationResult<unknown>
  /** Imports a generated module by NSID. */
  module<T = Record<string, unknown>>(nsid: string): Promise<T>
}

/**
 * Generates `lexicons` into a fresh directory under `.tmp/` (removed after the file's tests) and loads
 * its registry. With `bundled`, refs to the bundled lexicons import the repository's generated/.
 */
export async function generateTemp(
  lexicons: string | string[] | LexiconSource[],
  options: { format?: boolean; client?: string; bundled?: boolean; prefer?: 'bundled' | 'own' } = {},
): Promise<GeneratedSet> {
  const dir = await tempDir()
  const out = path.join(dir, 'generated')
  const report = await generate({
    lexicons,
    out,
    runtime,
    client: options.client,
    // The repository's own generated/ plays the runtime package's bundled modules.
    bundled: options.bundled ? path.join(repoRoot, 'generated') : false,
    format: options.format ?? false,
    prefer: options.prefer,
  })
  const registry = (await import(path.join(out, 'lexicons.ts'))) as { validate: GeneratedSet['validate'] }
  return {
    dir: out,
    report,
    validate: registry.validate,
    module: (nsid) => import(path.join(out, `${nsid.split('.').join('/')}.ts`)),
  }
}

const created: string[] = []
afterAll(async () => {
  await Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A scratch directory inside the repo (so generated code resolves the runtime), removed after the file's tests. */
export async function tempDir(): Promise<string> {
  await mkdir(path.join(repoRoot, '.tmp'), { recursive: true })
  const dir = await mkdtemp(path.join(repoRoot, '.tmp', 'test-'))
  created.push(dir)
  return dir
}

/** An in-memory lexicon source. */
export function source(file: string, doc: unknown): LexiconSource {
  return { file, text: typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2) }
}
