import * as v from 'valibot'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as AppBskyFeedPost from '../generated/app/bsky/feed/post.js'
import { compilation } from '../src/runtime/schema/compile.js'
import { checkWithInterpreter, DISCARD, FAIL, formatPath } from '../src/runtime/schema/core.js'
import * as l from '../src/schema.js'

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const cid = 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq'

/** Fresh schemas per call: compiled or generic checks are chosen on first use. */
function schemas() {
  const ref = l.object<{ uri: string; cid: string }>(
    'com.example.ref',
    { uri: l.string({ format: l.atUriFormat }), cid: l.string({ format: l.cidFormat }) },
    { required: ['uri', 'cid'] },
  )
  const image = l.object<unknown>('com.example.image', { alt: l.string({ maxGraphemes: 5 }) }, { required: ['alt'] })
  const setting = l.object<unknown>('com.example.setting', { on: l.boolean({ default: true }) })
  const item = l.object<unknown>('com.example.defs#item', { flag: l.boolean({ default: false }), n: l.integer() })
  const node: l.ObjectSchema<unknown> = l.object('com.example.defs#node', {
    name: l.string(),
    children: l.array(
      l.lazy(() => node),
      { maxLength: 2 },
    ),
  })
  const post = l.object<Record<string, unknown>>(
    'com.example.post',
    {
      text: l.string({ maxLength: 12, maxGraphemes: 6 }),
      mode: l.string({ default: 'public', enum: ['public', 'private'] }),
      count: l.integer({ minimum: 0, maximum: 10, default: 1 }),
      note: l.string(),
      'hyphen-key': l.boolean(),
      reply: ref,
      embed: l.union(() => [image, ref, setting]),
      closed: l.union(() => [image], { closed: true }),
      tree: node,
      tags: l.array(l.string({ maxLength: 4 }), { minLength: 1, maxLength: 2 }),
      blob: l.blob({ accept: ['image/*'], maxSize: 100 }),
      data: l.unknown(),
      items: l.array(item),
    },
    { required: ['text'], nullable: ['note'] },
  )
  return { post, ref, node }
}

const blob = { $type: 'blob', ref: { $link: cid }, mimeType: 'image/png', size: 10 }
const secret = 'hunter2-password-xyz'
/** A problem of every kind, each in its place. */
const invalid = {
  $type: 'com.example.other',
  text: secret,
  mode: 'secret',
  count: 11,
  note: 5,
  'hyphen-key': 'yes',
  reply: { uri: secret },
  embed: { $type: 'com.example.image' },
  closed: { $type: 'com.example.ref' },
  tree: { name: 'a', children: [{ name: 'b', children: [{ name: 1 }] }] },
  tags: ['toolong'],
  blob: { ...blob, mimeType: 'text/plain' },
  data: [1],
}
const valid = {
  $type: 'com.example.post',
  text: 'hé 👋🏽', // 12 bytes, 4 graphemes: at the limits
  note: null,
  'hyphen-key': true,
  reply: { uri: `at://${did}/com.example.post/3kznmn7xqxl22`, cid },
  embed: { $type: 'com.example.image', alt: 'a cat' },
  closed: { $type: 'com.example.image#main', alt: 'ok' },
  tree: { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] },
  tags: ['one'],
  blob,
  data: { anything: [1, 2] },
}

