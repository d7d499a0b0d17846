import { type CheckContext, type Fail, fail, LexSchema } from './core.js'
import { isCid, type StringFormat } from './formats.js'
import { countGraphemes, utf8Length } from './text.js'
import type { BlobRef, Bytes, CidLink, UnknownObject } from './types.js'

/** Schemas for the lexicon's primitive types. Messages never quote the value: it may be a secret. */

export interface StringOptions<T extends string> {
  /** A format const (`datetimeFormat`): passed as an object so unused formats drop out of bundles. */
  format?: StringFormat
  const?: T
  enum?: readonly T[]
  default?: T
  minLength?: number
  maxLength?: number
  minGraphemes?: number
  maxGraphemes?: number
}

export class StringSchema<T extends string = string> extends LexSchema<T> {
  readonly type = 'string'
  readonly expects: string
  readonly default: T | undefined
  // Every constraint is an own field, set or undefined, so all string schemas share one shape and the
  // property reads in `check` stay monomorphic.
  private readonly constValue: T | undefined
  private readonly enumValues: readonly T[] | undefined
  private readonly minLength: number | undefined
  private readonly maxLength: number | undefined
  private readonly minGraphemes: number | undefined
  private readonly maxGraphemes: number | undefined
  private readonly format: StringFormat | undefined

  constructor(options: StringOptions<T>) {
    super()
    this.default = options.default
    this.constValue = options.const
    this.enumValues = options.enum
    this.minLength = options.minLength
    this.maxLength = options.maxLength
    this.minGraphemes = options.minGraphemes
    this.maxGraphemes = options.maxGraphemes
    this.format = options.format
    this.expects = options.format ? `string (${options.format.name})` : 'string'
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (typeof value !== 'string') return fail(ctx, value, this.expects, 'must be a string')
    if (this.constValue !== undefined && value !== this.constValue) {
      return fail(ctx, value, JSON.stringify(this.constValue), `must be ${JSON.stringify(this.constValue)}`)
    }
    if (this.enumValues !== undefined && !this.enumValues.includes(value as T)) {
      const choices = this.enumValues.map((e) => JSON.stringify(e))
      return fail(ctx, value, choices.join(' | '), `must be one of ${choices.join(', ')}`)
    }
    // UTF-16 length bounds the UTF-8 length (1 to 3 bytes per unit): most strings never need counting.
    const { maxLength, minLength, maxGraphemes, minGraphemes } = this
    if (maxLength !== undefined && value.length * 3 > maxLength) {
      if (value.length > maxLength || utf8Length(value) > maxLength) {
        return fail(ctx, value, this.expects, `must not be longer than ${maxLength} bytes (UTF-8)`)
      }
    }
    if (minLength !== undefined && value.length < minLength) {
      if (value.length * 3 < minLength || utf8Length(value) < minLength) {
        return fail(ctx, value, this.expects, `must not be shorter than ${minLength} bytes (UTF-8)`)
      }
    }
    // A string has at most as many graphemes as UTF-16 units, so segmenting is rarely needed.
    if (
      maxGraphemes !== undefined &&
      value.length > maxGraphemes &&
      countGraphemes(value, maxGraphemes) > maxGraphemes
    ) {
      return fail(ctx, value, this.expects, `must not be longer than ${maxGraphemes} graphemes`)
    }
    if (
      minGraphemes !== undefined &&
      (value.length < minGraphemes || countGraphemes(value, minGraphemes - 1) < minGraphemes)
    ) {
      return fail(ctx, value, this.expects, `must not be shorter than ${minGraphemes} graphemes`)
    }
    if (this.format !== undefined && !this.format.test(value)) {
      return fail(ctx, value, this.expects, `must be ${this.format.description}`)
    }
    return value as T
  }
}

export interface IntegerOptions<T extends number> {
  const?: T
  enum?: readonly T[]
  default?: T
  minimum?: number
  maximum?: number
}

export class IntegerSchema<T extends number = number> extends LexSchema<T> {
  readonly type = 'integer'
  readonly expects = 'integer'
  readonly default: T | undefined
  private readonly constValue: T | undefined
  private readonly enumValues: readonly T[] | undefined
  readonly minimum: number | undefined
  readonly maximum: number | undefined

