import * as v from 'valibot'
import { isNsid } from './names.js'

/**
 * The lexicon language itself, as a valibot schema: what a lexicon document may contain
 * (atproto.com/specs/lexicon). Objects are loose so documents may carry fields newer than this
 * generator (`title:lang`, …); every `type` must be one we know.
 */

const description = v.optional(v.string())
const count = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)))
const integerValue = v.pipe(v.number(), v.integer())

export const STRING_FORMATS = [
  'at-identifier',
  'at-uri',
  'cid',
  'datetime',
  'did',
  'handle',
  'language',
  'nsid',
  'record-key',
  'tid',
  'uri',
] as const

const boolean = v.looseObject({
  type: v.literal('boolean'),
  description,
  default: v.optional(v.boolean()),
  const: v.optional(v.boolean()),
})

const integer = v.looseObject({
  type: v.literal('integer'),
  description,
  default: v.optional(integerValue),
  const: v.optional(integerValue),
  enum: v.optional(v.array(integerValue)),
  minimum: v.optional(integerValue),
  maximum: v.optional(integerValue),
})

const string = v.looseObject({
  type: v.literal('string'),
  description,
  format: v.optional(v.picklist(STRING_FORMATS)),
  default: v.optional(v.string()),
  const: v.optional(v.string()),
  enum: v.optional(v.array(v.string())),
  knownValues: v.optional(v.array(v.string())),
  minLength: count,
  maxLength: count,
  minGraphemes: count,
  maxGraphemes: count,
})

const bytes = v.looseObject({ type: v.literal('bytes'), description, minLength: count, maxLength: count })
const cidLink = v.looseObject({ type: v.literal('cid-link'), description })
const blob = v.looseObject({
  type: v.literal('blob'),
  description,
  accept: v.optional(v.array(v.string())),
  maxSize: count,
})
const unknown = v.looseObject({ type: v.literal('unknown'), description })
const token = v.looseObject({ type: v.literal('token'), description })
const ref = v.looseObject({ type: v.literal('ref'), description, ref: v.pipe(v.string(), v.minLength(1)) })
const union = v.pipe(
  v.looseObject({
    type: v.literal('union'),
    description,
    refs: v.array(v.pipe(v.string(), v.minLength(1))),
    closed: v.optional(v.boolean()),
  }),
  // Nothing could ever match it: the spec forbids it.
  v.check((u) => !(u.closed && u.refs.length === 0), 'a closed union needs at least one ref'),
)

const primitive = [boolean, integer, string, bytes, cidLink, blob, unknown] as const

// Arrays and objects nest, so their item and property schemas are lazy.
const array = v.looseObject({
  type: v.literal('array'),
  description,
  items: v.lazy(() => field),
  minLength: count,
  maxLength: count,
})

const object = v.looseObject({
  type: v.literal('object'),
  description,
  required: v.optional(v.array(v.string())),
  nullable: v.optional(v.array(v.string())),
  // Required by the spec (an empty map is fine), as by the reference parser.
  properties: v.record(
    v.string(),
    v.lazy(() => field),
  ),
})

const field: v.GenericSchema = v.variant('type', [...primitive, ref, union, array, object])

const paramValue = v.variant('type', [boolean, integer, string, unknown])
const params = v.looseObject({
  type: v.literal('params'),
  description,
  required: v.optional(v.array(v.string())),
  properties: v.optional(
    v.record(
      v.string(),
      v.variant('type', [
        ...paramValue.options,
        v.looseObject({ type: v.literal('array'), description, items: paramValue, minLength: count, maxLength: count }),
      ]),
    ),
    {},
  ),
})

const body = v.looseObject({
  description,
  encoding: v.pipe(v.string(), v.minLength(1)),
  schema: v.optional(v.variant('type', [object, ref, union])),
})

const errors = v.optional(v.array(v.looseObject({ name: v.pipe(v.string(), v.minLength(1)), description })))

const record = v.looseObject({ type: v.literal('record'), description, key: v.optional(v.string()), record: object })
const query = v.looseObject({
  type: v.literal('query'),
  description,
  parameters: v.optional(params),
  output: v.optional(body),
  errors,
})
const procedure = v.looseObject({
  type: v.literal('procedure'),
  description,
  parameters: v.optional(params),
  input: v.optional(body),
  output: v.optional(body),
  errors,
})
const subscription = v.looseObject({
  type: v.literal('subscription'),
  description,
  parameters: v.optional(params),
  // The spec: a subscription's messages are a union (of the `#commit`, `#identity`, … kinds).
  message: v.optional(v.looseObject({ description, schema: union })),
  errors,
})
const permissionSet = v.looseObject({
  type: v.literal('permission-set'),
  description,
  permissions: v.array(v.looseObject({ type: v.literal('permission'), resource: v.string() })),
})

