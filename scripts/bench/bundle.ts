import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Metafile } from 'esbuild'
import type { Section } from './report.js'

/** The scenario entries in ./bundle, by role. Each logs in, creates a post and gets a profile. */
const SCENARIOS = {
  oursClient: 'ours-client',
  oursEndpoints: 'ours-endpoints',
  atprotoApi: 'atproto-api',
  atprotoApiValidated: 'atproto-api-validated',
  atcute: 'atcute',
  atcuteValidated: 'atcute-validated',
} as const

/**
 * The lazily imported modules a run of the scenario loads, so their chunks count: the endpoints it
 * calls, the post lexicon (the namespaced client checks the record by its collection), the
 * namespace modules the namespaced client looks those up in (the session's own calls are imported
 * by the session itself), and the HTTP side (ky), which a client imports with its first request.
 */
const LOADED_MODULES = [
  'generated/com/atproto/repo/_namespace.ts',
  'generated/app/bsky/actor/_namespace.ts',
  'generated/app/bsky/feed/_namespace.ts',
  'generated/com/atproto/server/createSession.ts',
  'generated/com/atproto/repo/createRecord.ts',
  'generated/app/bsky/actor/getProfile.ts',
  'generated/app/bsky/feed/post.ts',
  'src/client/ky.ts',
]

export interface BundleSize {
  /** Minified bytes of the chunks the scenario loads, summed. */
  bytes: number
  /** The same chunks, each gzip -9 on its own (as served), summed. */
  gzip: number
  /** Every chunk, for comparison: the whole output of a build without code splitting. */
  singleFile: { bytes: number; gzip: number }
  /** Biggest inputs in the loaded chunks: minified bytes each contributes. */
  inputs: [path: string, bytes: number][]
  /** Imports left external (`node:*`) in the loaded chunks, and how they are imported. */
  externals: string[]
  /** The same anywhere in the single-file build, loaded or not. */
  externalsAnywhere: string[]
}

const gzip = (data: Uint8Array): number => gzipSync(data, { level: 9 }).length

