/**
 * The runtime under generated code, imported by every generated module as `l`: schema factories and
 * classes, string formats, data-model types, endpoint descriptor and call types, and the response and
 * error base classes. Published as `blueskysdk/runtime`. Nothing here sends a request or holds a session.
 */
export {
  array,
  blob,
  boolean,
  bytes,
  cidLink,
  createRegistry,
  integer,
  lazy,
  literal,
  object,
  record,
  string,
  union,
  unknown,
} from './schema/factories.js'
export { LexSchema, validate, type ValidationIssue, type ValidationResult } from './schema/core.js'
export { ArraySchema, LazySchema, LiteralSchema, ObjectSchema, RecordSchema, UnionSchema } from './schema/composites.js'
export {
  BlobSchema,
  BooleanSchema,
  BytesSchema,
  CidLinkSchema,
  IntegerSchema,
  StringSchema,
  UnknownSchema,
} from './schema/primitives.js'
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
  type StringFormat,
} from './schema/formats.js'
export type {
  $Typed,
  BlobRef,
  Bytes,
  CidLink,
  LegacyBlobRef,
  NoParams,
  TypedBlobRef,
  UnknownObject,
  UnknownTyped,
} from './schema/types.js'
export {
  typeGuard,
  type BinaryBody,
  type BinaryInput,
  type Body,
  type DeclaredError,
  type Endpoint,
  type ErrorClasses,
  type HttpEndpoint,
  type LexiconKind,
  type LexiconNamespace,
  type LexiconSet,
  type ProcedureEndpoint,
  type QueryEndpoint,
  type ResponseClass,
  type SubscriptionEndpoint,
} from './descriptors.js'
export type {
  AnyRecord,
  BuilderMember,
  Call,
  CallOptions,
  KnownRecords,
  ProcedureBuilder,
  ProcedureOptions,
  QueryBuilder,
  RecordOf,
  RequestBuilder,
} from './calls.js'
export { BinaryResponse, XRPCResponse, type ResponseInit } from './response.js'
export {
  AuthenticationRequiredError,
  AuthMissingError,
  BlueskySDKError,
  ExpiredTokenError,
  ForbiddenError,
  InternalServerError,
  InvalidRequestError,
  InvalidTokenError,
  MethodNotImplementedError,
  NotEnoughResourcesError,
  PayloadTooLargeError,
  RateLimitError,
  UpstreamFailureError,
  UpstreamTimeoutError,
  UsageError,
  ValidationError,
  XRPCError,
  type RateLimit,
  type XRPCErrorInit,
} from './errors.js'
