/**
 * Rich text for `app.bsky.feed.post`: facet detection (mentions, links, hashtags), a builder for
 * explicit facets, and the post-length check.
 *
 * Facet ranges are UTF-8 byte offsets (start inclusive, end exclusive), not the UTF-16 indices that
 * JavaScript strings use. Matching works on UTF-16 indices; each text is mapped to byte offsets with
 * a single walk (`utf8Offsets`), so no facet re-encodes the text.
 *
 * Detection rules (where they differ from the official Bluesky app, it is said why):
 * - Mentions: `@` + an atproto handle (dot-separated labels, TLD starting with a letter). The `@` may
 *   not continue a word, an email address or a URL (`alice@example.com` is no mention), and a
 *   sentence-final `.`, `-` or `'s` is not part of the handle. Handles with TLDs the handle spec
 *   disallows (`.local`, `.onion`, ...) are skipped without a lookup. Each distinct handle is
 *   resolved once; an unresolved handle, a resolver error, or a non-DID answer gives no facet.
 * - Links: `http(s)://` URLs, and bare domains (`example.com/path` → `https://example.com/path`)
 *   when the TLD is a country code or a common generic TLD (`BARE_DOMAIN_GTLDS`), or the domain
 *   starts with `www.`. The official app accepts every IANA TLD; a compact list keeps file names
 *   such as `notes.txt`, `archive.zip`, `clip.mov` from becoming links (and needs no TLD data). A
 *   two-letter file extension that is also a ccTLD (`README.md`) is still a link, as in the app.
 *   Trailing `. , ; : ! ? ' "` are trimmed, and a trailing `)` or `]` with no opening partner.
 * - Hashtags: `#` or `＃`, then letters, digits, marks, connector punctuation (`_`) of any script
 *   and emoji, up to the first other punctuation or space (`#don't` → `don`, as on most networks;
 *   the Bluesky app would keep `don't`). Digit-only tags (`#123`) are no tags; tags over 64
 *   graphemes (or 640 bytes) are dropped, not truncated. The facet's `tag` excludes the `#`.
 * - Overlaps: links win over mentions and tags (a URL's `#fragment` or `@` is not annotated).
 */
import type * as AppBskyRichtextFacet from '../../generated/app/bsky/richtext/facet.js'
import { isDid, isHandle, isUri } from '../runtime/schema/formats.js'
import { countGraphemes, graphemeLength, utf8Length } from '../runtime/schema/text.js'
import type { $Typed } from '../runtime/schema/types.js'
import { PostInputError, PostTextTooLongError } from './errors.js'

export { PostTextTooLongError } from './errors.js'

export type Facet = AppBskyRichtextFacet.Main
export type FacetFeature =
  $Typed<AppBskyRichtextFacet.Mention> | $Typed<AppBskyRichtextFacet.Link> | $Typed<AppBskyRichtextFacet.Tag>

// Limits of app.bsky.feed.post#main `text` (lexicons/app/bsky/feed/post.json). The generated
// schema keeps its options private, so they are repeated here; a test checks them against the JSON.
export const POST_TEXT_MAX_GRAPHEMES = 300
export const POST_TEXT_MAX_BYTES = 3000
// Limits of app.bsky.richtext.facet#tag `tag`.
export const TAG_MAX_GRAPHEMES = 64
export const TAG_MAX_BYTES = 640

// ---------------------------------------------------------------------------
// Byte offsets

/**
 * UTF-8 byte offset of every UTF-16 index of `text`, from one walk over it: `offsets[i]` is where
 * the code point at index `i` starts, `offsets[text.length]` is the byte length. An index inside a
 * surrogate pair maps to the pair's start; a lone surrogate counts 3 bytes (TextEncoder writes U+FFFD).
 */
export function utf8Offsets(text: string): Uint32Array {
  const offsets = new Uint32Array(text.length + 1)
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    offsets[i] = bytes
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      offsets[++i] = bytes
      bytes += 4
    } else bytes += 3
  }
  offsets[text.length] = bytes
  return offsets
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

// ---------------------------------------------------------------------------
// Length check

/** Throws `PostTextTooLongError` when `text` is over 300 graphemes or 3000 UTF-8 bytes. */
export function checkPostText(text: string): void {
  // Bytes first: a plain count, and it bounds what there is to segment (300 graphemes can still be
  // far over 3000 bytes: a ZWJ family emoji is 25).
  const bytes = utf8Length(text)
  if (bytes > POST_TEXT_MAX_BYTES) throw new PostTextTooLongError('bytes', bytes, POST_TEXT_MAX_BYTES)
  // Graphemes never outnumber UTF-16 units, so short text skips segmentation.
  if (text.length > POST_TEXT_MAX_GRAPHEMES) {
    const graphemes = graphemeLength(text) // within 3000 bytes: exact, for the error's figure
    if (graphemes > POST_TEXT_MAX_GRAPHEMES) {
      throw new PostTextTooLongError('graphemes', graphemes, POST_TEXT_MAX_GRAPHEMES)
    }
  }
}