for (const compiled of [true, false]) {
  describe(`schemas (${compiled ? 'compiled' : 'generic'} checks)`, () => {
    const saved = compilation.enabled
    beforeAll(() => void (compilation.enabled = compiled))
    afterAll(() => void (compilation.enabled = saved))

    it('accepts valid data, returning the input itself when nothing is filled in', () => {
      const { post } = schemas()
      const input = { ...valid, mode: 'private', count: 3 }
      const result = l.validate(post, input)
      expect(result).toEqual({ success: true, value: input })
      if (result.success) expect(result.value).toBe(input)
    })

    it('fills in defaults on a copy, never mutating the input', () => {
      const { post } = schemas()
      const input = { text: 'hi' }
      const result = l.validate(post, input)
      expect(result).toEqual({ success: true, value: { text: 'hi', mode: 'public', count: 1 } })
      expect(input).toEqual({ text: 'hi' })
    })

    it('passes unknown properties and unknown open-union members through', () => {
      const { post } = schemas()
      const input = { text: 'hi', extra: { x: 1 }, embed: { $type: 'com.other.thing', whatever: true } }
      expect(l.validate(post, { ...input, mode: 'public', count: 1 })).toMatchObject({ success: true })
    })

    it('reports every problem with its path, and never the offending value', () => {
      const { post } = schemas()
      const result = l.validate(post, invalid)
      expect(result.success).toBe(false)
      if (result.success) return
      expect(result.issues).toEqual([
        { path: '$type', message: 'must be "com.example.post"' },
        { path: 'text', message: 'must not be longer than 12 bytes (UTF-8)' },
        { path: 'mode', message: 'must be one of "public", "private"' },
        { path: 'count', message: 'must not be greater than 10' },
        { path: 'note', message: 'must be a string' },
        { path: '["hyphen-key"]', message: 'must be a boolean' },
        { path: 'reply.uri', message: 'must be a valid AT URI' },
        { path: 'reply.cid', message: 'is required' },
        { path: 'embed.alt', message: 'is required' },
        { path: 'closed.$type', message: 'must be one of com.example.image' },
        { path: 'tree.children[0].children[0].name', message: 'must be a string' },
        { path: 'tags[0]', message: 'must not be longer than 4 bytes (UTF-8)' },
        { path: 'blob', message: 'must be a blob of type image/*' },
        { path: 'data', message: 'must be an object' },
      ])
      expect(JSON.stringify(result)).not.toContain(secret)
    })

    it('counts graphemes for maxGraphemes and UTF-8 bytes for maxLength', () => {
      const { post } = schemas()
      const text = (value: string) => l.validate(post, { text: value })
      // 4 graphemes of 2 UTF-16 units and 3 bytes each: more units than the grapheme limit, yet valid.
      expect(text('e\u0301'.repeat(4)).success).toBe(true)
      expect(text('abcdefg')).toEqual({
        success: false,
        issues: [{ path: 'text', message: 'must not be longer than 6 graphemes' }],
      })
      expect(text('e\u0301'.repeat(4) + 'a')).toEqual({
        success: false,
        issues: [{ path: 'text', message: 'must not be longer than 12 bytes (UTF-8)' }],
      })
    })

    it('matches blob MIME types case-insensitively, as RFC 2045 has them', () => {
      const { post } = schemas()
      for (const mimeType of ['IMAGE/PNG', 'Image/Png', 'image/PNG'])
        expect(l.validate(post, { text: 'hi', blob: { ...blob, mimeType } }).success, mimeType).toBe(true)
      expect(l.validate(post, { text: 'hi', blob: { ...blob, mimeType: 'TEXT/PLAIN' } }).success).toBe(false)
      const upper = l.blob({ accept: ['IMAGE/*', 'VIDEO/MP4'] })
      for (const mimeType of ['image/png', 'video/mp4'])
        expect(l.validate(upper, { ...blob, mimeType }).success, mimeType).toBe(true)
    })

    it('refuses union members without a usable $type, even in an open union', () => {
      const { post } = schemas()
      for (const embed of [{ alt: 'no type' }, { $type: '', alt: 'empty type' }, { $type: 7 }, 'image']) {
        expect(l.validate(post, { text: 'hi', embed })).toEqual({
          success: false,
          issues: [{ path: 'embed', message: 'must be an object with a $type' }],
        })
      }
    })

    it('refuses what is not an object where an object goes, arrays included', () => {
      const { ref } = schemas()
      for (const value of [null, [], 'x', 1, true]) expect(l.validate(ref, value).success).toBe(false)
    })

    it("gives, for a value the fast path refuses, exactly the interpreter's issues, on every entry", () => {
      const { post, node } = schemas()
      // Every problem at once, then each kind of problem alone (so that a fast path missing any one rule shows).
      const alone = (fields: Record<string, unknown>) => [post, { text: 'hi', ...fields }] as const
      const cases: (readonly [l.LexSchema<unknown>, unknown])[] = [
        [post, invalid],
        [post, []],
        [node, []],
        [node, 'a'],
        [node, null],
        [post, {}],
        [post, { text: null }],
        alone({ $type: 'com.example.post#other' }),
        alone({ note: 1 }),
        alone({ reply: { uri: `at://${did}` } }),
        alone({ tree: [] }),
        alone({ tree: { children: [{}, {}, {}] } }),
        alone({ tags: [] }),
        alone({ tags: ['a', 'b', 'c'] }),
        alone({ tags: 'a' }),
        alone({ items: [{ n: 1 }, { n: 'x' }, 5] }),
        alone({ embed: [] }),
        alone({ embed: { $type: '' } }),
        alone({ embed: { $type: 'com.example.setting', on: 'no' } }),
        alone({ embed: { $type: 'com.example.image#main' } }),
        alone({ closed: { $type: 'com.example.other' } }),
        alone({ mode: 'secret' }),
        alone({ count: 1.5 }),
        alone({ blob: { ...blob, size: 101 } }),
        alone({ data: { $link: cid } }),
      ]
      for (const [schema, value] of cases) {
        // The fast path only decides, and keeps nothing in its context.
        const label = JSON.stringify(value)
        expect(schema.fast(value), label).toBe(FAIL)
        expect(DISCARD.issues).toEqual([])
        const interpreted = checkWithInterpreter(schema, value)
        if (interpreted.success) throw new Error(`the interpreter accepts ${label}`)
        expect(interpreted.issues.length).toBeGreaterThan(0)
        expect(l.validate(schema, value), label).toEqual(interpreted)
        // valibot's issues and Standard Schema's: the same messages at the same paths.
        const parsed = v.safeParse(schema, value)
        expect(parsed.success).toBe(false)
        const viaValibot = parsed.issues!.map((issue) => ({
          path: formatPath((issue.path ?? []).map((item) => item.key as string | number)),
          message: issue.message,
        }))
        expect(viaValibot, label).toEqual(interpreted.issues)
        const standard = schema['~standard'].validate(value) as {
          issues: { message: string; path: { key: string | number }[] }[]
        }
        const viaStandard = standard.issues.map((issue) => ({
          path: formatPath(issue.path.map((item) => item.key)),
          message: issue.message,
        }))
        expect(viaStandard, label).toEqual(interpreted.issues)
      }
    })

    it('fills in defaults identically on both paths, copying on the same occasions', () => {
      const { post } = schemas()
      const kept = { flag: true, n: 2 }
      const inputs = [
        { text: 'hi' },
        { text: 'hi', mode: 'private', count: 2 },
        { text: 'hi', mode: 'private', count: 2, items: [{ n: 1 }, kept] },
        { text: 'hi', mode: 'private', count: 2, embed: { $type: 'com.example.setting' } },
        { ...valid, mode: 'private', count: 3, items: [kept] },
      ]
      for (const input of inputs) {
        const snapshot = structuredClone(input)
        const fast = post.fast(input)
        const interpreted = checkWithInterpreter(post, input)
        if (!interpreted.success) throw new Error(JSON.stringify(interpreted.issues))
        expect(fast).toEqual(interpreted.value)
        expect(fast === input, 'the input itself on both paths, or a copy on both').toBe(interpreted.value === input)
        expect(input, 'neither path modifies its input').toEqual(snapshot)
      }
      const filled = post.fast(inputs[2]) as { items: unknown[] }
      expect(filled).toEqual({ ...inputs[2], items: [{ n: 1, flag: false }, kept] })
      expect(filled.items[1], 'an item without a default to fill is not copied').toBe(kept)
      expect(post.fast(inputs[3])).toEqual({ ...inputs[3], embed: { $type: 'com.example.setting', on: true } })
      expect(post.fast(inputs[1])).toBe(inputs[1])
    })

    it('is usable as a valibot schema and a Standard Schema', () => {
      const { ref } = schemas()
      expect(ref['~standard'].vendor).toBe('blueskysdk')
      const good = { uri: `at://${did}`, cid }
      expect(v.parse(ref, good)).toBe(good)
      const bad = v.safeParse(ref, { uri: 'nope', cid })
      expect(bad.success).toBe(false)
      expect(bad.issues?.[0].message).toBe('must be a valid AT URI')
      expect(v.getDotPath(bad.issues![0])).toBe('uri')
      expect(v.safeParse(v.array(ref), [good, good]).success).toBe(true)
      const standard = ref['~standard'].validate({ uri: 'nope' })
      expect(standard).toEqual({
        issues: [
          { message: 'must be a valid AT URI', path: [{ key: 'uri' }] },
          { message: 'is required', path: [{ key: 'cid' }] },
        ],
      })
    })
  })
}

