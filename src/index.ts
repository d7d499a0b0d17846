/** blueskysdk: the AT Protocol client generated from lexicons. */
export { Client, type ClientOptions } from './client/client.js'
export { XrpcClient, type RetryOptions, type XrpcClientOptions } from './client/xrpc-client.js'
export * from './client/errors.js'
export { XRPCResponse, BinaryResponse, type ResponseInit } from './client/response.js'
export type * from './client/types.js'
export type { DeclaredError, Endpoint, HttpEndpoint, BinaryInput } from './client/endpoint.js'
export { CreateSessionResponse } from '../generated/com/atproto/server/createSession.js'
export type { ValidationIssue, ValidationResult } from './schema/core.js'
export { MemorySessionStore, FileSessionStore, type SessionStore, type SessionData } from './session/store.js'
export type { SessionEvent, SessionOptions } from './session/session.js'
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
export { RichText, detectFacets, checkPostText, PostTextTooLongError, type Facet } from './facade/rich-text.js'