// ---------------------------------------------------------------------------
// Detection patterns

const WORD = '\\p{L}\\p{M}\\p{N}\\p{Pc}'
// A mention or tag may not continue a word, an email address, a path or an HTML entity:
// `alice@example.com`, `C#`, `a/@b`, `&#39;`.
const NOT_JOINED = `(?<![${WORD}@#＃.\\-/\\\\+=&%])`
// A bare domain additionally may not follow `:` (`mailto:`, `https:` without slashes).
const NOT_JOINED_DOMAIN = `(?<![${WORD}@#＃.\\-/\\\\+=&%:])`
// A handle or domain ends with its word: `@alice.test.` and `@alice.test's` mention `alice.test`,
// `@alice.test_x` mentions nothing and `example.comé` is no link.
const NAME_END = `(?![${WORD}]|[.-][\\p{L}\\p{N}])`

const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?'
const HANDLE = `(?:${LABEL}\\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?`
const MENTION_RE = new RegExp(`${NOT_JOINED}@(${HANDLE})${NAME_END}`, 'gu')

// URLs stop at whitespace and at invisible format characters (bidi marks next to RTL text, ZWSP).
const URL_TAIL = '[^\\s\\p{Cf}]'
const SCHEME_URL_RE = new RegExp(`(?<![${WORD}])https?://${URL_TAIL}+`, 'giu')
const BARE_URL_RE = new RegExp(
  `${NOT_JOINED_DOMAIN}(?:${LABEL}\\.)+([a-zA-Z]{2,63})(?::\\d{1,5})?(?![${WORD}@]|[.-][\\p{L}\\p{N}])(?:[/?#]${URL_TAIL}*)?`,
  'gu',
)

const EMOJI = '\\p{Extended_Pictographic}\\p{Emoji_Modifier}\\p{Regional_Indicator}\\u{E0020}-\\u{E007F}'
// A tag starts with a letter, digit, `_` or emoji (not a mark: `#️⃣` is the keycap emoji); a ZWJ only
// continues it inside an emoji sequence.
const TAG_START = '[\\p{L}\\p{N}\\p{Pc}\\p{Extended_Pictographic}\\p{Regional_Indicator}]'
const TAG_CHAR = `(?:[${WORD}${EMOJI}]|\\u200D(?=\\p{Extended_Pictographic}))`
const TAG_RE = new RegExp(`${NOT_JOINED}[#＃](${TAG_START}${TAG_CHAR}*)`, 'gu')

// Reserved TLDs the handle spec forbids: no lookup is worth making for them.
const DISALLOWED_HANDLE_TLDS = new Set(['alt', 'arpa', 'example', 'internal', 'invalid', 'local', 'localhost', 'onion'])

// Every delegated two-letter ccTLD in the IANA root zone.
const CCTLDS = new Set(
  (
    'ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bv bw by bz ' +
    'ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm ' +
    'fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is ' +
    'it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm ' +
    'mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ' +
    'ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg ' +
    'th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw'
  ).split(' '),
)

/** Generic TLDs a bare domain may end in; any other needs `https://` or `www.` to become a link. */
export const BARE_DOMAIN_GTLDS: ReadonlySet<string> = new Set(
  (
    'com net org edu gov mil int info biz name pro mobi app dev page blog social xyz online site tech store shop ' +
    'news art club live cloud design space website wiki media network systems studio zone lol fyi link top world ' +
    'today life email agency company digital games global group win museum travel jobs aero coop asia cat tel'
  ).split(' '),
)

// ---------------------------------------------------------------------------
// Detection

/** A match, in UTF-16 indices of the text; mentions carry the handle until it is resolved. */
type Found = { start: number; end: number } & ({ feature: FacetFeature } | { handle: string })

export interface DetectFacetsOptions {
  /**
   * Handle (lowercased, without `@`) to DID, or `undefined` when it does not resolve. For example
   * `(handle) => client.com.atproto.identity.resolveHandle({ handle }).then((r) => r.did, () => undefined)`.
   */
  resolveHandle: (handle: string) => PromiseLike<string | undefined> | string | undefined
}

/**
 * Facets for the mentions, links and hashtags in `text`, sorted by `byteStart` and non-overlapping.
 * Handles are resolved through `options.resolveHandle`, each distinct handle once, concurrently.
 */
