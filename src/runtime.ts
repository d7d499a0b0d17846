/**
 * Everything generated modules use, as one import (`l`): schemas and formats, response and error
 * base classes, endpoint descriptor types. Published as `blueskysdk/runtime`.
 */
export * from './schema/index.js'
export * from './client/endpoint.js'
export * from './client/errors.js'
export * from './client/response.js'
export type * from './client/types.js'
