/**
 * The packages as users get them: `npm pack` of the runtime (`blueskysdk`) and of the generator
 * (`blueskysdk-codegen`), installed into apps outside the repository.
 *
 * - A runtime-only app: what its install weighs (no build tools, no bins), and its code type-checks
 *   and runs against the local PDS.
 * - A codegen app: the generator's bin on the app's own lexicons (test/lexicons), which refer to a
 *   bundled lexicon the output imports from `blueskysdk/lexicons/…`; the output type-checks (and
 *   misuse does not) and runs against the lexicons' real server, directly and through the PDS.
 * - The runtime app's browser entry built by esbuild, Vite and Rollup at their default settings.
 */
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import * as esbuild from 'esbuild'
import { rollup } from 'rollup'
import { build as viteBuild } from 'vite'
import { beforeAll, describe, expect, it } from 'vitest'
import { startNetwork, type TestNetwork } from './network/index.js'
import { chromiumMissing, hasChromium, launchChromium } from './support/chromium.js'
import { repoRoot } from './support/codegen.js'
import {
  type ExampleServer,
  exampleGeneratedFiles,
  exampleLexiconDir,
  startExampleServer,
} from './support/example-server.js'

const run = promisify(execFile)
const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name)
const BIG = { maxBuffer: 16 * 1024 * 1024 }

/**
 * The runtime package's promise: an app that installs it gets at most this much in node_modules (the
 * SDK, ky, and the firehose's DAG-CBOR decoder: @atcute/cbor and its three small dependencies).
 */
const RUNTIME_INSTALL_LIMIT = 3 * 1000 * 1000
/** Packages that are build tools: none belongs in a runtime-only app. */
const BUILD_TOOLS = ['prettier', 'typescript', 'ts-morph', '@ts-morph', 'code-block-writer', 'jsonc-parser', 'valibot']

let scratch: string
let runtimeApp: string
let codegenApp: string
let network: TestNetwork
let notes: ExampleServer

async function pack(args: string[]): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', scratch, ...args], {
    cwd: repoRoot,
    ...BIG,
  })
  return path.join(scratch, stdout.trim().split('\n').pop()!)
}

async function newApp(name: string, files: string): Promise<string> {
  const dir = path.join(scratch, name)
  await cp(path.join(repoRoot, 'test/package', files), dir, { recursive: true })
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }))
  return dir
}

const install = (app: string, ...args: string[]) =>
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], { cwd: app, ...BIG })

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'blueskysdk-package-'))
  // One after the other: each runs its package's build (prepack).
  const runtimeTarball = await pack([])
  const codegenTarball = await pack(['--workspace', 'codegen'])
  runtimeApp = await newApp('runtime-app', 'runtime-app')
  codegenApp = await newApp('codegen-app', 'codegen-app')
  await cp(exampleLexiconDir, path.join(codegenApp, 'lexicons/com/example'), { recursive: true })
  await install(runtimeApp, runtimeTarball)
  await install(codegenApp, runtimeTarball)
  await install(codegenApp, '--save-dev', codegenTarball)
  network = await startNetwork()
  notes = await startExampleServer({ plcUrl: network.plcUrl })
  return async () => {
    await notes?.close()
    await network?.close()
    await rm(scratch, { recursive: true, force: true })
  }
}, 300_000)

/** tsc's diagnostics for one file of an app (strict, Node module resolution), or '' if it checks. */
function typeErrors(app: string, file: string): Promise<string> {
  const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022']
  // No --skipLibCheck: the packages' own declarations must check too, with nothing but what they install.
  return run(
    bin('tsc'),
    [...flags, '--types', 'node', '--typeRoots', path.join(repoRoot, 'node_modules/@types'), file],
    {
      cwd: app,
    },
  ).then(
    () => '',
    (error: { stdout: string }) => error.stdout,
  )
}

/** Every file under `dir`, with its size in bytes (what the files hold, not the blocks they take). */
async function filesUnder(dir: string): Promise<{ file: string; bytes: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const file = path.join(entry.parentPath, entry.name)
        return { file: path.relative(dir, file), bytes: (await stat(file)).size }
      }),
  )
}

function appEnv(account: { handle: string; password: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PDS_URL: network.pdsUrl,
    HANDLE: account.handle,
    PASSWORD: account.password,
    NOTES_URL: notes.url,
    NOTES_SERVICE: notes.serviceId,
  }
}

const lastJsonLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!)

