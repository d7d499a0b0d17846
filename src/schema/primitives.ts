import { type CheckContext, type Fail, fail, LexSchema } from './core.js'
import { isCid, type LexStringFormat, formatValidators } from './formats.js'
import { graphemeLength, utf8Length } from './text.js'
import type { BlobRef, Bytes, CidLink, UnknownObject } from './types.js'

/** Schemas for the lexicon's primitive types. Messages never quote the value: it may be a secret. */

const FORMAT_NAMES: Record<LexStringFormat, string> = {
  did: 'a valid DID',
  handle: 'a valid handle',
  'at-identifier': 'a valid handle or DID',
  nsid: 'a valid NSID',
  'at-uri': 'a valid AT URI',
  cid: 'a valid CID',
  datetime: 'a valid datetime (RFC 3339, with timezone)',
  language: 'a valid BCP 47 language tag',
  tid: 'a valid TID',
  'record-key': 'a valid record key',
  uri: 'a valid URI',
}

export interface StringOptions<T extends string> {
  format?: LexStringFormat
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
  private readonly isFormat: ((value: string) => boolean) | undefined

  constructor(readonly options: StringOptions<T>) {
    super()
    this.default = options.default
    this.isFormat = options.format && formatValidators[options.format]
    this.expects = options.format ? `string (${options.format})` : 'string'
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (typeof value !== 'string') return fail(ctx, value, this.expects, 'must be a string')
    const o = this.options
    if (o.const !== undefined && value !== o.const) return fail(ctx, value, JSON.stringify(o.const), `must be ${JSON.stringify(o.const)}`)
    if (o.enum !== undefined && !o.enum.includes(value as T)) {
      return fail(ctx, value, o.enum.join(' | '), `must be one of ${o.enum.map((e) => JSON.stringify(e)).join(', ')}`)
    }
    // UTF-16 length bounds the UTF-8 length (1 to 3 bytes per unit): most strings never need counting.
    if (o.maxLength !== undefined && value.length * 3 > o.maxLength) {
      if (value.length > o.maxLength || utf8Length(value) > o.maxLength) {
        return fail(ctx, value, this.expects, `must not be longer than ${o.maxLength} bytes (UTF-8)`)
      }
    }
    if (o.minLength !== undefined && value.length < o.minLength) {
      if (value.length * 3 < o.minLength || utf8Length(value) < o.minLength) {
        return fail(ctx, value, this.expects, `must not be shorter than ${o.minLength} bytes (UTF-8)`)
      }
    }
    // A string has at most as many graphemes as UTF-16 units, so segmenting is rarely needed.
    if (o.maxGraphemes !== undefined && value.length > o.maxGraphemes && graphemeLength(value) > o.maxGraphemes) {
      return fail(ctx, value, this.expects, `must not be longer than ${o.maxGraphemes} graphemes`)
    }
    if (o.minGraphemes !== undefined && (value.length < o.minGraphemes || graphemeLength(value) < o.minGraphemes)) {
      return fail(ctx, value, this.expects, `must not be shorter than ${o.minGraphemes} graphemes`)
    }
    if (this.isFormat !== undefined && !this.isFormat(value)) {
      return fail(ctx, value, this.expects, `must be ${FORMAT_NAMES[o.format!]}`)
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

  constructor(readonly options: IntegerOptions<T>) {
    super()
    this.default = options.default
  }

  check(value: unknown, ctx: CheckContext): T | Fail {
    if (!Number.isInteger(value)) return fail(ctx, value, 'integer', 'must be an integer')
    const o = this.options
    const n = value as T
    if (o.const !== undefined && n !== o.const) return fail(ctx, value, String(o.const), `must be ${o.const}`)
    if (o.enum !== undefined && !o.enum.includes(n)) return fail(ctx, value, o.enum.join(' | '), `must be one of ${o.enum.join(', ')}`)
    if (o.minimum !== undefined && n < o.minimum) return fail(ctx, value, `>= ${o.minimum}`, `must not be less than ${o.minimum}`)
    if (o.maximum !== undefined && n > o.maximum) return fail(ctx, value, `<= ${o.maximum}`, `must not be greater than ${o.maximum}`)
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

export interface BytesOptions {
  minLength?: number
  maxLength?: number
}

/** Bytes in their JSON form, `{ $bytes: base64 }` (padding optional, as the data model allows). */
export class BytesSchema extends LexSchema<Bytes> {
  readonly type = 'bytes'
  readonly expects = '{ $bytes: base64 }'

  constructor(readonly options: BytesOptions) {
    super()
  }

  check(value: unknown, ctx: CheckContext): Bytes | Fail {
    const b64 = isPlainObject(value) ? value.$bytes : undefined
    if (typeof b64 !== 'string' || !BASE64.test(b64) || b64.length % 4 === 1 || Object.keys(value as object).length !== 1) {
      return fail(ctx, value, this.expects, 'must be bytes ({ $bytes: base64 })')
    }
    let unpadded = b64.length
    while (unpadded > 0 && b64.charCodeAt(unpadded - 1) === 61 /* = */) unpadded--
    const size = Math.floor((unpadded * 3) / 4)
    const o = this.options
    if (o.maxLength !== undefined && size > o.maxLength) return fail(ctx, value, this.expects, `must not be larger than ${o.maxLength} bytes`)
    if (o.minLength !== undefined && size < o.minLength) return fail(ctx, value, this.expects, `must not be smaller than ${o.minLength} bytes`)
    return value as Bytes
  }
}

/** A CID link in its JSON form, `{ $link: cid }`. */
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
    const typed = value.$type === 'blob'
    if (typed ? !isCidLink(value.ref) || !Number.isInteger(value.size) || (value.size as number) < 0 : typeof value.cid !== 'string' || !isCid(value.cid)) {
      return fail(ctx, value, 'blob', 'must be a blob reference')
    }
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

function mimeMatches(pattern: string, mimeType: string): boolean {
  if (pattern === '*/*' || pattern === mimeType) return true
  return pattern.endsWith('/*') && mimeType.startsWith(pattern.slice(0, -1))
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

function isCidLink(value: unknown): value is CidLink {
  return isPlainObject(value) && typeof value.$link === 'string' && isCid(value.$link)
}
