/** Length of a string in UTF-8 bytes, counted without encoding it. Lone surrogates count as U+FFFD (3 bytes), as TextEncoder would write them. */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

let segmenter: Intl.Segmenter | undefined

/** Number of extended grapheme clusters (user-perceived characters), as the lexicon's min/maxGraphemes count them. */
export function graphemeLength(text: string): number {
  return countGraphemes(text, Infinity)
}

/**
 * Graphemes of `text`, counted until there are more than `limit`: exact when at most `limit`, and
 * otherwise some number over it. A limit check never counts further than it has to. Linear in the
 * length of what it reads.
 *
 * Two characters that are both "simple" (see kindAt) always have a grapheme break between them, as
 * do a simple one with inert marks (e + U+0301) and the simple one after: those are counted in a
 * plain loop, which covers ASCII, most text in BMP scripts and accented letters. The rest
 * (combining marks, emoji, Hangul, astral characters) goes through Intl.Segmenter, but never over
 * the whole string: on Node 20 each of its steps costs time proportional to the string it segments,
 * which made one call on a long string quadratic (80k characters: 6 s). It segments windows of
 * WINDOW units instead, from a known boundary, keeping every segment but the last (which the
 * window's end may have cut) and starting the next window where that one starts. A cluster longer
 * than a window doubles it.
 */
export function countGraphemes(text: string, limit: number): number {
  const length = text.length
  let count = 0
  let i = 0 // always a grapheme boundary
  while (i < length && count <= limit) {
    // Runs of ASCII: a character followed by ASCII is a grapheme of its own, but for CR LF.
    let unit = text.charCodeAt(i)
    while (unit < 0x80 && unit !== 13 && count <= limit) {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0x80
      if (next >= 0x80) break
      count++
      i++
      unit = next
    }
    if (i + 1 >= length || count > limit) {
      if (i < length && count <= limit) count++ // the last character
      break
    }
    const here = kindAt(text, i)
    if (here === SIMPLE || here === CONTROL) {
      // A simple character and the inert marks after it (e + U+0301) are one grapheme, ended by
      // the end or by a simple character; what else follows is left to the segmenter.
      let end = i + widthAt(text, i)
      let next = end < length ? kindAt(text, end) : SIMPLE
      if (here === SIMPLE) {
        while (next === INERT_MARK) {
          end += widthAt(text, end)
          next = end < length ? kindAt(text, end) : SIMPLE
        }
      }
      if (next === SIMPLE || next === CONTROL) {
        count++
        i = end
        continue
      }
    }
    const [segments, end] = segmentFrom(text, i)
    count += segments
    i = end
  }
  return count
}

/**
 * From boundary `start`: the segments of the next window that are certainly whole, and where the
 * next window starts. A window that had to grow (one cluster filled it) is read only to the end of
 * that cluster: read further, its many steps would each cost its whole length again.
 */
function segmentFrom(text: string, start: number): [segments: number, next: number] {
  segmenter ??= new Intl.Segmenter()
  for (let size = WINDOW; ; size *= 2) {
    let end = Math.min(text.length, start + size)
    // Never between the halves of a surrogate pair: a lone half counts as a control, which the
    // characters before it never join, so the break before it would look real.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++
    const steps = size === WINDOW ? Infinity : 2
    let segments = 0
    let lastStart = 0
    for (const { index } of segmenter.segment(text.slice(start, end))) {
      segments++
      lastStart = index
      if (segments === steps) break
    }
    if (segments < steps && end === text.length) return [segments, end]
    if (lastStart > 0) return [segments - 1, start + lastStart]
    // one cluster fills the window: look further
  }
}

const WINDOW = 64

/**
 * What the character at `i` is to the plain loop of countGraphemes:
 * - SIMPLE: a grapheme break before and after it whatever its simple neighbours (none of the rules
 *   of UAX #29 that join characters can apply to a pair of them): one the platform's own segmenter
 *   breaks in both `a` + it and it + `a` (so no Extend, ZWJ, SpacingMark or Prepend), and neither CR
 *   (which joins LF), a Hangul jamo or syllable (which join each other), a regional indicator
 *   (which pair up) nor a lone surrogate. Marks after it join it.
 * - CONTROL: simple, but marks after it do not join it (GB4: tab, LF, U+0085…).
 * - INERT_MARK: joins whatever precedes it (Extend or SpacingMark: `a` + it is one segment) but
 *   lets nothing join after it: not a ZWJ (😀 + it + 😀 would be one segment) nor an Indic linker
 *   (a virama: क + it + क would be one). After a simple character and inert marks, a simple
 *   character always starts a new grapheme.
 * - OTHER: left to the segmenter.
 * Probed once per character met, from the segmenter itself, so the two cannot disagree;
 * characters past the first three planes are left to the segmenter.
 */
function kindAt(text: string, i: number): number {
  const unit = text.charCodeAt(i)
  if (unit < 0x80) return unit === 13 ? OTHER : unit < 0x20 || unit === 0x7f ? CONTROL : SIMPLE
  return kindOf(text, i)
}

const widthAt = (text: string, i: number): number => (text.codePointAt(i)! > 0xffff ? 2 : 1)

/** The kind (see kindAt) of the non-ASCII character at `i`. */
function kindOf(text: string, i: number): number {
  const code = text.codePointAt(i)!
  const plane = code >>> 16
  if (plane > 2 || (code >= 0xd800 && code <= 0xdfff) || isHangul(code) || (code >= 0x1f1e6 && code <= 0x1f1ff))
    return OTHER
  const table = (kinds[plane] ??= new Uint8Array(0x10000))
  let known = table[code & 0xffff]
  if (known === 0) {
    segmenter ??= new Intl.Segmenter()
    const char = String.fromCodePoint(code)
    const segments = (sample: string) => [...segmenter!.segment(sample)].length
    if (segments(`a${char}`) === 2 && segments(`${char}a`) === 2)
      known = segments(`${char}\u0301`) === 1 ? SIMPLE : CONTROL
    else if (segments(`a${char}`) === 1 && segments(`😀${char}😀`) === 2 && segments(`\u0915${char}\u0915`) === 2)
      known = INERT_MARK
    else known = OTHER
    table[code & 0xffff] = known
  }
  return known
}

/** See kindAt. */
const SIMPLE = 1
/** Simple, but nothing joins it (GB4: a control). */
const CONTROL = 2
const INERT_MARK = 3
const OTHER = 4
/** Per plane (BMP, SMP, SIP), by code point: 0 not probed yet, else its kind. Made on first use, 64 KB each. */
const kinds: (Uint8Array | undefined)[] = []

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff
}

function isHangul(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x11ff) || // jamo
    (code >= 0xa960 && code <= 0xa97f) || // jamo extended-A
    (code >= 0xac00 && code <= 0xd7ff) // syllables, jamo extended-B
  )
}