  constructor(options: IntegerOptions<T>) {
    super()
    this.default = options.default
    this.constValue = options.const
    this.enumValues = options.enum
    this.minimum = options.minimum
    this.maximum = options.maximum
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (!Number.isInteger(value)) return fail(ctx, value, 'integer', 'must be an integer')
    const n = value as T
    if (this.constValue !== undefined && n !== this.constValue) {
      return fail(ctx, value, String(this.constValue), `must be ${this.constValue}`)
    }
    if (this.enumValues !== undefined && !this.enumValues.includes(n)) {
      return fail(ctx, value, this.enumValues.join(' | '), `must be one of ${this.enumValues.join(', ')}`)
    }
    if (this.minimum !== undefined && n < this.minimum) {
      return fail(ctx, value, `>= ${this.minimum}`, `must not be less than ${this.minimum}`)
    }
    if (this.maximum !== undefined && n > this.maximum) {
      return fail(ctx, value, `<= ${this.maximum}`, `must not be greater than ${this.maximum}`)
    }
    return n
  }
}

export interface BooleanOptions<T extends boolean> {
  const?: T
  default?: T
}

export class BooleanSchema<T extends boolean = boolean> extends LexSchema<T> {
  readonly type = 'boolean'
  readonly expects = 'boolean'
  readonly default: T | undefined

  constructor(readonly options: BooleanOptions<T>) {
    super()
    this.default = options.default
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (typeof value !== 'boolean') return fail(ctx, value, 'boolean', 'must be a boolean')
    if (this.options.const !== undefined && value !== this.options.const) {
      return fail(ctx, value, String(this.options.const), `must be ${this.options.const}`)
    }
    return value as T
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const BYTES_KEYS = new Set(['$bytes'])

export interface BytesOptions {
  minLength?: number
  maxLength?: number
}

/** Bytes in their JSON form, `{ $bytes: base64 }` (padding optional, as the data model allows), or decoded from CBOR. */
export class BytesSchema extends LexSchema<Bytes> {
  readonly type = 'bytes'
  readonly expects = '{ $bytes: base64 }'

  constructor(readonly options: BytesOptions) {
    super()
  }

  check(value: unknown, ctx: CheckContext): Bytes | Fail {
    const binary = binaryBytes(value)
    if (binary) return this.#checkSize(value, binary.length, ctx)
    const b64 = isPlainObject(value) ? value.$bytes : undefined
    if (
      typeof b64 !== 'string' ||
      !BASE64.test(b64) ||
      b64.length % 4 === 1 ||
      Object.keys(value as object).length !== 1
    ) {
      return fail(ctx, value, this.expects, 'must be bytes ({ $bytes: base64 })')
    }
    let unpadded = b64.length
    while (unpadded > 0 && b64.charCodeAt(unpadded - 1) === 61 /* = */) unpadded--
    return this.#checkSize(value, Math.floor((unpadded * 3) / 4), ctx)
  }

  #checkSize(value: unknown, size: number, ctx: CheckContext): Bytes | Fail {
    const o = this.options
    if (o.maxLength !== undefined && size > o.maxLength)
      return fail(ctx, value, this.expects, `must not be larger than ${o.maxLength} bytes`)
    if (o.minLength !== undefined && size < o.minLength)
      return fail(ctx, value, this.expects, `must not be smaller than ${o.minLength} bytes`)
    return value as Bytes
  }
}

/** A CID link in its JSON form, `{ $link: cid }`, or decoded from CBOR. */
export class CidLinkSchema extends LexSchema<CidLink> {
  readonly type = 'cid-link'
  readonly expects = '{ $link: cid }'

  check(value: unknown, ctx: CheckContext): CidLink | Fail {
    if (isCidLink(value)) return value
    return fail(ctx, value, this.expects, 'must be a CID link ({ $link: cid })')
  }
}

export interface BlobOptions {
  accept?: readonly string[]
  maxSize?: number
}

/** A blob reference: `{ $type: 'blob', ref: { $link }, mimeType, size }`, or the legacy `{ cid, mimeType }`. */
export class BlobSchema extends LexSchema<BlobRef> {
  readonly type = 'blob'
  readonly expects = 'blob'

