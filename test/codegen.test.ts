import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { generate, LexiconError, MARKER_FILE } from '../codegen/index.js'
import { generateTemp, repoRoot, source, tempDir } from './support/codegen.js'
import { entriesOf } from './support/lexicon-set.js'

const run = promisify(execFile)

const post = {
  lexicon: 1,
  id: 'com.example.post',
  defs: {
    main: {
      type: 'record',
      key: 'tid',
      record: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string', maxLength: 30 }, reply: { type: 'ref', ref: '#replyRef' } },
      },
    },
    replyRef: { type: 'object', properties: { uri: { type: 'string', format: 'at-uri' } } },
  },
}

async function refusal(sources: Parameters<typeof generateTemp>[0]): Promise<LexiconError> {
  const error = await generateTemp(sources).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(LexiconError)
  return error as LexiconError
}

describe('codegen: bad input is refused with file and JSON path', () => {
  it('bad JSON', async () => {
    const { problems } = await refusal([source('lexicons/bad.json', '{\n  "lexicon": 1,\n  "id": }')])
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file: 'lexicons/bad.json', path: '$' })
    expect(problems[0].message).toMatch(/invalid JSON.*line 3/)
  })

  it('a schema violation', async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.properties.text.maxLength = '30'
    const { problems } = await refusal([source('post.json', doc)])
    expect(problems).toEqual([
      { file: 'post.json', path: '$.defs.main.record.properties.text.maxLength', message: expect.any(String) },
    ])
  })

  it('an unknown type, and a primary type outside main', async () => {
    const doc = structuredClone(post) as any
    doc.defs.replyRef.properties.uri.type = 'text'
    doc.defs.other = { type: 'query' }
    const { problems } = await refusal([source('post.json', doc)])
    expect(problems.map((p) => p.path).sort()).toEqual(['$.defs.other.type', '$.defs.replyRef.properties.uri.type'])
  })

  it('a required property that does not exist', async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.required = ['text', 'txet']
    const { problems } = await refusal([source('post.json', doc)])
    expect(problems).toEqual([
      { file: 'post.json', path: '$.defs.main.record.required[1]', message: 'txet is not a property' },
    ])
  })

  it('an unresolvable ref, and a union member that is not an object', async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.properties.reply.ref = 'com.example.missing#thing'
    doc.defs.main.record.properties.embed = { type: 'union', refs: ['#replyRef', '#token'] }
    doc.defs.token = { type: 'token' }
    const { problems } = await refusal([source('post.json', doc)])
    expect(problems).toEqual([
      {
        file: 'post.json',
        path: '$.defs.main.record.properties.reply.ref',
        message:
          'unresolvable ref: com.example.missing#thing (no document com.example.missing among the lexicons given: add the folder that has it with --lexicons DIR)',
      },
      {
        file: 'post.json',
        path: '$.defs.main.record.properties.embed.refs[1]',
        message: 'union member must be an object, not a token: #token',
      },
    ])
  })

  it('a ref to a bundled lexicon, with the bundled lexicons left out, says how to add them', async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.properties.reply.ref = 'com.atproto.repo.strongRef'
    const { problems } = await refusal([source('post.json', doc)])
    expect(problems).toEqual([
      {
        file: 'post.json',
        path: '$.defs.main.record.properties.reply.ref',
        message:
          'unresolvable ref: com.atproto.repo.strongRef (com.atproto.repo.strongRef is bundled with blueskysdk: generate without --no-bundled to use it, or add the bundled lexicons folder with --lexicons)',
      },
    ])
  })

  it('a copy of a bundled lexicon that differs from it', async () => {
    const strongRef = JSON.parse(
      await readFile(path.join(repoRoot, 'lexicons/com/atproto/repo/strongRef.json'), 'utf8'),
    )
    strongRef.defs.main.required = ['uri']
    const error = await generateTemp([source('mine/strongRef.json', strongRef)], { bundled: true }).catch((e) => e)
    expect(error).toBeInstanceOf(LexiconError)
    expect((error as LexiconError).problems).toEqual([
      { file: 'mine/strongRef.json', path: '$.id', message: expect.stringContaining('differs from it') },
    ])
  })

  it('what the spec forbids: an empty closed union, an object without properties, a subscription message that is no union', async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.properties.embed = { type: 'union', refs: [], closed: true }
    doc.defs.bare = { type: 'object' }
    const stream = {
      lexicon: 1,
      id: 'com.example.stream',
      defs: { main: { type: 'subscription', message: { schema: { type: 'object', properties: {} } } } },
    }
    const { problems } = await refusal([source('post.json', doc), source('stream.json', stream)])
    expect(problems.map((p) => `${p.file} ${p.path}`).sort()).toEqual([
      'post.json $.defs.bare.properties',
      'post.json $.defs.main.record.properties.embed',
      'stream.json $.defs.main.message.schema.refs',
      'stream.json $.defs.main.message.schema.type',
    ])
    expect(problems.find((p) => p.path.endsWith('embed'))!.message).toBe('a closed union needs at least one ref')
  })

  it('a trailing comma, by the line and column of the comma', async () => {
    const { problems } = await refusal([source('post.json', '{\n  "lexicon": 1,\n  "id": "com.example.a",\n}')])
    expect(problems).toEqual([
      { file: 'post.json', path: '$', message: 'invalid JSON: trailing comma at line 3, column 24' },
    ])
  })

  it('a duplicate id names both files', async () => {
    const { problems } = await refusal([source('a/post.json', post), source('b/post.json', post)])
    expect(problems).toEqual([{ file: 'b/post.json', path: '$.id', message: expect.stringContaining('a/post.json') }])
  })

  it('leaves the previous output untouched, with no temporary directories behind', async () => {
    const dir = await tempDir()
    const out = path.join(dir, 'out')
    await generate({ lexicons: [source('post.json', post)], out, runtime: 'blueskysdk/runtime' })
    const before = await snapshot(out)
    const broken = structuredClone(post) as any
    broken.defs.main.record.properties.reply.ref = '#nope'
    await expect(generate({ lexicons: [source('post.json', broken)], out })).rejects.toBeInstanceOf(LexiconError)
    expect(await snapshot(out)).toEqual(before)
    expect(await readdir(dir)).toEqual(['out'])
  })
})