describe('valibot and Standard Schema interop, on generated schemas', () => {
  const schema = AppBskyFeedPost.recordSchema
  const post = { $type: 'app.bsky.feed.post', text: 'hi', createdAt: '2024-11-26T21:40:58.123Z' }

  it("has this library's name as its Standard Schema vendor", () => {
    expect(schema['~standard'].vendor).toBe('blueskysdk')
    expect(schema['~standard'].version).toBe(1)
    for (const other of [l.string(), l.integer(), l.blob(), l.array(l.unknown()), l.union(() => [])]) {
      expect(other['~standard'].vendor).toBe('blueskysdk')
    }
  })

  it("works with v.parse, v.safeParse and v.pipe, with the interpreter's issues", () => {
    expect(v.parse(schema, post)).toBe(post)
    expect(v.is(schema, post)).toBe(true)
    const broken = { ...post, createdAt: 'yesterday', reply: {} }
    expect(() => v.parse(schema, broken)).toThrow(v.ValiError)
    const result = v.safeParse(schema, broken)
    expect(result.success).toBe(false)
    expect(result.issues?.map((issue) => [v.getDotPath(issue), issue.message])).toEqual([
      ['reply.root', 'is required'],
      ['reply.parent', 'is required'],
      ['createdAt', 'must be a valid datetime (RFC 3339, with timezone)'],
    ])
    const short = v.pipe(
      schema,
      v.check((value) => value.text.length <= 2, 'too long'),
    )
    expect(v.safeParse(short, post)).toMatchObject({ success: true, output: post })
    expect(v.safeParse(short, { ...post, text: 'hello' }).issues?.[0].message).toBe('too long')
    expect(v.safeParse(short, broken).issues?.[0].message).toBe('is required')
    expect(schema['~standard'].validate(post)).toEqual({ value: post })
  })
})
