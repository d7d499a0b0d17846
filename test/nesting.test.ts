/**
 * Deeply nested values: a hostile server's 10,000-deep thread is refused with an issue, never a
 * RangeError from the stack, while the deepest real threads (1,000 parents or replies, the
 * AppView's maximum) validate; on both paths (compiled and interpreted), which agree at the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as GetPostThread from '../generated/app/bsky/feed/getPostThread.js'
import { Client, ResponseValidationError } from '../src/index.js'
import { compilation } from '../src/runtime/schema/compile.js'
import { checkWithInterpreter, FAIL, MAX_NESTING, nesting } from '../src/runtime/schema/core.js'
import * as l from '../src/schema.js'
import { validate } from '../src/schema.js'
import { type FaultServer, startFaultServer } from './support/fault-server.js'

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const cid = 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq'
const THREAD_VIEW = 'app.bsky.feed.defs#threadViewPost'

function postView(i: number) {
  return {
    uri: `at://${did}/app.bsky.feed.post/3kznmn7xq${i}`,
    cid,
    author: { did, handle: 'alice.test' },
    record: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: '2024-01-01T00:00:00.000Z' },
    indexedAt: '2024-01-01T00:00:00.000Z',
  }
}

/** getPostThread's output: `levels` thread views, each the `parent` (or the only reply) of the one below. */
function thread(levels: number, via: 'parent' | 'replies', leaf?: unknown) {
  let node: Record<string, unknown> | undefined = leaf as Record<string, unknown> | undefined
  for (let i = 0; i < levels; i++) {
    const next: Record<string, unknown> = { $type: THREAD_VIEW, post: postView(i) }
    if (node) next[via] = via === 'parent' ? node : [node]
    node = next
  }
  return { thread: node }
}

const badLeaf = { $type: 'app.bsky.feed.defs#notFoundPost', uri: `at://${did}/app.bsky.feed.post/x`, notFound: false }
const schema = GetPostThread.outputSchema

for (const compiled of [true, false]) {
  describe(`nesting (${compiled ? 'compiled' : 'generic'} checks)`, () => {
    const saved = compilation.enabled
    beforeAll(() => void (compilation.enabled = compiled))
    afterAll(() => void (compilation.enabled = saved))

    it('validates the deepest real threads, 1,000 parents or replies, on both paths', () => {
      for (const via of ['parent', 'replies'] as const) {
        const value = thread(1000, via)
        expect(validate(schema, value).success, via).toBe(true)
        expect(schema.fast(value), via).not.toBe(FAIL)
        expect(checkWithInterpreter(schema, value).success, via).toBe(true)
      }
    })

    it('reports the real problem at the bottom of a 1,000-deep thread, at its path', () => {
      const result = validate(schema, thread(1000, 'parent', badLeaf))
      expect(result).toEqual({
        success: false,
        issues: [{ path: `thread${'.parent'.repeat(1000)}.notFound`, message: 'must be true' }],
      })
    })

    it('refuses a 10,000-deep thread with an issue, not a RangeError', () => {
      for (const via of ['parent', 'replies'] as const) {
        const value = thread(10_000, via)
        const result = validate(schema, value)
        if (result.success) throw new Error(`accepted a 10,000-deep thread (${via})`)
        // Refused where the limit is reached (the thread view there, and a ref in its post view).
        for (const issue of result.issues) {
          expect(issue.message).toBe(`is nested too deeply (more than ${MAX_NESTING} levels)`)
          expect(issue.path.startsWith(`thread.${via}`)).toBe(true)
        }
        expect(checkWithInterpreter(schema, value)).toEqual(result)
        expect(nesting.depth, 'the count is back to zero').toBe(0)
      }
    })

    it('puts the limit at the same level on both paths', () => {
      const verdicts = [MAX_NESTING - 2, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1].map((levels) => {
        const value = thread(levels, 'parent')
        const fast = schema.fast(value) !== FAIL
        expect(checkWithInterpreter(schema, value).success, `${levels} levels`).toBe(fast)
        return fast
      })
      // (The deepest post view has a ref of its own to count.)
      expect(verdicts).toEqual([true, true, false, false])
    })

    it('reports the same issue when the stack runs out below the limit (a cycle of heavy levels)', () => {
      // 50 nested objects per level of the cycle: the stack ends long before 1,200 levels.
      const ring: l.LexSchema<unknown> = nestedObjects(
        50,
        l.lazy(() => ring),
      )
      let value: unknown = {}
      for (let i = 0; i < 50 * 1000; i++) value = { v: value }
      const tooDeep = { success: false, issues: [{ path: '', message: expect.stringMatching(/nested too deeply/) }] }
      expect(validate(ring, value)).toEqual(tooDeep)
      expect(ring['~standard'].validate(value)).toEqual({
        issues: [{ message: expect.stringMatching(/nested too deeply/), path: [] }],
      })
      expect(nesting.depth).toBe(0)
    })
  })
}

function nestedObjects(count: number, inner: l.LexSchema<unknown>): l.LexSchema<unknown> {
  let schema = inner
  for (let i = 0; i < count; i++) schema = l.object(undefined, { v: schema })
  return schema
}

describe('a hostile server nesting a thread 10,000 deep', () => {
  let server: FaultServer
  beforeAll(async () => void (server = await startFaultServer()))
  afterAll(() => server.close())

  it('gives the caller a ResponseValidationError', async () => {
    server.script((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(threadJson(10_000))
    })
    const client = new Client({ service: server.url, timeoutMs: 5_000 })
    const error = await client.app.bsky.feed
      .getPostThread({ uri: `at://${did}/app.bsky.feed.post/3kznmn7xq0` })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseValidationError)
    expect((error as ResponseValidationError).issues[0].message).toMatch(/nested too deeply/)
  })
})

/** `thread(levels, 'parent')` as JSON text, written out without recursion (JSON.stringify overflows on it). */
function threadJson(levels: number): string {
  const node = (i: number) => JSON.stringify({ $type: THREAD_VIEW, post: postView(i) }).slice(0, -1)
  const opening = Array.from({ length: levels - 1 }, (_, i) => `${node(i)},"parent":`).join('')
  return `{"thread":${opening}${node(levels - 1)}}${'}'.repeat(levels - 1)}}`
}
