/**
 * Validation for apps: `validate(schema, value)`, the schema classes and factories (valibot and
 * Standard Schema compatible), the string-format checks and the data-model types. Published as
 * `blueskysdk/schema`; `blueskysdk/lexicons` validates by lexicon reference.
 */
export {
  array,
  blob,
  boolean,
  bytes,
  cidLink,
  integer,
  lazy,
  literal,
  object,
  record,
  string,
  union,
  unknown,
} from './runtime/schema/factories.js'
export { LexSchema, validate, type ValidationIssue, type ValidationResult } from './runtime/schema/core.js'
export {
  ArraySchema,
  LazySchema,
  LiteralSchema,
  ObjectSchema,
  RecordSchema,
  UnionSchema,
} from './runtime/schema/composites.js'
export {
  BlobSchema,
  BooleanSchema,
  BytesSchema,
  CidLinkSchema,
  IntegerSchema,
  StringSchema,
  UnknownSchema,
  type BlobOptions,
  type StringOptions,
} from './runtime/schema/primitives.js'
export {
  atIdentifierFormat,
  atUriFormat,
  cidFormat,
  datetimeFormat,
  didFormat,
  handleFormat,
  languageFormat,
  nsidFormat,
  recordKeyFormat,
  tidFormat,
  uriFormat,
  formatValidators,
  isAtIdentifier,
  isAtUri,
  isCid,
  isDatetime,
  isDid,
  isHandle,
  isLanguage,
  isNsid,
  isRecordKey,
  isTid,
  isUri,
  parseAtUri,
  type AtUri,
  type LexStringFormat,
  type StringFormat,
} from './runtime/schema/formats.js'
export { graphemeLength, utf8Length } from './runtime/schema/text.js'
export {
  blobCid,
  type $Typed,
  type BlobRef,
  type Bytes,
  type CidLink,
  type LegacyBlobRef,
  type NoParams,
  type TypedBlobRef,
  type UnknownObject,
  type UnknownTyped,
} from './runtime/schema/types.js'