export async function detectFacets(text: string, options: DetectFacetsOptions): Promise<Facet[]> {
  const found = withoutOverlaps([...findLinks(text), ...findMentions(text), ...findTags(text)])
  const dids = await resolveHandles(found, options.resolveHandle)
  const offsets = utf8Offsets(text)
  const facets: Facet[] = []
  for (const match of found) {
    const feature = 'feature' in match ? match.feature : mentionFeature(dids.get(match.handle))
    if (feature === undefined) continue
    facets.push({ index: { byteStart: offsets[match.start], byteEnd: offsets[match.end] }, features: [feature] })
  }
  return facets.sort((a, b) => a.index.byteStart - b.index.byteStart)
}

function findMentions(text: string): Found[] {
  const found: Found[] = []
  for (const match of text.matchAll(MENTION_RE)) {
    const handle = match[1].toLowerCase()
    if (!isHandle(handle) || DISALLOWED_HANDLE_TLDS.has(handle.slice(handle.lastIndexOf('.') + 1))) continue
    found.push({ start: match.index, end: match.index + match[0].length, handle })
  }
  return found
}

function findLinks(text: string): Found[] {
  const found: Found[] = []
  for (const match of text.matchAll(SCHEME_URL_RE)) {
    const uri = trimUrl(match[0])
    if (hasHost(uri)) found.push(linkMatch(match.index, uri, uri))
  }
  for (const match of text.matchAll(BARE_URL_RE)) {
    const isWww = /^www\./i.test(match[0])
    if (!isWww && !isBareDomainTld(match[1].toLowerCase())) continue
    const shown = trimUrl(match[0])
    found.push(linkMatch(match.index, shown, `https://${shown}`))
  }
  return found
}

function linkMatch(start: number, shown: string, uri: string): Found {
  return { start, end: start + shown.length, feature: { $type: 'app.bsky.richtext.facet#link', uri } }
}

function isBareDomainTld(tld: string): boolean {
  return tld.length === 2 ? CCTLDS.has(tld) : BARE_DOMAIN_GTLDS.has(tld)
}

/** Drops trailing sentence punctuation, and a closing bracket the URL never opened. */
function trimUrl(url: string): string {
  while (url !== '') {
    const last = url[url.length - 1]
    const trim =
      `.,;:!?'"’”`.includes(last) ||
      (last === ')' && count(url, '(') < count(url, ')')) ||
      (last === ']' && count(url, '[') < count(url, ']'))
    if (!trim) break
    url = url.slice(0, -1)
  }
  return url
}

function count(text: string, char: string): number {
  return text.split(char).length - 1
}

/** A scheme URL must still name a host once trimmed (`https://).` is text, not a link). */
function hasHost(uri: string): boolean {
  if (!isUri(uri)) return false
  try {
    return /[\p{L}\p{N}]/u.test(new URL(uri).hostname)
  } catch {
    return false
  }
}

function findTags(text: string): Found[] {
  const found: Found[] = []
  for (const match of text.matchAll(TAG_RE)) {
    const tag = match[1].replace(/\p{Pc}+$/u, '')
    if (!isTagValue(tag)) continue
    found.push({
      start: match.index,
      end: match.index + 1 + tag.length, // `#` and `＃` are one UTF-16 unit each
      feature: { $type: 'app.bsky.richtext.facet#tag', tag },
    })
  }
  return found
}

/** Bluesky's tag rules: something besides digits (`#2024` is a number), within the lexicon limits. */
function isTagValue(tag: string): boolean {
  if (!/[^\p{N}\p{Pc}\p{M}]/u.test(tag)) return false
  if (tag.length > TAG_MAX_GRAPHEMES && countGraphemes(tag, TAG_MAX_GRAPHEMES) > TAG_MAX_GRAPHEMES) return false
  return tag.length * 3 <= TAG_MAX_BYTES || utf8Length(tag) <= TAG_MAX_BYTES
}

/** Keeps the earliest-listed of overlapping matches, so list links first. */
/**
 * The matches that overlap no earlier one (earlier in `found`: links win over mentions, mentions over
 * tags), in text order. Linear in the matches, not quadratic: `found` is a few runs in text order
 * (one per pattern), and each run is swept against what is kept so far, both sorted.
 */
function withoutOverlaps(found: Found[]): Found[] {
  let kept: Found[] = []
  for (let runStart = 0; runStart < found.length;) {
    let runEnd = runStart + 1
    while (runEnd < found.length && found[runEnd].start >= found[runEnd - 1].start) runEnd++
    const accepted: Found[] = []
    let k = 0
    for (let i = runStart; i < runEnd; i++) {
      const match = found[i]
      while (k < kept.length && kept[k].end <= match.start) k++
      const clashesKept = k < kept.length && kept[k].start < match.end
      const clashesRun = accepted.length > 0 && accepted[accepted.length - 1].end > match.start
      if (!clashesKept && !clashesRun) accepted.push(match)
    }
    kept = mergeByStart(kept, accepted)
    runStart = runEnd
  }
  return kept
}

