import * as v from 'valibot'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compilation } from '../src/schema/compile.js'
import * as l from '../src/schema/index.js'

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
      embed: l.union(() => [image, ref]),
      closed: l.union(() => [image], { closed: true }),
      tree: node,
      tags: l.array(l.string({ maxLength: 4 }), { minLength: 1, maxLength: 2 }),
      blob: l.blob({ accept: ['image/*'], maxSize: 100 }),
      data: l.unknown(),
    },
    { required: ['text'], nullable: ['note'] },
  )
  return { post, ref, node }
}

const blob = { $type: 'blob', ref: { $link: cid }, mimeType: 'image/png', size: 10 }
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
      const secret = 'hunter2-password-xyz'
      const result = l.validate(post, {
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
      })
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

    it('is usable as a valibot schema and a Standard Schema', () => {
      const { ref } = schemas()
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
