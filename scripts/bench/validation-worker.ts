/**
 * Times one validator on every sample, in its own process so validators cannot slow each other down
 * through shared JIT state. Prints JSON: `{ [sample]: nanoseconds per op (median of batches) }`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { samples } from './samples.js'

type Validate = (ref: string, value: unknown) => boolean

async function load(impl: string): Promise<{ validate: Validate; prepare: (value: unknown) => unknown }> {
  switch (impl) {
    case 'blueskysdk': {
      const { validate } = await import('../../generated/lexicons.js')
      return { validate: (ref, value) => validate(ref, value).success, prepare: (v) => v }
    }
    case '@atproto/lexicon': {
      const { Lexicons, jsonToLex } = await import('@atproto/lexicon')
      const docs = readdirSync('lexicons', { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(path.join('lexicons', f), 'utf8')))
      const lexicons = new Lexicons(docs)
      // It validates its own value form (CIDs and BlobRefs as objects): converted once, outside the timing.
      return { validate: (ref, value) => lexicons.validate(ref, value).success, prepare: (v) => jsonToLex(v as never) }
    }
    case '@atcute/bluesky': {
      const { AppBskyFeedPost, AppBskyActorDefs } = await import('@atcute/bluesky')
      const { safeParse } = await import('@atcute/lexicons/validations')
      const schemas: Record<string, Parameters<typeof safeParse>[0]> = {
        'app.bsky.feed.post': AppBskyFeedPost.mainSchema,
        'app.bsky.actor.defs#profileViewDetailed': AppBskyActorDefs.profileViewDetailedSchema,
      }
      return { validate: (ref, value) => safeParse(schemas[ref], value).ok, prepare: (v) => v }
    }
    default:
      throw new Error(`unknown implementation ${impl}`)
  }
}

const impl = process.argv[2]
const { validate, prepare } = await load(impl)
const results: Record<string, number> = {}
for (const sample of samples) {
  const value = prepare(sample.value)
  if (!validate(sample.ref, value)) throw new Error(`${impl} rejects the sample "${sample.name}"`)
  const broken = prepare({ ...sample.value, createdAt: 'yesterday', handle: 42 })
  if (validate(sample.ref, broken)) throw new Error(`${impl} accepts a broken "${sample.name}"`)
  const iterations = 50_000
  for (let i = 0; i < iterations * 2; i++) validate(sample.ref, value) // warm up the JIT
  const batches: number[] = []
  for (let batch = 0; batch < 9; batch++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) validate(sample.ref, value)
    batches.push(Number(process.hrtime.bigint() - started) / iterations)
  }
  batches.sort((a, b) => a - b)
  results[sample.name] = batches[Math.floor(batches.length / 2)]
}
console.log(JSON.stringify(results))