async function bundle(name: string, splitting: boolean) {
  return build({
    entryPoints: [`scripts/bench/bundle/${name}.ts`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting,
    external: ['node:*'],
    write: false,
    outdir: 'bench-out',
    metafile: true,
    logLevel: 'error',
  })
}

/**
 * The chunks a run of the scenario loads: the entry, what it imports statically, and of its dynamic
 * imports only those of LOADED_MODULES (with what they import in turn).
 */
function loadedChunks(metafile: Metafile, entry: string): string[] {
  const outputs = metafile.outputs
  const start = Object.keys(outputs).find((path) => outputs[path].entryPoint === entry)
  if (!start) throw new Error(`no output for ${entry}`)
  const loaded = new Set<string>()
  const visit = (path: string) => {
    if (loaded.has(path)) return
    loaded.add(path)
    for (const imported of outputs[path].imports) {
      if (imported.external) continue
      const target = outputs[imported.path]
      if (imported.kind === 'import-statement' || LOADED_MODULES.includes(target?.entryPoint ?? ''))
        visit(imported.path)
    }
  }
  visit(start)
  return [...loaded]
}

/** The chunks the bench counts for a scenario, by file name (what `measureBundle` sums). */
export async function countedChunks(name: string): Promise<string[]> {
  const split = await bundle(name, true)
  return loadedChunks(split.metafile, `scripts/bench/bundle/${name}.ts`)
    .map((chunk) => path.basename(chunk))
    .sort()
}

/**
 * The chunks a run of the scenario really loads, by file name: its code-split build written to a
 * temporary directory and run in a fresh `node` against a stub server (a `fetch` answering the
 * three calls with minimal valid bodies), with a module hook noting every file imported. For
 * checking that the counted chunks are the loaded ones (test/bundle.test.ts).
 */
export async function runChunks(name: string): Promise<string[]> {
  const split = await bundle(name, true)
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-chunks-'))
  try {
    const out = path.join(dir, 'out')
    await mkdir(out)
    for (const file of split.outputFiles) await writeFile(path.join(out, path.basename(file.path)), file.contents)
    // The hooks run on their own thread, whose stderr writes may be lost when the process exits:
    // they append to a file, synchronously, instead.
    const log = path.join(dir, 'loaded.txt')
    await writeFile(log, '')
    await writeFile(path.join(dir, 'hooks.mjs'), traceHooks(log))
    await writeFile(
      path.join(dir, 'register.mjs'),
      `import { register } from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n`,
    )
    const entry = pathToFileURL(path.join(out, `${name}.js`)).href
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, '--input-type=module', '-e', stubRun(entry)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk))
      child.on('error', reject)
      child.on('close', (status) => (status === 0 ? resolve() : reject(new Error(`${name}: ${output}`))))
    })
    const prefix = pathToFileURL(out).href + '/'
    const files = (await readFile(log, 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith(prefix))
      .map((line) => line.slice(prefix.length))
    return [...new Set(files)].sort()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A module hook that appends the URL of each module it loads to `log`. */
function traceHooks(log: string): string {
  return `import { appendFileSync } from 'node:fs'
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, url + '\\n')
  return next(url, context)
}
`
}

/** Runs a scenario's entry against a stub `fetch` answering createSession, createRecord and getProfile. */
function stubRun(entry: string): string {
  const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
  const answers = {
    'com.atproto.server.createSession': { handle: 'alice.test', did },
    'com.atproto.repo.createRecord': {
      uri: `at://${did}/app.bsky.feed.post/3kznmn7xqxl22`,
      cid: 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq',
    },
    'app.bsky.actor.getProfile': { handle: 'alice.test', did },
  }
  return `
    const token = 'e30.' + Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url') + '.sig'
    const answers = ${JSON.stringify(answers)}
    answers['com.atproto.server.createSession'].accessJwt = token
    answers['com.atproto.server.createSession'].refreshJwt = token
    globalThis.fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      const answer = answers[url.pathname.replace('/xrpc/', '')]
      return answer ? Response.json(answer) : new Response(null, { status: 404 })
    }
    const { scenario } = await import(${JSON.stringify(entry)})
    await scenario('https://pds.invalid', 'alice.test', 'password', 'hello')
  `
}

export async function measureBundle(name: string): Promise<BundleSize> {
  const split = await bundle(name, true)
  const chunks = loadedChunks(split.metafile, `scripts/bench/bundle/${name}.ts`)
  const files = split.outputFiles.filter((file) =>
    chunks.some((chunk) => file.path.endsWith(chunk.replace(/^bench-out\//, '/'))),
  )
  if (files.length !== chunks.length) throw new Error(`${name}: ${chunks.length} chunks but ${files.length} files`)
  const contributions = new Map<string, number>()
  const externals = new Set<string>()
  for (const chunk of chunks) {
    const output = split.metafile.outputs[chunk]
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      contributions.set(input, (contributions.get(input) ?? 0) + bytesInOutput)
    for (const imported of output.imports) if (imported.external) externals.add(`${imported.path} (${imported.kind})`)
  }
  const single = await bundle(name, false)
  const whole = single.outputFiles.filter((file) => file.path.endsWith('.js'))
  const externalsAnywhere = Object.values(single.metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external).map((i) => `${i.path} (${i.kind})`),
  )
  return {
    bytes: files.reduce((sum, file) => sum + file.contents.length, 0),
    gzip: files.reduce((sum, file) => sum + gzip(file.contents), 0),
    singleFile: {
      bytes: whole.reduce((sum, file) => sum + file.contents.length, 0),
      gzip: whole.reduce((sum, file) => sum + gzip(file.contents), 0),
    },
    inputs: [...contributions].sort((a, b) => b[1] - a[1]),
    externals: [...externals],
    externalsAnywhere: [...new Set(externalsAnywhere)],
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

/** esbuild output sizes are deterministic: one build per scenario, no median needed. */
export async function bundleSection(): Promise<Section> {
  const sizes = {} as Record<keyof typeof SCENARIOS, BundleSize>
  for (const [role, name] of Object.entries(SCENARIOS))
    sizes[role as keyof typeof SCENARIOS] = await measureBundle(name)
  const { oursClient, oursEndpoints, atprotoApi, atprotoApiValidated, atcute, atcuteValidated } = sizes
  const row = (name: string, pick: (size: BundleSize) => number, [ours, api, cute]: BundleSize[]) => ({
    name,
    values: [ours, api, cute].map((size) => pick(size) / 1024),
  })
  const plain = [oursClient, atprotoApi, atcute]
  const validated = [oursEndpoints, atprotoApiValidated, atcuteValidated]
  const top = (size: BundleSize) =>
    size.inputs
      .slice(0, 6)
      .map(([path, bytes]) => `\`${path.replace(/^node_modules\//, '')}\` ${kb(bytes)}`)
      .join(', ')
  const listExternals = (pick: (size: BundleSize) => string[]) =>
    Object.entries(sizes)
      .filter(([, size]) => pick(size).length > 0)
      .map(([role, size]) => `${SCENARIOS[role as keyof typeof SCENARIOS]}: ${pick(size).join(', ')}`)
  const externals = listExternals((s) => s.externals)
  const anywhere = listExternals((s) => s.externalsAnywhere)
  return {
    title: 'Bundle size',
    method:
      'Log in, create a post, get a profile, bundled by esbuild (minified, ESM, platform browser, code splitting, `node:*` external); each entry is in `scripts/bench/bundle/`. ' +
      'Counted: the entry chunk, the chunks it imports statically, and of its lazily imported chunks those the scenario loads (createSession, createRecord, getProfile, the post lexicon the namespaced client checks the record with, the namespace modules it finds them in, the HTTP side with ky that a client loads with its first request, and what they import), each gzipped at level 9 on its own, summed. ' +
      'Ours first through the namespaced `Client`, then through per-endpoint imports on `XRPCClient` with the post validated (`validate(recordSchema, post)`); the anchors are `AtpAgent` of `@atproto/api` (validated: `AppBskyFeedPost.validateRecord`) and `@atcute/client` with `@atcute/password-session` (validated: `safeParse(AppBskyFeedPost.mainSchema, post)`). ' +
      "The validated scenarios do not validate alike: ours, as users get it by default, also checks every call's params and input before sending and every response after (so its count holds the output schemas of the three calls, getProfile's profile view and what it refers to among them), where atcute's checks the post only. Turning response validation off would not change our count, since an endpoint's descriptor carries its output schema. " +
      'That the counted chunks are the ones a run loads is checked by test/bundle.test.ts, which runs each code-split build against a stub server. 1 KB = 1,024 bytes; sizes are deterministic, so one build each.',
    unit: 'KB',
    columns: ['blueskysdk', '@atproto/api', '@atcute/client'],
    lowerIsBetter: true,
    rows: [
      row('namespaced client, gzip', (s) => s.gzip, plain),
      row('namespaced client, minified', (s) => s.bytes, plain),
      row('per-endpoint, post validated, gzip', (s) => s.gzip, validated),
      row('per-endpoint, post validated, minified', (s) => s.bytes, validated),
    ],
    notes: [
      `Without code splitting (one file holding every endpoint module, loaded or not), gzip / minified: ${Object.entries(
        sizes,
      )
        .map(
          ([role, s]) =>
            `${SCENARIOS[role as keyof typeof SCENARIOS]} ${kb(s.singleFile.gzip)} / ${kb(s.singleFile.bytes)}`,
        )
        .join('; ')}.`,
      `Biggest inputs of ours (minified bytes in the loaded chunks): namespaced client: ${top(oursClient)}; per-endpoint: ${top(oursEndpoints)}.`,
      (externals.length
        ? `Node-only imports left in the loaded chunks: ${externals.join('; ')}.`
        : 'No `node:*` import is left in the loaded chunks of any scenario: nothing node-only is loaded in the browser.') +
        (anywhere.length
          ? ` In the whole output (single file): ${anywhere.join('; ')}.`
          : ' Nor anywhere in the single-file output (the dynamic `node:fs` imports of `FileSessionStore` and `readMedia` are tree-shaken away).'),
    ],
  }
}
