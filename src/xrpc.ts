/**
 * The lean entry: `XrpcClient` and per-endpoint descriptors, without the namespace tree or sessions.
 * `new XrpcClient({ service }).call(getProfile, { actor })` pulls in only that endpoint's module.
 */
export { XrpcClient, type RetryOptions, type XrpcClientOptions } from './client/xrpc-client.js'
export * from './client/errors.js'
export { XRPCResponse, BinaryResponse, type ResponseInit } from './client/response.js'
export type * from './client/types.js'
export type { DeclaredError, Endpoint, HttpEndpoint, BinaryInput } from './client/endpoint.js'
