/**
 * Node-only pieces, kept off the main entry's browser path: the session stores for files, Redis and
 * PostgreSQL (`import { FileSessionStore } from 'blueskysdk/node'`) and the subscription cursor
 * stores for files and Redis. The Redis and PostgreSQL stores take the app's own client
 * (node-redis, pg): the SDK depends on neither.
 */
export { FileSessionStore, type FileSessionStoreOptions } from './session/file-store.js'
export { RedisSessionStore, type RedisClientLike, type RedisSessionStoreOptions } from './session/stores/redis.js'
export {
  PostgresSessionStore,
  type PostgresConnectionLike,
  type PostgresPoolLike,
  type PostgresSessionStoreOptions,
} from './session/stores/postgres.js'
export { nodeDnsTxt } from './session/node-dns.js'
export {
  FileCursorStore,
  RedisCursorStore,
  type CursorStoreOptions,
  type RedisCursorStoreOptions,
} from './session/stores/cursor.js'