  constructor(readonly options: BlobOptions) {
    super()
  }

  check(value: unknown, ctx: CheckContext): BlobRef | Fail {
    if (!isPlainObject(value) || typeof value.mimeType !== 'string') {
      return fail(ctx, value, 'blob', 'must be a blob reference')
    }
    // Like bytes and links, the two blob forms have exactly their own keys.
    const typed = value.$type === 'blob'
    const wellFormed = typed
      ? isCidLink(value.ref) &&
        Number.isInteger(value.size) &&
        (value.size as number) >= 0 &&
        onlyKeys(value, TYPED_BLOB_KEYS)
      : typeof value.cid === 'string' && isCid(value.cid) && onlyKeys(value, LEGACY_BLOB_KEYS)
    if (!wellFormed) return fail(ctx, value, 'blob', 'must be a blob reference')
    const { accept, maxSize } = this.options
    if (accept !== undefined && !accept.some((pattern) => mimeMatches(pattern, value.mimeType as string))) {
      return fail(ctx, value, accept.join(', '), `must be a blob of type ${accept.join(', ')}`)
    }
    if (maxSize !== undefined && typed && (value.size as number) > maxSize) {
      return fail(ctx, value, `<= ${maxSize} bytes`, `must be a blob of at most ${maxSize} bytes`)
    }
    return value as unknown as BlobRef
  }
}

/**
 * Whether a MIME type matches a lexicon `accept` pattern: a type (`image/png`), a type's subtypes
 * (`image/*`) or any type. Both halves are case-insensitive (RFC 2045): `IMAGE/PNG` is an `image/*`.
 */
export function mimeMatches(pattern: string, mimeType: string): boolean {
  if (pattern === '*/*') return true
  const type = mimeType.toLowerCase()
  const wanted = pattern.toLowerCase()
  return wanted === type || (wanted.endsWith('/*') && type.startsWith(wanted.slice(0, -1)))
}

/** `unknown`: any data-model object, but not bytes, a CID link or a blob, which are not objects in the data model. */
export class UnknownSchema extends LexSchema<UnknownObject> {
  readonly type = 'unknown'
  readonly expects = 'object'

  check(value: unknown, ctx: CheckContext): UnknownObject | Fail {
    if (!isPlainObject(value) || '$bytes' in value || '$link' in value || value.$type === 'blob') {
      return fail(ctx, value, 'object', 'must be an object')
    }
    return value
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** An object with a non-empty string `$type`: what a union member must be. */
export function hasTypeTag(value: unknown): value is Record<string, unknown> & { $type: string } {
  return isPlainObject(value) && typeof value.$type === 'string' && value.$type !== ''
}

/**
 * `{ $link: cid }` and nothing else (interop data-model: "link with extra fields" is invalid), or a
 * link in its binary form.
 */
function isCidLink(value: unknown): value is CidLink {
  if (binaryCid(value)) return true
  return isPlainObject(value) && typeof value.$link === 'string' && onlyKeys(value, LINK_KEYS) && isCid(value.$link)
}

/*
 * The binary forms of decoded DAG-CBOR (firehose frames, CAR blocks, as @atcute/cbor gives them): a
 * link over the CID's bytes, whose `$link` string is made only when read, and bytes over a
 * Uint8Array, whose `$bytes` likewise. No JSON value holds a Uint8Array, so JSON data never takes
 * these paths; the decoder has already refused a CID other than the data model's (CIDv1, dag-cbor
 * or raw, sha-256).
 */
function binaryCid(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { bytes?: unknown }).bytes instanceof Uint8Array &&
    '$link' in value
  )
}

function binaryBytes(value: unknown): Uint8Array | undefined {
  const buf = typeof value === 'object' && value !== null ? (value as { buf?: unknown }).buf : undefined
  return buf instanceof Uint8Array && '$bytes' in (value as object) ? buf : undefined
}

const LINK_KEYS = new Set(['$link'])
const TYPED_BLOB_KEYS = new Set(['$type', 'ref', 'mimeType', 'size'])
const LEGACY_BLOB_KEYS = new Set(['cid', 'mimeType'])

function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false
  return true
}
