/** blueskysdk: the AT Protocol client generated from lexicons. */
export { Client, createClient, type ClientOptions, type NamespacesOf } from './session/client.js'
export { XRPCClient, type XRPCClientOptions } from './client/xrpc-client.js'
export { BearerAuth, noAuth, type Auth, type AuthContext } from './client/auth.js'
export type { RetryOptions } from './client/transport.js'
export { NetworkError, ResponseTooLargeError, ResponseValidationError, TimeoutError } from './client/errors.js'
export {
  PasswordSession,
  type AuthenticateOptions,
  type PasswordSessionOptions,
  type SessionEvent,
  type SessionOptions,
} from './session/password-session.js'
export { OAuthSessionAuth, OAuthSessionError, type OAuthSessionLike } from './session/oauth.js'
export {
  DidDocumentInvalidError,
  DidNotFoundError,
  HandleConflictError,
  HandleMismatchError,
  HandleNotFoundError,
  IdentityResolver,
  type DidDocument,
  type Identity,
  type IdentityResolverOptions,
} from './session/identity.js'
export { pdsOf } from './session/did-doc.js'
export { OAuthScope, oauthScope, type RecordCollection, type RepoAction } from './client/oauth-scope.js'
/** The lexicon set bundled with the SDK (what every `Client` knows): for `OAuthScope#check` and `createClient({ lexicons })`. */
export { lexicons as bundledLexicons } from '../generated/client.js'
export { AuthenticationError, SessionStoreError, type SessionStoreOperation } from './session/errors.js'
export { MemorySessionStore, type SessionData, type SessionStore } from './session/store.js'
export { KeyedSessionStore, type KeyedStoreOptions } from './session/stores/session-store.js'
export type { KeyValueBackend, LockOptions } from './session/stores/backend.js'
export { LockTimeoutError } from './session/stores/errors.js'
export type { OAuthStores, OAuthStoreOptions, SimpleStore } from './session/stores/oauth.js'
export { CreateSessionResponse } from '../generated/com/atproto/server/createSession.js'
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
} from './runtime/errors.js'
export { BinaryResponse, XRPCResponse } from './runtime/response.js'
export type {
  BinaryInput,
  DeclaredError,
  HttpEndpoint,
  LexiconSet,
  ProcedureEndpoint,
  QueryEndpoint,
  SubscriptionEndpoint,
} from './runtime/descriptors.js'
export type {
  Call,
  CallOptions,
  KnownRecords,
  ProcedureBuilder,
  ProcedureOptions,
  QueryBuilder,
  RecordOf,
  RequestBuilder,
} from './runtime/calls.js'
export type { ValidationIssue, ValidationResult } from './runtime/schema/core.js'
export { parseAtUri, type AtUri } from './runtime/schema/formats.js'
export {
  bskyFacade,
  BskyFacade,
  PostInputError,
  type PostOptions,
  type StrongRef,
  type ImageInput,
  type VideoInput,
  type ExternalInput,
} from './facade/facade.js'
export { paginate, type PaginateOptions } from './facade/paginate.js'
export {
  InvalidMessageError,
  isRecordWrite,
  MemoryCursorStore,
  type CursorStore,
  type ReconnectEvent,
  type ReconnectOptions,
  type RecordDelete,
  type RecordWrite,
  type RecordWriteOf,
  type RepoOperation,
  type SignatureChecker,
  LabelVerificationError,
  RepoVerificationError,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionMessage,
  type SubscriptionStats,
  type WebSocketConstructor,
  type WebSocketLike,
} from './runtime/subscription.js'
export { RichText, detectFacets, checkPostText, PostTextTooLongError, type Facet } from './facade/rich-text.js'
