/**
 * The package as users get it: `npm pack`, installed into an app outside the repository, then
 * (a) the namespaced client and a per-endpoint module against the local PDS, (b) schema-driven
 * types that type-check, and misuse that does not, (c) the codegen bin on the app's own lexicons,
 * whose generated client is then used.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { startNetwork, type TestNetwork } from './network/index.js'
import { repoRoot } from './support/codegen.js'
import { type FaultServer, json, startFaultServer } from './support/fault-server.js'

const run = promisify(execFile)
const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name)

let app: string
let network: TestNetwork
let notes: FaultServer

beforeAll(async () => {
  const scratch = await mkdtemp(path.join(tmpdir(), 'blueskysdk-package-'))
  app = path.join(scratch, 'app')
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', scratch], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  })
  const tarball = path.join(scratch, stdout.trim().split('\n').pop()!)
  await cp(path.join(repoRoot, 'test/package'), app, { recursive: true })
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: app,
    maxBuffer: 16 * 1024 * 1024,
  })
  ;[network, notes] = await Promise.all([startNetwork(), startFaultServer()])
  return async () => {
    await Promise.all([network?.close(), notes?.close()])
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
  it('(c) runs the codegen bin on the app’s own lexicons', async () => {
    const { stdout } = await run(
      'npx',
      ['--no-install', 'blueskysdk-codegen', '--lexicons', 'lexicons', '--out', 'generated'],
      { cwd: app },
    )
    expect(stdout).toContain('Generated 5 files from 2 lexicon documents')
    expect(stdout).toContain('com.example 2')
  })

  it('(a) calls the local PDS with the namespaced client and a per-endpoint import, and the generated client', async () => {
    const account = await network.createAccount('packed')
    notes.script((request, response, index) =>
      request.url.searchParams.get('id') === '3kznmn7xqxl22'
        ? json(200, { note: { $type: 'com.example.note', title: 'hello', createdAt: '2024-01-01T00:00:00.000Z' } })(
            request,
            response,
            index,
          )
        : json(400, { error: 'NoteNotFound', message: 'no such note' })(request, response, index),
    )
    const { stdout } = await run(bin('tsx'), ['app.ts'], {
      cwd: app,
      env: {
        ...process.env,
        PDS_URL: network.pdsUrl,
        HANDLE: account.handle,
        PASSWORD: account.password,
        NOTES_URL: notes.url,
      },
    })
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      session: true,
      post: expect.objectContaining({ $type: 'app.bsky.feed.post', text: 'from a packed install' }),
      perEndpoint: expect.arrayContaining(['.test']),
      note: { $type: 'com.example.note', title: 'hello', createdAt: '2024-01-01T00:00:00.000Z' },
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
    expect(bad.match(/error TS/g)).toHaveLength(3)
  })
})
