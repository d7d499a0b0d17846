import type * as AppBskyEmbedDefs from '../../generated/app/bsky/embed/defs.js'
import type { ArraySchema } from '../runtime/schema/composites.js'
import { type BlobOptions, type BlobSchema, mimeMatches } from '../runtime/schema/primitives.js'
import { PostInputError } from './errors.js'
import { type MediaInput, readMedia, sniffMedia } from './media.js'

/** Media for a post, read and checked against the lexicon's limits before anything is uploaded. */

export interface ImageInput {
  /** Bytes, a Blob, or a file path (Node). */
  data: MediaInput
  alt: string
  /** Taken from the image itself when not given (PNG, JPEG, GIF, WebP). */
  aspectRatio?: AppBskyEmbedDefs.AspectRatio
  mimeType?: string
}

export interface VideoInput {
  data: MediaInput
  alt?: string
  aspectRatio?: AppBskyEmbedDefs.AspectRatio
}

export interface ExternalInput {
  uri: string
  title: string
  description: string
  /** A thumbnail image. */
  thumb?: MediaInput
}

export interface ReadMedia {
  bytes: Uint8Array
  mimeType: string
  aspectRatio?: AppBskyEmbedDefs.AspectRatio
}

export interface MediaLimits {
  images: number
  image: BlobOptions
  video: BlobOptions
  thumb: BlobOptions
}

let limits: Promise<MediaLimits> | undefined

/**
 * What the lexicons allow, read from the generated schemas so a lexicon update moves them too.
 * Loaded on first use: the embed schemas pull in much of app.bsky, which `import 'blueskysdk'` should not.
 */
export function mediaLimits(): Promise<MediaLimits> {
  limits ??= Promise.all([
    import('../../generated/app/bsky/embed/images.js'),
    import('../../generated/app/bsky/embed/video.js'),
    import('../../generated/app/bsky/embed/external.js'),
  ]).then(([images, video, external]) => {
    const blob = (schema: unknown) => (schema as BlobSchema).options
    return {
      images: (images.mainSchema.entries.images as ArraySchema<unknown>).options.maxLength ?? 4,
      image: blob(images.imageSchema.entries.image),
      video: blob(video.mainSchema.entries.video),
      thumb: blob(external.externalSchema.entries.thumb),
    }
  })
  return limits
}

/** Reads a media input and checks its type and size against a blob's lexicon limits. */
export async function readChecked(
  input: MediaInput,
  limits: { accept?: readonly string[]; maxSize?: number },
  what: string,
  declaredType?: string,
): Promise<ReadMedia> {
  const { bytes, mimeType: blobType } = await readMedia(input)
  const sniffed = sniffMedia(bytes)
  const mimeType = declaredType ?? sniffed?.mimeType ?? blobType
  if (!mimeType) throw new PostInputError(`${what}: unknown file type (give its mimeType)`)
  if (limits.accept && !limits.accept.some((pattern) => mimeMatches(pattern, mimeType))) {
    throw new PostInputError(`${what}: ${mimeType} is not accepted (${limits.accept.join(', ')})`)
  }
  if (limits.maxSize !== undefined && bytes.length > limits.maxSize) {
    throw new PostInputError(`${what}: ${bytes.length} bytes is over the limit of ${limits.maxSize}`)
  }
  const aspectRatio = sniffed?.width && sniffed.height ? { width: sniffed.width, height: sniffed.height } : undefined
  return { bytes, mimeType, aspectRatio }
}
