import { string, validate } from '../../src/schema.js'
import { median, type Section } from './report.js'

const encoder = new TextEncoder()
const segmenter = new Intl.Segmenter()
const graphemes = (text: string) => [...segmenter.segment(text)].length

/** `unit` repeated as often as fits both `bytes` UTF-8 bytes and `maxGraphemes` graphemes: a maximal valid value. */
function maximal(unit: string, bytes: number, maxGraphemes: number): string {
  const times = Math.min(Math.floor(bytes / encoder.encode(unit).length), Math.floor(maxGraphemes / graphemes(unit)))
  return unit.repeat(times)
}

/** `unit` repeated to `bytes` UTF-8 bytes, and its graphemes (counted on the unit: Node 20's segmenter copies the whole input per step). */
function filling(unit: string, bytes: number): { value: string; graphemes: number } {
  const times = Math.floor(bytes / encoder.encode(unit).length)
  return { value: unit.repeat(times), graphemes: times * graphemes(unit) }
}

const KINDS: [name: string, unit: string][] = [
  ['ASCII', 'lorem ipsum '],
  ['CJK', '文字の数え方'],
  ['emoji', '😀🎉'],
  ['combining marks (e + U+0301)', 'e\u0301'],
  ['emoji ZWJ families', '👨‍👩‍👧‍👦'],
]
const SIZES = [10_000, 100_000]

/** ns per call: the median of 7 batches, after warm-up, sized to take a few ms each. */
function time(run: () => void): number {
  const started = performance.now()
  run()
  const once = Math.max(performance.now() - started, 0.001)
  const iterations = Math.max(1, Math.ceil(5 / once))
  for (let i = 0; i < iterations; i++) run()
  const batches: number[] = []
  for (let batch = 0; batch < 7; batch++) {
    const t0 = performance.now()
    for (let i = 0; i < iterations; i++) run()
    batches.push(((performance.now() - t0) * 1e6) / iterations)
  }
  return median(batches)
}

/**
 * A long string field: `maxLength` N bytes, with and without the `maxGraphemes` the lexicons usually
 * pair with it (a tenth: `description` is 2560 bytes and 256 graphemes). Values: the longest valid
 * one of each kind of text (as many bytes and graphemes as both limits allow), and N bytes that are
 * over the grapheme limit (what a hostile server sends). Either way, time must grow linearly.
 */
export function textSection(): Section {
  const rows: Section['rows'] = []
  const measure = (name: string, value: string, size: number, expectValid: boolean) => {
    const limited = string({ maxLength: size, maxGraphemes: size / 10 })
    const plain = string({ maxLength: size })
    if (!validate(plain, value).success) throw new Error(`${name}: the value is over its byte limit`)
    if (validate(limited, value).success !== expectValid)
      throw new Error(`${name}: expected ${expectValid ? 'valid' : 'invalid'}`)
    const kb = encoder.encode(value).length / 1000
    rows.push({
      name,
      values: [time(() => validate(limited, value)) / kb, time(() => validate(plain, value)) / kb],
    })
  }
  for (const [kind, unit] of KINDS)
    for (const size of SIZES)
      measure(`${kind}, maximal in ${size / 1000} KB`, maximal(unit, size, size / 10), size, true)
  for (const [kind, unit] of KINDS) {
    const size = SIZES.at(-1)!
    const { value, graphemes: count } = filling(unit, size)
    if (count > size / 10) measure(`${kind}, ${size / 1000} KB over the grapheme limit`, value, size, false)
  }
  return {
    title: 'String limits on long values',
    method:
      "Validating one long string with `validate` from `blueskysdk/schema`, in ns per KB of value (the median of 7 batches after warm-up): a value of N bytes (10 KB and 100 KB) in a field of `maxLength` N with `maxGraphemes` N/10, the lexicons' usual ratio, beside the same field without `maxGraphemes`. Per-KB figures that stay flat from 10 KB to 100 KB mean linear time. The ratio column is the cost of the grapheme limit: with it ÷ without.",
    unit: 'ns',
    columns: ['with maxGraphemes', 'maxLength only'],
    lowerIsBetter: true,
    rows,
  }
}