/** Types that may only be a document's `main` def. */
export const PRIMARY_TYPES = new Set(['record', 'query', 'procedure', 'subscription', 'permission-set'])

// `ref`, `union`, `unknown` and `params` only appear inside other definitions.
const def = v.variant('type', [
  record,
  query,
  procedure,
  subscription,
  permissionSet,
  object,
  token,
  array,
  boolean,
  integer,
  string,
  bytes,
  cidLink,
  blob,
])

export const lexiconDocument = v.looseObject({
  lexicon: v.literal(1),
  id: v.pipe(v.string(), v.check(isNsid, 'must be a valid NSID')),
  revision: v.optional(integerValue),
  description,
  defs: v.record(v.pipe(v.string(), v.regex(/^[a-zA-Z][a-zA-Z0-9_]*$/, 'must be a valid def name')), def),
})

// The shapes the schema above accepts, written out: inferring them through the recursive schema
// gives TypeScript nothing useful.
interface Described {
  description?: string
}
export interface LexBoolean extends Described {
  type: 'boolean'
  default?: boolean
  const?: boolean
}
export interface LexInteger extends Described {
  type: 'integer'
  default?: number
  const?: number
  enum?: number[]
  minimum?: number
  maximum?: number
}
export interface LexString extends Described {
  type: 'string'
  format?: (typeof STRING_FORMATS)[number]
  default?: string
  const?: string
  enum?: string[]
  knownValues?: string[]
  minLength?: number
  maxLength?: number
  minGraphemes?: number
  maxGraphemes?: number
}
export interface LexBytes extends Described {
  type: 'bytes'
  minLength?: number
  maxLength?: number
}
export interface LexCidLink extends Described {
  type: 'cid-link'
}
export interface LexBlob extends Described {
  type: 'blob'
  accept?: string[]
  maxSize?: number
}
export interface LexUnknown extends Described {
  type: 'unknown'
}
export interface LexToken extends Described {
  type: 'token'
}
export interface LexRef extends Described {
  type: 'ref'
  ref: string
}
export interface LexUnion extends Described {
  type: 'union'
  refs: string[]
  closed?: boolean
}
export interface LexArray extends Described {
  type: 'array'
  items: LexField
  minLength?: number
  maxLength?: number
}
export interface LexObject extends Described {
  type: 'object'
  required?: string[]
  nullable?: string[]
  properties: { [name: string]: LexField }
}
export type LexField =
  | LexBoolean
  | LexInteger
  | LexString
  | LexBytes
  | LexCidLink
  | LexBlob
  | LexUnknown
  | LexRef
  | LexUnion
  | LexArray
  | LexObject
export interface LexParams extends Described {
  type: 'params'
  required?: string[]
  properties: { [name: string]: LexBoolean | LexInteger | LexString | LexUnknown | LexArray }
}
export interface LexBody extends Described {
  encoding: string
  schema?: LexObject | LexRef | LexUnion
}
export interface LexError extends Described {
  name: string
}
export interface LexRecord extends Described {
  type: 'record'
  key?: string
  record: LexObject
}
export interface LexQuery extends Described {
  type: 'query'
  parameters?: LexParams
  output?: LexBody
  errors?: LexError[]
}
export interface LexProcedure extends Described {
  type: 'procedure'
  parameters?: LexParams
  input?: LexBody
  output?: LexBody
  errors?: LexError[]
}
export interface LexSubscription extends Described {
  type: 'subscription'
  parameters?: LexParams
  message?: Described & { schema: LexUnion }
  errors?: LexError[]
}
export interface LexPermissionSet extends Described {
  type: 'permission-set'
  permissions: { type: 'permission'; resource: string; [key: string]: unknown }[]
}
export type LexDef =
  | LexRecord
  | LexQuery
  | LexProcedure
  | LexSubscription
  | LexPermissionSet
  | LexObject
  | LexToken
  | LexArray
  | LexBoolean
  | LexInteger
  | LexString
  | LexBytes
  | LexCidLink
  | LexBlob
export interface LexiconDocument extends Described {
  lexicon: 1
  id: string
  revision?: number
  defs: { [name: string]: LexDef }
}
