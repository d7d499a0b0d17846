/**
 * An app's own lexicons as a first-class client, end to end: test/lexicons/com/example is generated
 * (as `blueskysdk-codegen` does for an app), and the generated set's `createClient` talks to a real
 * XRPC server for those lexicons (@atproto/xrpc-server on 127.0.0.1, ./support/example-server.ts),
 * directly and through the real PDS's proxy, on one client that also calls app.bsky and com.atproto.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GenerateReport } from '../codegen/index.js'
import {
  BearerAuth,
  createClient,
  PasswordSession,
  ResponseValidationError,
  ValidationError,
  XRPCError,
  type LexiconSet,
} from '../src/index.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { generateTemp, repoRoot } from './support/codegen.js'
import {
  type ExampleServer,
  exampleGeneratedFiles,
  exampleLexiconDir,
  startExampleServer,
} from './support/example-server.js'

// What the generated client.ts of the set exports (its types are checked in test/package.test.ts,
// where the set is generated inside an app; here it is loaded at run time).
interface ExampleClientModule {
  lexicons: LexiconSet
  createClient(options: Record<string, unknown>): any
}

let network: TestNetwork
let example: ExampleServer
let alice: Account
let generated: ExampleClientModule
let errorClasses: { NoteNotFoundError: new (...args: any[]) => XRPCError }
let generatedDir: string
let generatedFiles: string[]
let report: GenerateReport

beforeAll(async () => {
  ;[network, generated] = await Promise.all([
    startNetwork(),
    generateTemp(exampleLexiconDir, { client: `${repoRoot}/src/index.ts`, bundled: true }).then(async (set) => {
      ;({ dir: generatedDir, report } = set)
      generatedFiles = (await readdir(set.dir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(set.dir, path.join(entry.parentPath, entry.name)))
        .sort()
      errorClasses = await set.module('com.example.getNote')
      return import(`${set.dir}/client.ts`) as Promise<ExampleClientModule>
    }),
  ])
  ;[example, alice] = await Promise.all([startExampleServer({ plcUrl: network.plcUrl }), network.createAccount()])
})
afterAll(async () => {
  await example?.close()
  await network?.close()
})

describe('generated for the app’s own lexicons', () => {
  it('imports the bundled lexicons it refers to from the runtime instead of generating them again', async () => {
    expect(generatedFiles).toEqual(exampleGeneratedFiles)
    expect(report.reused).toEqual(['com.atproto.repo.strongRef'])
    const note = await readFile(path.join(generatedDir, 'com/example/note.ts'), 'utf8')
    const fromNote = path.relative(path.join(generatedDir, 'com/example'), path.join(repoRoot, 'generated'))
    expect(note).toContain(`from ${JSON.stringify(`${fromNote}/com/atproto/repo/strongRef.js`)}`)
  })
})

describe('a client for the app’s own lexicons', () => {
  it('calls com.example.* on their server, with the generated types, errors and response getters', async () => {
    const client = generated.createClient({ service: example.url })
    example.reset()
    const missing = await client.com.example.getNote({ id: '3kznmn7xqxl22' }).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(errorClasses.NoteNotFoundError)
    expect(missing).toMatchObject({ status: 400, error: 'NoteNotFound' })
    expect(example.requests.count('com.example.getNote')).toBe(1)
    // The bundled lexicons are on the same client.
    expect(typeof client.app.bsky.actor.getProfile).toBe('function')
    expect(typeof client.com.atproto.repo.createRecord).toBe('function')
  })

  it('sets fields named like builder methods with fluent setters, and $set for those that keep their meaning', async () => {
    const client = createClient({ service: example.url, lexicons: generated.lexicons }) as any
    const echoed = await client.com.example
      .echo()
      .options('o')
      .headers('h')
      .params('p')
      .input('i')
      .signal('s')
      .$set('send', 'x')
      .$set('then', 't')
      .$set('catch', 'c')
      .$set('toJSON', 'j')
      .$params({ then: 'query then', send: 'query send' })
      .$headers({ 'x-trace': 'trace' })
    expect(echoed.input).toEqual({
      options: 'o',
      headers: 'h',
      params: 'p',
      input: 'i',
      signal: 's',
      send: 'x',
      then: 't',
      catch: 'c',
      toJSON: 'j',
    })
    expect(echoed.params).toEqual({ then: 'query then', send: 'query send' })
    expect(example.requests.lastHeaders('com.example.echo')?.['x-trace']).toBe('trace')
    // The argument form takes the same names.
    const again = await client.com.example.echo({ send: 'a', then: 'b', headers: 'c' }, { params: { send: 'q' } })
    expect(again.$data).toEqual({ params: { send: 'q' }, input: { send: 'a', then: 'b', headers: 'c' } })
  })

  it('validates both ways: a bad call sends nothing, a bad answer is a ResponseValidationError', async () => {
    const client = generated.createClient({ service: example.url })
    example.reset()
    const badParams = await client.com.example.getNote({ id: 'not/a/record-key' }).catch((e: unknown) => e)
    expect(badParams).toBeInstanceOf(ValidationError)
    expect((badParams as ValidationError).issues).toEqual([{ path: 'id', message: 'must be a valid record key' }])
    const badInput = await client.com.example.createNote({ title: 'x'.repeat(101) }).catch((e: unknown) => e)
    expect(badInput).toBeInstanceOf(ValidationError)
    expect((badInput as ValidationError).issues).toEqual([
      { path: 'title', message: 'must not be longer than 100 graphemes' },
    ])
    expect(example.requests.counts()).toEqual({})

    try {
      for (const mode of ['missing-status', 'title-not-string'] as const) {
        example.misbehave(mode)
        const badAnswer = await client.com.example.getNote({ id: '3kznmn7xqxl22' }).catch((e: unknown) => e)
        expect(badAnswer, mode).toBeInstanceOf(ResponseValidationError)
        expect(
          (badAnswer as ResponseValidationError).issues.map((i) => i.path),
          mode,
        ).toEqual(mode === 'title-not-string' ? ['note.title'] : ['status'])
      }
      // Switched off, the same answer comes through as it is.
      const lax = generated.createClient({ service: example.url, validate: { response: false } })
      expect((await lax.com.example.getNote({ id: '3kznmn7xqxl22' })).note.title).toBe(42)
    } finally {
      example.misbehave(undefined)
    }
  })

  it('authenticates with a service-auth token as a static bearer', async () => {
    const pds = createClient({ service: network.pdsUrl })
    await pds.authenticate(alice.handle, alice.password)
    const { token } = await pds.com.atproto.server.getServiceAuth({ aud: example.did, lxm: 'com.example.createNote' })

    const client = generated.createClient({ service: example.url, auth: new BearerAuth(token) })
    const created = await client.com.example.createNote({ title: 'by bearer', tags: ['a'] })
    expect(created.status).toBe('draft') // an output field named like HTTP metadata
    expect(created.$status).toBe(200)
    const read = await client.com.example.getNote({ id: created.id })
    expect(read.note).toMatchObject({ title: 'by bearer', tags: ['a'] })
    expect(read.headers).toContain('authorization') // the lexicon's `headers` field, not HTTP's

    const anonymous = generated.createClient({ service: example.url })
    await expect(anonymous.com.example.createNote({ title: 'no token' })).rejects.toMatchObject({
      status: 401,
      error: 'AuthMissing',
    })
  })

  it('one client, one session: com.example through the PDS proxy beside app.bsky and com.atproto', async () => {
    const session = new PasswordSession({ service: network.pdsUrl })
    await session.authenticate(alice.handle, alice.password)
    const client = generated.createClient({ auth: session })
    example.reset()

    const created = await client.com.example.createNote({ title: 'through the PDS' }, { proxy: example.serviceId })
    const read = await client.com.example.getNote({ id: created.id }, { proxy: example.serviceId })
    expect(read.note.title).toBe('through the PDS')
    expect(example.requests.count('com.example.createNote')).toBe(1)
    // The PDS authenticated us to the service with its own service-auth token, not our access token.
    const authorization = example.requests.lastHeaders('com.example.createNote')?.authorization
    expect(authorization).toMatch(/^Bearer /)
    expect(authorization).not.toContain(session.current!.accessJwt)

    expect((await client.com.atproto.server.getSession()).did).toBe(alice.did)
    expect((await client.app.bsky.actor.getPreferences()).preferences).toEqual([])
  })

  it('checks the app’s own records by their lexicon when writing them to a PDS', async () => {
    const client = generated.createClient({ service: network.pdsUrl })
    await client.authenticate(alice.handle, alice.password)
    const refused = await client.com.atproto.repo
      .createRecord({
        repo: alice.did,
        collection: 'com.example.note',
        record: { title: 5, subject: { uri: 'not an at-uri', cid: 'bafy' } },
      })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ValidationError)
    // subject is checked by the bundled com.atproto.repo.strongRef, imported (not generated again).
    expect((refused as ValidationError).issues.map((i) => i.path)).toEqual([
      'record.title',
      'record.createdAt',
      'record.subject.uri',
      'record.subject.cid',
    ])

    const post = await client.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'a note is about me', createdAt: new Date().toISOString() },
    })
    const note = {
      $type: 'com.example.note',
      title: 'kept in my repo',
      createdAt: new Date().toISOString(),
      subject: { uri: post.uri, cid: post.cid },
    }
    const written = await client.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'com.example.note',
      record: note,
    })
    const rkey = written.uri.split('/').pop()!
    const back = await client.com.atproto.repo.getRecord({ repo: alice.did, collection: 'com.example.note', rkey })
    expect(back.value).toEqual(note)
  })
})