function mergeByStart(a: Found[], b: Found[]): Found[] {
  const merged: Found[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length)
    merged.push(j >= b.length || (i < a.length && a[i].start <= b[j].start) ? a[i++] : b[j++])
  return merged
}

async function resolveHandles(
  found: Found[],
  resolve: DetectFacetsOptions['resolveHandle'],
): Promise<Map<string, string | undefined>> {
  const handles = [...new Set(found.flatMap((match) => ('handle' in match ? [match.handle] : [])))]
  const dids = await Promise.all(
    // A lookup that fails is an unresolved handle: the rest of the text still gets its facets.
    handles.map(async (handle) => {
      try {
        return await resolve(handle)
      } catch {
        return undefined
      }
    }),
  )
  return new Map(handles.map((handle, i) => [handle, dids[i]]))
}

function mentionFeature(did: unknown): FacetFeature | undefined {
  // Never a facet with an empty or made-up DID: the appview would reject or mislink it.
  return typeof did === 'string' && isDid(did) ? { $type: 'app.bsky.richtext.facet#mention', did } : undefined
}

// ---------------------------------------------------------------------------
// Builder

/** Post text with its facets, ready to spread into an `app.bsky.feed.post` record. */
export interface RichTextContent {
  text: string
  facets: Facet[]
}

/**
 * Builds post text piece by piece, each annotated piece getting a facet with exact byte offsets:
 *
 *     new RichText().text('Hi ').mention('@bob.test', did).text(' see ').link('docs', 'https://…').build()
 *
 * Invalid DIDs, URIs and tags throw `PostInputError` at once; `build()` applies the post length limits.
 */
export class RichText {
  #text = ''
  #bytes = 0
  #facets: Facet[] = []

  /** Continues from existing text and facets (e.g. those of `detectFacets`). */
  static from(text: string, facets: readonly Facet[] = []): RichText {
    const builder = new RichText()
    builder.#text = text
    builder.#bytes = utf8Length(text)
    builder.#facets = facets.map((facet) => ({ ...facet, index: { ...facet.index }, features: [...facet.features] }))
    return builder
  }

  /** Plain text, no facet. */
  text(text: string): this {
    this.#text += text
    this.#bytes += utf8Length(text)
    return this
  }

  /** `shown` (usually `@handle`) linked to the account `did`. */
  mention(shown: string, did: string): this {
    if (!isDid(did))
      throw new PostInputError(`Mention of ${JSON.stringify(shown)}: ${JSON.stringify(did)} is not a DID`)
    return this.#annotated(shown, { $type: 'app.bsky.richtext.facet#mention', did })
  }

  /** `shown` linked to `uri` (by default the shown text itself). */
  link(shown: string, uri: string = shown): this {
    if (!isUri(uri)) throw new PostInputError(`Link ${JSON.stringify(shown)}: ${JSON.stringify(uri)} is not a URI`)
    return this.#annotated(shown, { $type: 'app.bsky.richtext.facet#link', uri })
  }

  /** `shown` (usually `#tag`) as a hashtag; the tag defaults to the shown text without its `#`/`＃`. */
  tag(shown: string, tag: string = shown.replace(/^[#＃]/u, '')): this {
    const tooLong = utf8Length(tag) > TAG_MAX_BYTES || countGraphemes(tag, TAG_MAX_GRAPHEMES) > TAG_MAX_GRAPHEMES
    if (tag === '' || tooLong) {
      throw new PostInputError(
        `Tag ${JSON.stringify(tag)} must be 1-${TAG_MAX_GRAPHEMES} graphemes and ${TAG_MAX_BYTES} bytes`,
      )
    }
    return this.#annotated(shown, { $type: 'app.bsky.richtext.facet#tag', tag })
  }

  /** The text and its facets; throws `PostTextTooLongError` over the post limits. */
  build(): RichTextContent {
    checkPostText(this.#text)
    const facets = [...this.#facets].sort((a, b) => a.index.byteStart - b.index.byteStart)
    return { text: this.#text, facets }
  }

  #annotated(shown: string, feature: FacetFeature): this {
    if (shown === '') throw new PostInputError('An annotated piece of text cannot be empty')
    const byteStart = this.#bytes
    this.text(shown)
    this.#facets.push({ index: { byteStart, byteEnd: this.#bytes }, features: [feature] })
    return this
  }
}
