import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { validate } from '../generated/lexicons.js'
import { BlueskySDKError, PostInputError } from '../src/index.js'
import {
  checkPostText,
  detectFacets,
  type Facet,
  POST_TEXT_MAX_BYTES,
  POST_TEXT_MAX_GRAPHEMES,
  PostTextTooLongError,
  RichText,
  TAG_MAX_BYTES,
  TAG_MAX_GRAPHEMES,
  utf8Offsets,
} from '../src/facade/rich-text.js'

const ALICE = 'did:plc:alice7777777777777777777'
const BOB = 'did:plc:bob77777777777777777777777'
const DIDS: Record<string, string> = { 'alice.test': ALICE, 'bob.test': BOB, 'alice.bsky.social': ALICE }

/** A resolver over DIDS that records every lookup. */
function fakeResolver(dids: Record<string, string | undefined> = DIDS) {
  const calls: string[] = []
  const resolveHandle = async (handle: string) => {
    calls.push(handle)
    return dids[handle]
  }
  return { calls, resolveHandle }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The text a facet covers, read the way a consumer must: from the UTF-8 bytes. */
function facetText(text: string, facet: Facet): string {
  return decoder.decode(encoder.encode(text).slice(facet.index.byteStart, facet.index.byteEnd))
}

type Expected = [covered: string, kind: 'mention' | 'link' | 'tag', value: string]

function describeFacet(text: string, facet: Facet): Expected {
  const feature = facet.features[0] as { $type: string; did?: string; uri?: string; tag?: string }
  const kind = feature.$type.split('#')[1] as Expected[1]
  return [facetText(text, facet), kind, feature.did ?? feature.uri ?? feature.tag ?? '']
}

function expectWellFormed(text: string, facets: Facet[]): void {
  let previousEnd = 0
  for (const facet of facets) {
    expect(validate('app.bsky.richtext.facet', facet).success, JSON.stringify(facet)).toBe(true)
    expect(facet.index.byteStart).toBeGreaterThanOrEqual(previousEnd) // sorted, non-overlapping
    expect(facet.index.byteEnd).toBeGreaterThan(facet.index.byteStart)
    expect(facet.index.byteEnd).toBeLessThanOrEqual(encoder.encode(text).length)
    previousEnd = facet.index.byteEnd
  }
}

async function detect(text: string): Promise<Expected[]> {
  const facets = await detectFacets(text, fakeResolver())
  expectWellFormed(text, facets)
  return facets.map((facet) => describeFacet(text, facet))
}

describe('detectFacets', () => {
  const cases: [name: string, text: string, expected: Expected[]][] = [
    ['ZWJ family emoji before a mention', '👨‍👩‍👧‍👦 @alice.test', [['@alice.test', 'mention', ALICE]]],
    [
      'skin tones',
      '👋🏽 hi @bob.test 👍🏿 #fun',
      [
        ['@bob.test', 'mention', BOB],
        ['#fun', 'tag', 'fun'],
      ],
    ],
    [
      'flags and a tag-sequence flag',
      '🇯🇵🇫🇷 https://example.com 🏴󠁧󠁢󠁳󠁣󠁴󠁿 #travel',
      [
        ['https://example.com', 'link', 'https://example.com'],
        ['#travel', 'tag', 'travel'],
      ],
    ],
    [
      'emoji in a tag',
      'so #🇯🇵travel and #love❤️ and #family👨‍👩‍👧',
      [
        ['#🇯🇵travel', 'tag', '🇯🇵travel'],
        ['#love❤️', 'tag', 'love❤️'],
        ['#family👨‍👩‍👧', 'tag', 'family👨‍👩‍👧'],
      ],
    ],
    [
      'CJK',
      '日本語 #日本 @bob.test',
      [
        ['#日本', 'tag', '日本'],
        ['@bob.test', 'mention', BOB],
      ],
    ],
    [
      'CJK punctuation ends a tag',
      '#東京、#大阪。',
      [
        ['#東京', 'tag', '東京'],
        ['#大阪', 'tag', '大阪'],
      ],
    ],
    [
      'Arabic with a link whose path is Arabic',
      'مرحبا https://example.com/مسار بالعالم',
      [['https://example.com/مسار', 'link', 'https://example.com/مسار']],
    ],
    [
      'Hebrew with a right-to-left mark after the link',
      'שלום https://example.com/a\u200F עולם #שלום',
      [
        ['https://example.com/a', 'link', 'https://example.com/a'],
        ['#שלום', 'tag', 'שלום'],
      ],
    ],
    ['combining mark before a mention', 'e\u0301 @alice.test', [['@alice.test', 'mention', ALICE]]],
    ['combining mark inside a tag', 'cafe\u0301 #cafe\u0301!', [['#cafe\u0301', 'tag', 'cafe\u0301']]],
    ['URL inside parentheses', '(see https://example.com)', [['https://example.com', 'link', 'https://example.com']]],
    [
      'URL with balanced parentheses',
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      [['https://en.wikipedia.org/wiki/Foo_(bar)', 'link', 'https://en.wikipedia.org/wiki/Foo_(bar)']],
    ],
    [
      'URL with balanced parentheses, itself in parentheses, ending a sentence',
      '(https://en.wikipedia.org/wiki/Foo_(bar)).',
      [['https://en.wikipedia.org/wiki/Foo_(bar)', 'link', 'https://en.wikipedia.org/wiki/Foo_(bar)']],
    ],
    [
      'URL with query and fragment, then punctuation',
      'Read https://example.com/path?q=1#x, then "https://example.org/a".',
      [
        ['https://example.com/path?q=1#x', 'link', 'https://example.com/path?q=1#x'],
        ['https://example.org/a', 'link', 'https://example.org/a'],
      ],
    ],
    ['handle at sentence end', 'ping @alice.test.', [['@alice.test', 'mention', ALICE]]],
    [
      'handle before other sentence punctuation',
      'hi @alice.test, @bob.test!',
      [
        ['@alice.test', 'mention', ALICE],
        ['@bob.test', 'mention', BOB],
      ],
    ],
    [
      "handle followed by 's",
      "@alice.test's post and @bob.test’s",
      [
        ['@alice.test', 'mention', ALICE],
        ['@bob.test', 'mention', BOB],
      ],
    ],
    ['handle in parentheses', '(cc @alice.test)', [['@alice.test', 'mention', ALICE]]],
    ['uppercase handle', 'hey @Alice.Test', [['@Alice.Test', 'mention', ALICE]]],
    ['digit-only hashtags are not tags', '#123 #１２３ #2024_', []],
    [
      'digits and letters make a tag',
      '#123abc #2024年',
      [
        ['#123abc', 'tag', '123abc'],
        ['#2024年', 'tag', '2024年'],
      ],
    ],
    ['full-width hash', 'これは ＃タグ です', [['＃タグ', 'tag', 'タグ']]],
    [
      'tag then period and comma',
      '#tag. #other, #_under_',
      [
        ['#tag', 'tag', 'tag'],
        ['#other', 'tag', 'other'],
        ['#_under', 'tag', '_under'],
      ],
    ],
    [
      'tag stops at punctuation',
      "#don't #hello-world",
      [
        ['#don', 'tag', 'don'],
        ['#hello', 'tag', 'hello'],
      ],
    ],
    ['no tags inside words, entities or keycaps', 'C# F# issue#12 &#39; #️⃣ ##double', []],
    ['unresolvable handle', 'hello @nobody.test', []],
    ['email address is neither mention nor link', 'mail alice@example.com or bob.test@example.com', []],
    [
      'URL containing @ and #',
      'https://bsky.app/profile/@alice.test/post#section #real',
      [
        [
          'https://bsky.app/profile/@alice.test/post#section',
          'link',
          'https://bsky.app/profile/@alice.test/post#section',
        ],
        ['#real', 'tag', 'real'],
      ],
    ],
    [
      'URL with an @ parameter',
      'https://example.com/?u=@alice.test',
      [['https://example.com/?u=@alice.test', 'link', 'https://example.com/?u=@alice.test']],
    ],
    [
      'bare domains',
      'see example.com, www.example.org/x?y=1 and bsky.social!',
      [
        ['example.com', 'link', 'https://example.com'],
        ['www.example.org/x?y=1', 'link', 'https://www.example.org/x?y=1'],
        ['bsky.social', 'link', 'https://bsky.social'],
      ],
    ],
    [
      'www. links any TLD, a ccTLD needs no www.',
      'www.example.photography and example.co.uk/a',
      [
        ['www.example.photography', 'link', 'https://www.example.photography'],
        ['example.co.uk/a', 'link', 'https://example.co.uk/a'],
      ],
    ],
    [
      'file names, versions and abbreviations are not links',
      'open file.txt, notes.zip, index.html or v1.2.3, e.g. 3.14',
      [],
    ],
    ['bare domain with port', 'example.com:8080/x', [['example.com:8080/x', 'link', 'https://example.com:8080/x']]],
    [
      'scheme links to any host',
      'HTTPS://EXAMPLE.COM and http://localhost:3000/x',
      [
        ['HTTPS://EXAMPLE.COM', 'link', 'HTTPS://EXAMPLE.COM'],
        ['http://localhost:3000/x', 'link', 'http://localhost:3000/x'],
      ],
    ],
    ['a scheme with no host is no link', 'https://). and http://', []],
    [
      'several of each',
      '@alice.test and @bob.test: see https://a.example.net! and example.com #one #two',
      [
        ['@alice.test', 'mention', ALICE],
        ['@bob.test', 'mention', BOB],
        ['https://a.example.net', 'link', 'https://a.example.net'],
        ['example.com', 'link', 'https://example.com'],
        ['#one', 'tag', 'one'],
        ['#two', 'tag', 'two'],
      ],
    ],
    ['empty text', '', []],
  ]

  it.each(cases)('%s', async (_name, text, expected) => {
    expect(await detect(text)).toEqual(expected)
  })

  it('resolves each distinct handle once, case-insensitively', async () => {
    const resolver = fakeResolver()
    const text = '@alice.test @Alice.Test @bob.test @alice.test @nobody.test @nobody.test'
    const facets = await detectFacets(text, resolver)
    expect(resolver.calls.sort()).toEqual(['alice.test', 'bob.test', 'nobody.test'])
    expect(facets.map((facet) => describeFacet(text, facet))).toEqual([
      ['@alice.test', 'mention', ALICE],
      ['@Alice.Test', 'mention', ALICE],
      ['@bob.test', 'mention', BOB],
      ['@alice.test', 'mention', ALICE],
    ])
  })

  it('gives no facet when the resolver throws, and keeps the others', async () => {
    const text = '@alice.test @bob.test https://example.com'
    const facets = await detectFacets(text, {
      resolveHandle: async (handle) => {
        if (handle === 'alice.test') throw new Error('network down')
        return DIDS[handle]
      },
    })
    expect(facets.map((facet) => facetText(text, facet))).toEqual(['@bob.test', 'https://example.com'])
  })

  it('never produces an empty or made-up DID', async () => {
    const text = '@alice.test @bob.test @carol.test'
    const { resolveHandle } = fakeResolver({ 'alice.test': '', 'bob.test': 'bob', 'carol.test': 'did:web:carol.test' })
    const facets = await detectFacets(text, { resolveHandle })
    expect(facets.map((facet) => describeFacet(text, facet))).toEqual([
      ['@carol.test', 'mention', 'did:web:carol.test'],
    ])
  })

  it('accepts a synchronous resolver', async () => {
    const facets = await detectFacets('@alice.test', { resolveHandle: (handle) => DIDS[handle] })
    expect(facets).toHaveLength(1)
  })

  it('does not look up what cannot be a handle', async () => {
    const resolver = fakeResolver()
    await detectFacets(
      '@printer.local @x.onion @alice @-x.test @alice.test_x @1.2 a@bob.test https://x.com/@bob.test',
      resolver,
    )
    expect(resolver.calls).toEqual([])
  })

  it('limits tags to 64 graphemes and 640 bytes', async () => {
    const tags = async (text: string) => (await detect(text)).map(([, , tag]) => tag)
    expect(await tags(`#${'a'.repeat(TAG_MAX_GRAPHEMES)}`)).toEqual(['a'.repeat(64)])
    expect(await tags(`#${'a'.repeat(TAG_MAX_GRAPHEMES + 1)}`)).toEqual([])
    expect(await tags(`#${'👍'.repeat(64)}`)).toEqual(['👍'.repeat(64)]) // 256 bytes
    // 25 graphemes of 25 bytes: within the grapheme limit, over the byte limit.
    expect(await tags(`#${'👨‍👩‍👧‍👦'.repeat(25)}`)).toHaveLength(1)
    expect(await tags(`#${'👨‍👩‍👧‍👦'.repeat(26)}`)).toEqual([])
  })

  it('produces facets that slice and validate for arbitrary text around the entities', async () => {
    const pieces = fc.constantFrom(
      '@alice.test',
      '@nobody.test',
      '#tag',
      '＃タグ',
      '#123',
      'https://example.com/a_(b)',
      'example.com',
      'alice@example.com',
      ' ',
      '\n',
      '(',
      ').',
      "'s",
    )
    const filler = fc.string({ unit: 'grapheme', maxLength: 3 })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(pieces, filler), { maxLength: 12 }), async (parts) => {
        const text = parts.join('')
        const facets = await detectFacets(text, fakeResolver())
        expectWellFormed(text, facets)
        for (const facet of facets) {
          const [covered, kind, value] = describeFacet(text, facet)
          if (kind === 'tag') expect(covered.slice(1)).toBe(value)
          if (kind === 'mention') expect(DIDS[covered.slice(1).toLowerCase()]).toBe(value)
          if (kind === 'link') expect(value.endsWith(covered)).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('utf8Offsets', () => {
  it('matches TextEncoder at every code point boundary', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const offsets = utf8Offsets(text)
        expect(offsets).toHaveLength(text.length + 1)
        for (let i = 0; i <= text.length; i++) {
          const low = text.charCodeAt(i)
          if (low >= 0xdc00 && low <= 0xdfff && i > 0 && text.codePointAt(i - 1)! > 0xffff) continue // inside a pair
          expect(offsets[i]).toBe(encoder.encode(text.slice(0, i)).length)
        }
      }),
    )
  })

  it('counts a lone surrogate as U+FFFD, as TextEncoder does', () => {
    expect([...utf8Offsets('a\ud800b')]).toEqual([0, 1, 4, 5])
    expect([...utf8Offsets('😀')]).toEqual([0, 0, 4])
  })
})

describe('RichText builder', () => {
  it('computes byte offsets across multi-byte text', () => {
    const { text, facets } = new RichText()
      .text('👋🏽 Hi ')
      .mention('@bob.test', BOB)
      .text(' see ')
      .link('the docs', 'https://atproto.com/guides')
      .text(' 日本 ')
      .tag('#atproto')
      .text(' ')
      .tag('＃タグ')
      .build()
    expect(text).toBe('👋🏽 Hi @bob.test see the docs 日本 #atproto ＃タグ')
    expectWellFormed(text, facets)
    expect(facets.map((facet) => describeFacet(text, facet))).toEqual([
      ['@bob.test', 'mention', BOB],
      ['the docs', 'link', 'https://atproto.com/guides'],
      ['#atproto', 'tag', 'atproto'],
      ['＃タグ', 'tag', 'タグ'],
    ])
    expect(facets[0].index).toEqual({ byteStart: 12, byteEnd: 21 })
  })

  it('defaults a link to its text and accepts an explicit tag value', () => {
    const { text, facets } = new RichText().link('https://example.com').text(' ').tag('#Atproto', 'atproto').build()
    expect(facets.map((facet) => describeFacet(text, facet))).toEqual([
      ['https://example.com', 'link', 'https://example.com'],
      ['#Atproto', 'tag', 'atproto'],
    ])
  })

  it('continues from detected facets', async () => {
    const detected = 'héllo @alice.test'
    const facets = await detectFacets(detected, fakeResolver())
    const built = RichText.from(detected, facets).text(' ').tag('#more').build()
    expect(built.facets.map((facet) => describeFacet(built.text, facet))).toEqual([
      ['@alice.test', 'mention', ALICE],
      ['#more', 'tag', 'more'],
    ])
    expect(facets).toHaveLength(1) // the input is not modified
  })

  it('rejects invalid values at once', () => {
    expect(() => new RichText().mention('@bob.test', '')).toThrow(PostInputError)
    expect(() => new RichText().mention('@bob.test', 'bob.test')).toThrow(/is not a DID/)
    expect(() => new RichText().link('docs', 'not a uri')).toThrow(/is not a URI/)
    expect(() => new RichText().tag('#')).toThrow(PostInputError)
    expect(() => new RichText().tag(`#${'a'.repeat(65)}`)).toThrow(PostInputError)
    expect(() => new RichText().link('', 'https://example.com')).toThrow(/cannot be empty/)
  })

  it('applies the post length limits on build', () => {
    expect(() => new RichText().text('a'.repeat(300)).build()).not.toThrow()
    expect(() => new RichText().text('a'.repeat(300)).tag('#x').build()).toThrow(PostTextTooLongError)
  })
})

describe('checkPostText', () => {
  it('allows 300 graphemes and rejects 301', () => {
    expect(() => checkPostText('a'.repeat(299))).not.toThrow()
    expect(() => checkPostText('a'.repeat(300))).not.toThrow()
    expect(() => checkPostText('a'.repeat(301))).toThrow('Post text is 301 graphemes; the limit is 300')
    expect(() => checkPostText('e\u0301'.repeat(300))).not.toThrow() // 600 UTF-16 units, 300 graphemes
  })

  it('counts bytes too: 300 emoji pass the grapheme limit but may not fit 3000 bytes', () => {
    expect(() => checkPostText('😀'.repeat(300))).not.toThrow() // 1200 bytes
    expect(() => checkPostText('👨‍👩‍👧‍👦'.repeat(120))).not.toThrow() // 3000 bytes exactly
    expect(() => checkPostText('👨‍👩‍👧‍👦'.repeat(121))).toThrow('Post text is 3025 bytes (UTF-8); the limit is 3000')
    expect(() => checkPostText('👨‍👩‍👧‍👦'.repeat(300))).toThrow(PostTextTooLongError)
  })

  it('reports the failing measure on the error', () => {
    const error = (() => {
      try {
        checkPostText('x'.repeat(312))
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(PostTextTooLongError)
    expect(error).toMatchObject({ unit: 'graphemes', actual: 312, limit: 300, name: 'PostTextTooLongError' })
  })

  it('uses the limits of the lexicons', () => {
    const json = (path: string) => JSON.parse(readFileSync(new URL(`../lexicons/${path}`, import.meta.url), 'utf8'))
    const text = json('app/bsky/feed/post.json').defs.main.record.properties.text
    expect([POST_TEXT_MAX_GRAPHEMES, POST_TEXT_MAX_BYTES]).toEqual([text.maxGraphemes, text.maxLength])
    const tag = json('app/bsky/richtext/facet.json').defs.tag.properties.tag
    expect([TAG_MAX_GRAPHEMES, TAG_MAX_BYTES]).toEqual([tag.maxGraphemes, tag.maxLength])
  })
})
