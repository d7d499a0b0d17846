import type { SessionData } from './store.js'
import { FileBackend, type FileBackendOptions } from './stores/file.js'
import { KeyedSessionStore, type KeyedStoreOptions } from './stores/session-store.js'

export interface FileSessionStoreOptions extends KeyedStoreOptions, Pick<FileBackendOptions, 'lockLeaseMs'> {}

/**
 * Sessions in a JSON file, for the processes of one machine: keyed by DID (one file holds many
 * accounts), readable only by its owner (0600, in a directory it creates 0700), replaced by rename
 * so a crash leaves the old file or the new one, and the refresh lock a lock file beside it (see
 * FileBackend). Tokens are sealed when `encryptionKey` is given. A file of the previous release
 * (one session) is read as it is. Node only: exported from `blueskysdk/node`.
 */
export class FileSessionStore extends KeyedSessionStore {
  constructor(
    readonly path: string,
    options: FileSessionStoreOptions = {},
  ) {
    super(new FileBackend(path, { ...options, migrate: onePreviousSession }), options)
  }

  toJSON(): Record<string, unknown> {
    return { type: 'FileSessionStore', path: this.path }
  }
}

/** A file of 0.2 and earlier: one session, as the entries this store would have written for it. */
function onePreviousSession(contents: unknown): Record<string, { value: string }> | undefined {
  const session = contents as Partial<SessionData> | null
  if (typeof session?.did !== 'string' || typeof session.accessJwt !== 'string') return undefined
  const entries: Record<string, { value: string }> = {
    [`session:${session.did}`]: { value: JSON.stringify(session) },
    current: { value: session.did },
  }
  for (const alias of [session.handle, session.email])
    if (typeof alias === 'string') entries[`account:${alias.toLowerCase()}`] = { value: session.did }
  return entries
}
