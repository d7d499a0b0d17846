import { BlueskySDKError } from '../runtime/errors.js'

/** Input to a facade method that cannot become a valid post, like, follow…: refused before anything is sent. */
export class PostInputError extends BlueskySDKError {
  override name = 'PostInputError'
}

/** Post text over the lexicon's grapheme or byte limit. */
export class PostTextTooLongError extends PostInputError {
  override readonly name = 'PostTextTooLongError'

  constructor(
    readonly unit: 'graphemes' | 'bytes',
    readonly actual: number,
    readonly limit: number,
  ) {
    super(`Post text is ${actual} ${unit === 'bytes' ? 'bytes (UTF-8)' : 'graphemes'}; the limit is ${limit}`)
  }
}