describe('an app that installs the runtime alone', () => {
  it(`gets the runtime, ky and the DAG-CBOR codec, ${RUNTIME_INSTALL_LIMIT / 1e6} MB at most, no bins and no build tools`, async () => {
    const modules = path.join(runtimeApp, 'node_modules')
    const packages = (await readdir(modules)).filter((name) => !name.startsWith('.'))
    expect(packages.sort()).toEqual(['@atcute', 'blueskysdk', 'ky'])
    // The subscriptions' DAG-CBOR decoder (@atcute/cbor) and what it uses.
    expect((await readdir(path.join(modules, '@atcute'))).sort()).toEqual(['cbor', 'cid', 'multibase', 'uint8array'])
    for (const tool of BUILD_TOOLS) expect(packages).not.toContain(tool)
    await expect(stat(path.join(modules, '.bin'))).rejects.toThrow()
    const files = await filesUnder(modules)
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0)
    console.log(`[package.test] runtime-only node_modules: ${bytes} bytes in ${files.length} files`)
    expect(bytes).toBeLessThanOrEqual(RUNTIME_INSTALL_LIMIT)
    // The package's hygiene: its licence, changelog, and the TypeScript sources its maps point to.
    const own = files.filter((f) => f.file.startsWith('blueskysdk/')).map((f) => f.file)
    for (const file of [
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'dist/src/index.js.map',
      'dist/src/index.d.ts.map',
      'src/index.ts',
    ])
      expect(own).toContain(`blueskysdk/${file}`)
  })

  it('type-checks against the installed declarations, and runs against the local PDS', async () => {
    expect(await typeErrors(runtimeApp, 'app.ts')).toBe('')
    const account = await network.createAccount('runtime')
    const { stdout } = await run(bin('tsx'), ['app.ts'], { cwd: runtimeApp, env: appEnv(account) })
    expect(lastJsonLine(stdout)).toEqual({
      session: true,
      post: expect.objectContaining({ $type: 'app.bsky.feed.post', text: 'from a runtime-only install #atproto' }),
      badPost: ['record.text', 'record.createdAt'],
      perEndpoint: expect.arrayContaining(['.test']),
    })
    // The session was saved where the app said, readable by its owner only.
    expect((await stat(path.join(runtimeApp, 'session.json'))).mode & 0o777).toBe(0o600)
  })
})

