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
  segmenter ??= new Intl.Segmenter()
  let count = 0
  for (const _ of segmenter.segment(text)) count++
  return count
}
