/**
 * ky, the one module a client imports with its first request rather than at start-up: ky probes the
 * platform's `Request` when it is imported, which on Node initializes the whole fetch
 * implementation (~25 ms) that a program making no request yet should not wait for (the first
 * request pays it anyway). Only ky is here, so that in a code-split bundle this chunk is ky alone
 * and the client's own code stays in the chunks it shares with the rest of the SDK.
 */
export { default as ky } from 'ky'