describe('the browser entry, built at each bundler’s default settings', () => {
  /** Imports of Node built-ins in built code (static or dynamic): a browser cannot load one. */
  const nodeImports = (code: string) => code.match(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']node:[^"']*["']/g) ?? []

  /** A static file server for a built page, on 127.0.0.1. */
  function serveDirectory(dir: string): Promise<Server> {
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }
    const server = createServer(async (req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://page').pathname
      const file = path.join(dir, pathname === '/' ? 'index.html' : pathname)
      const body = file.startsWith(dir) ? await readFile(file).catch(() => undefined) : undefined
      if (!body) return res.writeHead(404).end()
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body)
    })
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
  }

  /**
   * The built app: no chunk imports a Node built-in (a browser cannot load one), and the entry runs
   * (evaluated here, by Node's ESM loader, as a browser would load it): a client with its namespaces.
   */
  async function expectRunnableBundle(outdir: string, entry: string): Promise<void> {
    const chunks = (await filesUnder(outdir)).filter((f) => f.file.endsWith('.js'))
    expect(chunks.length).toBeGreaterThan(1) // code-split: endpoint modules in their own chunks
    for (const { file } of chunks)
      expect(nodeImports(await readFile(path.join(outdir, file), 'utf8')), file).toEqual([])
    const { start } = (await import(path.join(outdir, entry))) as {
      start(service: string): { client: { app: any; com: any }; bsky: { post: unknown } }
    }
    const { client, bsky } = start('http://127.0.0.1:1')
    expect(typeof client.app.bsky.actor.getProfile).toBe('function')
    expect(typeof client.com.atproto.repo.createRecord).toBe('function')
    expect(typeof bsky.post).toBe('function')
  }

  it('esbuild', async () => {
    const outdir = path.join(runtimeApp, 'out-esbuild')
    const result = await esbuild.build({
      entryPoints: [path.join(runtimeApp, 'main.js')],
      bundle: true,
      format: 'esm',
      splitting: true,
      outdir,
      logLevel: 'silent',
    })
    expect(result.errors).toEqual([])
    expect(result.warnings).toEqual([])
    await expectRunnableBundle(outdir, 'main.js')
  })

  it('Vite', async () => {
    const warnings: string[] = []
    await viteBuild({
      root: runtimeApp,
      configFile: false,
      logLevel: 'silent',
      customLogger: {
        info() {},
        warn: (message) => warnings.push(message),
        warnOnce: (message) => warnings.push(message),
        error: (message) => warnings.push(message),
        clearScreen() {},
        hasErrorLogged: () => false,
        hasWarned: false,
      },
    })
    expect(warnings).toEqual([])
    const outdir = path.join(runtimeApp, 'dist')
    const chunks = (await filesUnder(outdir)).filter((f) => f.file.endsWith('.js'))
    expect(chunks.length).toBeGreaterThan(1)
    for (const { file } of chunks)
      expect(nodeImports(await readFile(path.join(outdir, file), 'utf8')), file).toEqual([])
    // Vite builds a page (its entry starts with a preload helper that needs a document): open it in Chromium.
    if (!hasChromium && process.env.CI !== 'true')
      return console.warn(`[package.test] Vite page not opened: ${chromiumMissing}`)
    const server = await serveDirectory(outdir)
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await page.waitForFunction(() => 'app' in window, undefined, { timeout: 10_000 })
      const types = await page.evaluate(() => {
        const { client, bsky } = (window as any).app
        return [typeof client.app.bsky.actor.getProfile, typeof client.com.atproto.repo.createRecord, typeof bsky.post]
      })
      expect(types).toEqual(['function', 'function', 'function'])
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('Rollup (with node-resolve, as Rollup finds packages)', async () => {
    const warnings: string[] = []
    const bundle = await rollup({
      input: path.join(runtimeApp, 'main.js'),
      plugins: [nodeResolve()],
      onwarn: (warning) => {
        // Lexicons refer to each other in cycles (actor ↔ feed defs, …); the generator makes every ref
        // that closes one lazy, so module order cannot matter, which running the bundle shows.
        if (warning.code === 'CIRCULAR_DEPENDENCY' && warning.ids?.every((id) => id.includes('/dist/generated/')))
          return
        warnings.push(warning.message)
      },
    })
    const outdir = path.join(runtimeApp, 'out-rollup')
    await bundle.write({ dir: outdir, format: 'es' })
    await bundle.close()
    expect(warnings).toEqual([])
    await expectRunnableBundle(outdir, 'main.js')
  })
})

describe('an app that generates its own lexicons with blueskysdk-codegen', () => {
  let generatedFiles: string[]

  beforeAll(async () => {
    const { stdout } = await run(
      'npx',
      ['--no-install', 'blueskysdk-codegen', '--lexicons', 'lexicons', '--out', 'generated'],
      {
        cwd: codegenApp,
      },
    )
    expect(stdout).toContain('Generated 10 files from 5 lexicon documents')
    expect(stdout).toContain('imported from the bundled lexicons: 1 (com.atproto.repo.strongRef)')
    generatedFiles = (await filesUnder(path.join(codegenApp, 'generated'))).map((f) => f.file).sort()
  }, 60_000)

  it('writes its own documents only, importing the bundled ones from the runtime package', async () => {
    expect(generatedFiles).toEqual(exampleGeneratedFiles)
    const note = await readFile(path.join(codegenApp, 'generated/com/example/note.ts'), 'utf8')
    expect(note).toContain("from 'blueskysdk/lexicons/com/atproto/repo/strongRef'")
    const client = await readFile(path.join(codegenApp, 'generated/client.ts'), 'utf8')
    expect(client).toContain("from 'blueskysdk'")
    expect(client).toContain("declare module 'blueskysdk/runtime'")
  })

  it('answers --version and a wrong call as the CLI should', async () => {
    const { stdout } = await run('npx', ['--no-install', 'blueskysdk-codegen', '--version'], { cwd: codegenApp })
    expect(stdout.trim()).toBe(JSON.parse(await readFile(path.join(repoRoot, 'codegen/package.json'), 'utf8')).version)
    const wrong = await run('npx', ['--no-install', 'blueskysdk-codegen', '--lexicons', 'nowhere', '--out', 'x'], {
      cwd: codegenApp,
    }).catch((error: { code: number; stderr: string }) => error)
    expect(wrong).toMatchObject({
      code: 2,
      stderr: 'blueskysdk-codegen: --lexicons nowhere: no such folder (see --help)\n',
    })
  })

  it('type-checks correct use of the schema-driven types, and refuses misuse', async () => {
    expect(await typeErrors(codegenApp, 'good.ts')).toBe('')
    const bad = await typeErrors(codegenApp, 'bad.ts')
    expect(bad).toMatch(/bad\.ts\(7,\d+\): error TS2741: Property 'text' is missing/)
    expect(bad).toMatch(/bad\.ts\(8,\d+\): error TS2561: .*'actr' does not exist/)
    expect(bad).toMatch(/bad\.ts\(9,\d+\): error TS2322/) // title: number
    expect(bad).toMatch(/bad\.ts\(10,\d+\): error TS2345: [^\n]*\n\s+Property 'id' is missing/)
    expect(bad).toMatch(/bad\.ts\(11,\d+\): error TS2741: Property 'createdAt' is missing/)
    expect(bad).toMatch(/bad\.ts\(12,\d+\): error TS2741: Property 'cid' is missing/) // the bundled strongRef
    expect(bad.match(/error TS/g)).toHaveLength(6)
  })

  it('calls the local PDS and the app’s own server with the generated client', async () => {
    const account = await network.createAccount('packed')
    const { stdout } = await run(bin('tsx'), ['app.ts'], { cwd: codegenApp, env: appEnv(account) })
    expect(lastJsonLine(stdout)).toEqual({
      session: true,
      post: expect.objectContaining({ $type: 'app.bsky.feed.post', text: 'from a packed install' }),
      badNote: ['record.createdAt'],
      perEndpoint: expect.arrayContaining(['.test']),
      note: { title: 'through the PDS', createdAt: expect.any(String) },
      noteMissing: 'NoteNotFoundError',
      validNote: true,
      invalidNote: false,
    })
  })
})