describe('codegen with the bundled lexicons', () => {
  it('imports what it refers to of them, and merges identical copies into them', async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.properties.subject = { type: 'ref', ref: 'com.atproto.repo.strongRef' }
    const copy = await readFile(path.join(repoRoot, 'lexicons/com/atproto/repo/strongRef.json'), 'utf8')
    // A vendored copy, its keys in another order: the same document.
    const reordered = Object.fromEntries(Object.entries(JSON.parse(copy)).reverse())
    const set = await generateTemp([source('post.json', doc), source('vendored/strongRef.json', reordered)], {
      bundled: true,
    })
    expect(set.report).toMatchObject({ documents: 1, reused: ['com.atproto.repo.strongRef'] })
    await expect(readdir(path.join(set.dir, 'com'))).resolves.toEqual(['example'])
    const { recordSchema } = await set.module<{ recordSchema: unknown }>('com.example.post')
    const { validate } = await import('../src/schema.js')
    const bad = validate(recordSchema as never, {
      text: 'hi',
      subject: { uri: 'at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3jwdwj2ctlk26', cid: 'nope' },
    })
    expect(bad.success === false && bad.issues.map((i) => i.path)).toEqual(['subject.cid'])
  })
})

describe('a differing copy of a bundled lexicon, settled by --prefer', () => {
  // The app's post refers to strongRef; its vendored copy makes `cid` optional.
  const setUp = async () => {
    const doc = structuredClone(post) as any
    doc.defs.main.record.properties.subject = { type: 'ref', ref: 'com.atproto.repo.strongRef' }
    const strongRef = JSON.parse(
      await readFile(path.join(repoRoot, 'lexicons/com/atproto/repo/strongRef.json'), 'utf8'),
    )
    strongRef.defs.main.required = ['uri']
    return [source('post.json', doc), source('mine/strongRef.json', strongRef)]
  }
  const subjectWithoutCid = {
    text: 'hi',
    subject: { uri: 'at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3jwdwj2ctlk26' },
  }

  it('bundled: the copy is ignored, and the app refers to the bundled document', async () => {
    const set = await generateTemp(await setUp(), { bundled: true, prefer: 'bundled' })
    expect(set.report).toMatchObject({
      documents: 1,
      reused: ['com.atproto.repo.strongRef'],
      overridden: [{ id: 'com.atproto.repo.strongRef', file: 'mine/strongRef.json', kept: 'bundled' }],
    })
    const { recordSchema } = await set.module<{ recordSchema: unknown }>('com.example.post')
    const { validate } = await import('../src/schema.js')
    const result = validate(recordSchema as never, subjectWithoutCid)
    expect(result.success === false && result.issues.map((i) => i.path)).toEqual(['subject.cid'])
  })

  it('own: the copy is generated, and the app refers to it', async () => {
    const set = await generateTemp(await setUp(), { bundled: true, prefer: 'own' })
    expect(set.report).toMatchObject({
      documents: 2,
      reused: [],
      overridden: [{ id: 'com.atproto.repo.strongRef', file: 'mine/strongRef.json', kept: 'own' }],
    })
    await expect(readdir(path.join(set.dir, 'com'))).resolves.toEqual(['atproto', 'example'])
    const { recordSchema } = await set.module<{ recordSchema: unknown }>('com.example.post')
    const { validate } = await import('../src/schema.js')
    expect(validate(recordSchema as never, subjectWithoutCid).success).toBe(true)
  })
})

