/**
 * The package as users get it: `npm pack`, installed into an app outside the repository, then
 * (a) the namespaced client and a per-endpoint module against the local PDS, and the app's own
 * generated client against its real com.example server, directly and through the PDS; (b)
 * schema-driven types that type-check, and misuse that does not; (c) the codegen bin on the app's
 * own lexicons (test/lexicons), whose generated client (a) and (b) use.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { startNetwork, type TestNetwork } from './network/index.js'
import { repoRoot } from './support/codegen.js'
import { type ExampleServer, exampleLexiconDir, startExampleServer } from './support/example-server.js'

const run = promisify(execFile)
const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name)

let app: string
let network: TestNetwork
let notes: ExampleServer
let installedAlone: string[]
let codegenWithoutPrettier: { code: number; stderr: string }
const repoPackage = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>
}

beforeAll(async () => {
  const scratch = await mkdtemp(path.join(tmpdir(), 'blueskysdk-package-'))
  app = path.join(scratch, 'app')
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', scratch], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  })
  const tarball = path.join(scratch, stdout.trim().split('\n').pop()!)
  await cp(path.join(repoRoot, 'test/package'), app, { recursive: true })
  await cp(exampleLexiconDir, path.join(app, 'lexicons/com/example'), { recursive: true })
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  const install = (...args: string[]) =>
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], {
      cwd: app,
      maxBuffer: 16 * 1024 * 1024,
    })
  await install(tarball)
  // What an app that only uses the runtime has, and the generator's answer before prettier is there.
  installedAlone = await readdir(path.join(app, 'node_modules'))
  codegenWithoutPrettier = await run(
    'npx',
    ['--no-install', 'blueskysdk-codegen', '--lexicons', 'lexicons', '--out', 'generated'],
    {
      cwd: app,
    },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  )
  await install('--save-dev', `prettier@${repoPackage.devDependencies.prettier}`) // as a codegen user would
  network = await startNetwork()
  notes = await startExampleServer({ plcUrl: network.plcUrl })
  return async () => {
    await notes?.close()
    await network?.close()
    await rm(scratch, { recursive: true, force: true })
  }
}, 300_000)

/** tsc's diagnostics for one file of the app (strict, Node module resolution), or '' if it checks. */
function typeErrors(file: string): Promise<string> {
  const flags = [
    '--noEmit',
    '--strict',
    '--skipLibCheck',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
  ]
  return run(bin('tsc'), [...flags, file], { cwd: app }).then(
    () => '',
    (error: { stdout: string }) => error.stdout,
  )
}

describe('the packed package, installed in an app', () => {
  it('(d) brings no build tools into the app: prettier is an optional peer the generator asks for', async () => {
    expect(installedAlone).toContain('blueskysdk')
    for (const tool of ['prettier', 'typescript', 'ts-morph', '@ts-morph']) expect(installedAlone).not.toContain(tool)
    expect(codegenWithoutPrettier.code).toBe(1)
    expect(codegenWithoutPrettier.stderr).toContain('needs prettier: npm install -D prettier (or pass --no-format)')
    expect(codegenWithoutPrettier.stderr).not.toMatch(/\n\s+at /) // a message, not a stack trace
    await expect(stat(path.join(app, 'generated'))).rejects.toThrow() // nothing written
  })

  it('(c) runs the codegen bin on the app’s own lexicons', async () => {
    const { stdout } = await run(
      'npx',
      ['--no-install', 'blueskysdk-codegen', '--lexicons', 'lexicons', '--out', 'generated'],
      { cwd: app },
    )
    expect(stdout).toContain('Generated 9 files from 5 lexicon documents') // 5 modules, com.example's namespace, registry, client, namespaces
    expect(stdout).toContain('com.example 5')
    // Bound to the package: the set's createClient comes from blueskysdk.
    const client = await readFile(path.join(app, 'generated/client.ts'), 'utf8')
    expect(client).toContain("from 'blueskysdk'")
    expect(client).toContain("declare module 'blueskysdk/runtime'")
  })

  it('(a) calls the local PDS with the namespaced client and a per-endpoint import, and the generated client', async () => {
    const account = await network.createAccount('packed')
    const { stdout } = await run(bin('tsx'), ['app.ts'], {
      cwd: app,
      env: {
        ...process.env,
        PDS_URL: network.pdsUrl,
        HANDLE: account.handle,
        PASSWORD: account.password,
        NOTES_URL: notes.url,
        NOTES_SERVICE: notes.serviceId,
      },
    })
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
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

  it('(b) type-checks correct use of the schema-driven types, and refuses misuse', async () => {
    expect(await typeErrors('good.ts')).toBe('')
    const bad = await typeErrors('bad.ts')
    expect(bad).toMatch(/bad\.ts\(7,\d+\): error TS2741: Property 'text' is missing/)
    expect(bad).toMatch(/bad\.ts\(8,\d+\): error TS2561: .*'actr' does not exist/)
    expect(bad).toMatch(/bad\.ts\(9,\d+\): error TS2322/) // title: number
    expect(bad).toMatch(/bad\.ts\(10,\d+\): error TS2345: [^\n]*\n\s+Property 'id' is missing/)
    expect(bad).toMatch(/bad\.ts\(11,\d+\): error TS2741: Property 'createdAt' is missing/)
    expect(bad.match(/error TS/g)).toHaveLength(5)
  })
})
