/**
 * The lean entry: `XRPCClient`, auth objects and per-endpoint descriptors, without the bundled
 * namespace tree or password sessions. `new XRPCClient({ service }).call(getProfile, { actor })`
 * pulls in only that endpoint's module.
 */
export { XRPCClient, type XRPCClientOptions } from './client/xrpc-client.js'
export { BearerAuth, noAuth, type Auth, type AuthContext } from './client/auth.js'
export type { RetryOptions } from './client/transport.js'
export { NetworkError, ResponseTooLargeError, ResponseValidationError, TimeoutError } from './client/errors.js'
export {
  BlueskySDKError,
  RateLimitError,
  UsageError,
  ValidationError,
  XRPCError,
  type RateLimit,
} from './runtime/errors.js'
export { BinaryResponse, XRPCResponse } from './runtime/response.js'
export type { DeclaredError, HttpEndpoint, LexiconSet } from './runtime/descriptors.js'
export type { Call, CallOptions, ProcedureOptions, RequestBuilder } from './runtime/calls.js'
