/**
 * Grapheme counting (src/runtime/schema/text.ts) agrees with Intl.Segmenter over the whole string,
 * on random strings built from what makes clusters hard: combining marks, ZWJ emoji sequences,
 * skin tones, regional indicators, Hangul jamo, CR LF, prepended marks, lone surrogates, and plain
 * ASCII around them, at lengths that cross the counter's windows. Its speed on long strings is
 * measured by `npm run bench` (the string-limits section), not here.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkPostText, PostTextTooLongError } from '../src/index.js'
import { countGraphemes, graphemeLength } from '../src/runtime/schema/text.js'

const segmenter = new Intl.Segmenter()
const reference = (text: string) => [...segmenter.segment(text)].length

const PIECES = [
  'a',
  'Z',
  ' ',
  '.',
  '\r',
  '\n',
  '\r\n',
  '\t',
  '\u0301',
  '\u0308',
  '\u20e3', // combining marks (one follows ASCII: e + acute)
  '\u200d',
  '\ufe0f',
  '👨',
  '👩',
  '👧',
  '🏽',
  '🏳',
  '🌈',
  '❤', // ZWJ sequences, modifiers, variation
  '🇫',
  '🇷',
  '🇩',
  '🇪', // regional indicators pair up by count
  '\u1100',
  '\u1161',
  '\u11a8',
  '한', // Hangul L, V, T jamo and a syllable
  '\u0600',
  '\u0915',
  '\u094d',
  '\u0937', // prepend, and an Indic conjunct (GB9c)
  '字',
  'é',
  '\ud83d',
  '\ude00', // CJK, precomposed, lone surrogate halves
]
const text = (maxLength: number) => fc.array(fc.constantFrom(...PIECES), { maxLength }).map((parts) => parts.join(''))

describe('grapheme counting', () => {
  it('agrees with Intl.Segmenter on random strings, across window edges', () => {
    fc.assert(
      fc.property(text(400), (s) => graphemeLength(s) === reference(s)),
      { numRuns: 2000 },
    )
  })

  it('agrees on long text of whole clusters, whose edges fall anywhere in its windows', () => {
    const clusters = ['ß', 'hello', '🦋', '🏳️‍🌈', '👍🏽', '👨‍👩‍👧‍👦', 'ä́', '한', '\r\n', '👩‍💻', '🇺🇦', 'क्षि', '漢', ' ']
    const prose = fc.array(fc.constantFrom(...clusters), { maxLength: 300 }).map((parts) => parts.join(''))
    fc.assert(
      fc.property(prose, (s) => graphemeLength(s) === reference(s)),
      { numRuns: 1000 },
    )
  })

  it('agrees wherever a window’s end falls in a cluster: between surrogate halves after a ZWJ too', () => {
    // A window starts at CR (never simple); sliding the text after it moves its end through every
    // unit of the families, surrogate halves and ZWJs alike.
    for (let shift = 0; shift < 80; shift++) {
      const s = `\r\n${'a'.repeat(shift)}${'👨‍👩‍👧‍👦'.repeat(4)}🏳️‍🌈`
      expect(graphemeLength(s), `shifted by ${shift}`).toBe(reference(s))
    }
  })

  it('stops past a limit, exact up to it', () => {
    fc.assert(
      fc.property(text(300), fc.nat(200), (s, limit) => {
        const counted = countGraphemes(s, limit)
        const real = reference(s)
        return real <= limit ? counted === real : counted > limit
      }),
      { numRuns: 2000 },
    )
  })

  it('counts clusters longer than its window, and long strings of every kind', () => {
    const zalgo = 'a' + '\u0301'.repeat(5000) + 'b'
    expect(graphemeLength(zalgo)).toBe(2)
    // A long cluster, then many short ones: the grown window is read to the cluster's end only.
    expect(graphemeLength(zalgo + 'b'.repeat(5000) + 'e\u0301')).toBe(5003)
    for (const unit of ['a', '字', '😀', '🇫🇷', 'e\u0301', '\r\n', '👨‍👩‍👧'])
      expect(graphemeLength(unit.repeat(3000)), unit).toBe(3000)
  })
})

describe('checkPostText on long input', () => {
  it('refuses 100,000 characters by their bytes, before counting graphemes', () => {
    expect(() => checkPostText('a'.repeat(100_000))).toThrow(PostTextTooLongError)
    expect(() => checkPostText('a'.repeat(100_000))).toThrow('Post text is 100000 bytes (UTF-8); the limit is 3000')
  })
})
