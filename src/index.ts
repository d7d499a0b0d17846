/** blueskysdk: the AT Protocol client generated from lexicons. */
export { Client, type ClientOptions } from './client/client.js'
export { XrpcClient, type RetryOptions, type XrpcClientOptions } from './client/xrpc-client.js'
export * from './client/errors.js'
export { XRPCResponse, BinaryResponse, type ResponseInit } from './client/response.js'
export type * from './client/types.js'
export type { DeclaredError, Endpoint, HttpEndpoint, BinaryInput } from './client/endpoint.js'
export { CreateSessionResponse } from '../generated/com/atproto/server/createSession.js'
export type { ValidationIssue, ValidationResult } from './schema/core.js'
