import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LexiconError } from './errors.js'

/**
 * The lexicons bundled with the runtime package. The runtime ships their generated modules
 * (`blueskysdk/lexicons/<nsid path>`) but not their JSON, which is this package's to carry: the
 * repository's `lexicons/` folder, copied into the package when it is packed. The same relative
 * path finds it from the sources (codegen/*.ts → lexicons/) and from the build (dist/*.js → the copy).
 */
export const BUNDLED_LEXICONS_DIR = fileURLToPath(new URL('../lexicons/', import.meta.url))

/** Where the runtime package ships the bundled lexicons' modules. */
export const BUNDLED_MODULES = 'blueskysdk/lexicons'

const RUNTIME_PACKAGE = 'blueskysdk'

/** This package's own package.json, from the sources or the build. */
export async function ownPackage(): Promise<{ name: string; version: string }> {
  for (const candidate of ['./package.json', '../package.json']) {
    const text = await readFile(new URL(candidate, import.meta.url), 'utf8').catch(() => undefined)
    const json = text && (JSON.parse(text) as { name: string; version: string })
    if (json && json.name === 'blueskysdk-codegen') return json
  }
  throw new Error('blueskysdk-codegen: its package.json is missing')
}

/**
 * Refuses to reuse the runtime's modules when the runtime installed beside the output is another
 * version than this generator: their exports follow that version's lexicons, not the ones bundled here.
 */
export async function checkRuntimeVersion(out: string): Promise<void> {
  const require = createRequire(path.join(out, 'index.js'))
  let manifest: string
  try {
    manifest = require.resolve(`${RUNTIME_PACKAGE}/package.json`)
  } catch {
    return // not installed (yet): the generated code's imports will say so when it is compiled
  }
  const runtime = JSON.parse(await readFile(manifest, 'utf8')) as { version: string }
  const own = await ownPackage()
  if (runtime.version === own.version) return
  throw new LexiconError([
    {
      file: manifest,
      path: '$.version',
      message: `blueskysdk ${runtime.version} is installed, but this blueskysdk-codegen ${own.version} bundles the lexicons of blueskysdk ${own.version}: install blueskysdk-codegen@${runtime.version}, or generate every document from your own files with --no-bundled`,
    },
  ])
}