describe('codegen output directory', () => {
  it('is refused when it holds files the generator did not write, unless forced', async () => {
    const dir = await tempDir()
    const out = path.join(dir, 'app')
    await writeJson(path.join(out, 'package.json'), { name: 'app' })
    const options = { lexicons: [source('post.json', post)], out, runtime: 'blueskysdk/runtime' }
    await expect(generate(options)).rejects.toThrow(/is not empty and was not written by blueskysdk-codegen/)
    expect(await readdir(out)).toEqual(['package.json'])
    await generate({ ...options, force: true })
    expect(await readdir(out)).toContain(MARKER_FILE)
    await generate(options) // its own output: replaced without asking
  })

  it('is refused when it holds the lexicons it would be generated from', async () => {
    const dir = await tempDir()
    await writeJson(path.join(dir, 'lexicons/post.json'), post)
    await expect(generate({ lexicons: [path.join(dir, 'lexicons')], out: dir, force: true })).rejects.toThrow(
      /holds the lexicons it would be generated from/,
    )
    expect(await readdir(dir)).toEqual(['lexicons'])
  })
})

describe('codegen CLI', () => {
  const cli = path.join(repoRoot, 'codegen/cli.ts')
  const tsx = path.join(repoRoot, 'node_modules/.bin/tsx')

  it('prints its version', async () => {
    const { version } = JSON.parse(await readFile(path.join(repoRoot, 'codegen/package.json'), 'utf8'))
    expect((await run(tsx, [cli, '--version'])).stdout.trim()).toBe(version)
  })

  it('answers a wrong call in one line and exit code 2: unknown option, missing folder, missing --out', async () => {
    const dir = await tempDir()
    const calls = [
      [['--lexicons', dir, '--out', path.join(dir, 'out'), '--formatt'], "Unknown option '--formatt'"],
      [
        ['--lexicons', path.join(dir, 'nope'), '--out', path.join(dir, 'out')],
        `--lexicons ${path.join(dir, 'nope')}: no such folder`,
      ],
      [['--lexicons', dir], 'missing --out DIR'],
      [['--lexicons', dir, '--out', path.join(dir, 'out'), '--prefer', 'mine'], '--prefer mine: say bundled or own'],
    ] as const
    for (const [args, message] of calls) {
      const result = await run(tsx, [cli, ...args]).catch((e) => e)
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(`blueskysdk-codegen: ${message} (see --help)\n`)
    }
    expect(await readdir(dir)).toEqual([])
  })

  it('exits non-zero naming the file and path, and writes nothing', async () => {
    const dir = await tempDir()
    const lexicons = path.join(dir, 'lexicons')
    await writeJson(path.join(lexicons, 'post.json'), { ...post, defs: { main: { type: 'record', key: 'tid' } } })
    const result = await run(tsx, [cli, '--lexicons', lexicons, '--out', path.join(dir, 'out')]).catch((e) => e)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${path.join(lexicons, 'post.json')}: $.defs.main.record:`)
    expect(await readdir(dir)).toEqual(['lexicons'])
  })

  it('generates and reports namespaces and types without code', async () => {
    const dir = await tempDir()
    const lexicons = path.join(dir, 'lexicons')
    await writeJson(path.join(lexicons, 'post.json'), post)
    await writeJson(path.join(lexicons, 'perms.json'), {
      lexicon: 1,
      id: 'com.example.perms',
      defs: {
        main: {
          type: 'permission-set',
          permissions: [{ type: 'permission', resource: 'repo', collection: ['com.example.post'] }],
        },
      },
    })
    const { stdout } = await run(tsx, [cli, '--lexicons', lexicons, '--out', path.join(dir, 'out')])
    expect(stdout).toContain('Generated 6 files from 2 lexicon documents') // post, its namespace, registry, client, namespaces, marker
    expect(stdout).toContain('com.example 2')
    expect(stdout).toContain('no code for permission-set com.example.perms')
    expect(
      (await readFile(path.join(dir, 'out/com/example/post.ts'), 'utf8')).includes("from 'blueskysdk/runtime'"),
    ).toBe(true)
  })
})

describe('codegen output', () => {
  it('is deterministic: the same input gives byte-identical files', async () => {
    const first = await tempDir()
    const second = await tempDir()
    const lexicons = path.join(repoRoot, 'lexicons/app/bsky/feed')
    const deps = [path.join(repoRoot, 'lexicons/app/bsky'), path.join(repoRoot, 'lexicons/com/atproto')]
    await generate({ lexicons: deps, out: first })
    await generate({ lexicons: [...deps].reverse(), out: second })
    expect(lexicons).toBeTruthy()
    expect(await snapshot(second)).toEqual(await snapshot(first))
  })

  it('matches the committed generated/ directory', async () => {
    const out = path.join(await tempDir(), 'generated')
    await generate({
      lexicons: path.join(repoRoot, 'lexicons'),
      out,
      runtime: path.join(repoRoot, 'src/runtime/index.ts'),
    })
    const fresh = await snapshot(out)
    const committed = await snapshot(path.join(repoRoot, 'generated'))
    // Paths to the runtime are relative, so a copy generated elsewhere differs only in those imports.
    const normalise = (files: Map<string, string>) =>
      new Map(
        [...files].map(([file, text]) => [
          file,
          text.replaceAll(/'(\.\.\/)+[^']*src\/runtime\/index\.js'/g, "'RUNTIME'"),
        ]),
      )
    expect([...normalise(fresh).keys()]).toEqual([...normalise(committed).keys()])
    for (const [file, text] of normalise(fresh)) expect(text, file).toBe(normalise(committed).get(file))
  })
})

describe('generated response classes', () => {
  it('have a getter per output field, under its lexicon name, and keep HTTP metadata under $ names', async () => {
    const { lexicons } = await import('../generated/client.js')
    const checked: string[] = []
    for (const [nsid, kind, load] of await entriesOf(lexicons)) {
      if (kind !== 'query' && kind !== 'procedure') continue
      const module = (await load()) as Record<string, unknown>
      const endpoint = Object.values(module).find((v) => (v as { nsid?: string } | null)?.nsid === nsid) as {
        output?: { schema?: { entries?: Record<string, unknown> } }
        response: new (data: unknown, init?: object) => Record<string, unknown>
      }
      const fields = Object.keys(endpoint.output?.schema?.entries ?? {})
      if (!fields.length) continue
      const data = Object.fromEntries(fields.map((field) => [field, `value of ${field}`]))
      const response = new endpoint.response(data, { status: 201, headers: { 'x-a': '1' } })
      for (const field of fields) expect(response[field], `${nsid} ${field}`).toBe(`value of ${field}`)
      expect(response.$status, nsid).toBe(201)
      expect((response.$headers as Headers).get('x-a'), nsid).toBe('1')
      expect(response.$data, nsid).toBe(data)
      checked.push(
        ...fields.filter((f) => ['status', 'headers', 'data', 'schema'].includes(f)).map((f) => `${nsid}.${f}`),
      )
    }
    // The outputs whose fields the release-1 response classes shadowed.
    for (const nsid of [
      'com.atproto.server.createSession',
      'com.atproto.server.getSession',
      'com.atproto.server.refreshSession',
      'com.atproto.sync.getRepoStatus',
      'com.atproto.sync.getHostStatus',
      'chat.bsky.group.requestJoin',
      'app.bsky.actor.getProfile',
    ])
      expect(checked).toContain(`${nsid}.status`)
    expect(checked).toContain('com.atproto.lexicon.resolveLexicon.schema')
  })

  it('declare for the compiler exactly the getters XRPCResponse defines at run time', async () => {
    const { lexicons } = await import('../generated/client.js')
    let compared = 0
    for (const [nsid, kind, load] of await entriesOf(lexicons)) {
      if (kind !== 'query' && kind !== 'procedure') continue
      const module = (await load()) as Record<string, unknown>
      const { response } = Object.values(module).find((v) => (v as { nsid?: string } | null)?.nsid === nsid) as {
        response: (new (data: unknown) => unknown) & { schema?: unknown }
      }
      if (!Object.values(module).includes(response)) continue // the runtime's own XRPCResponse or BinaryResponse
      const text = await readFile(path.join(repoRoot, 'generated', `${nsid.replaceAll('.', '/')}.ts`), 'utf8')
      const declared = [...text.matchAll(/declare readonly (?:'([^']+)'|(\w+)):/g)].map((m) => m[1] ?? m[2]).sort()
      new response({})
      const defined = Object.getOwnPropertyNames(response.prototype).filter((name) => name !== 'constructor')
      expect(defined.sort(), nsid).toEqual(declared)
      compared++
    }
    expect(compared).toBeGreaterThan(200)
  })

  it('restore from JSON validated, and say a bad one is a bad output', async () => {
    const { CreateSessionResponse } = await import('../generated/com/atproto/server/createSession.js')
    const { ValidationError } = await import('../src/index.js')
    const data = { accessJwt: 'a', refreshJwt: 'r', handle: 'alice.test', did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' }
    expect(CreateSessionResponse.fromJSON(JSON.stringify(data)).handle).toBe('alice.test')
    const error = (() => {
      try {
        CreateSessionResponse.fromJSON({ ...data, handle: 'not a handle!' })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ part: 'output', issues: [{ path: 'handle', message: 'must be a valid handle' }] })
    expect(String(error)).toContain('Invalid output for CreateSessionResponse')
  })
})

async function snapshot(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files = entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
  files.sort()
  return new Map(
    await Promise.all(files.map(async (file) => [file, await readFile(path.join(dir, file), 'utf8')] as const)),
  )
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(value))
}
